"""The commit API end to end: the call sheet, categories, submitting, the team roll-up, adjusting."""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.forecasting.models import Adjustment, Category, DealCategory, Submission
from salesloop.pipeline.models import LossReason
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage

pytestmark = pytest.mark.django_db

BASE = "/api/forecasts/commit"
START, END = "2026-01-01", "2026-03-31"
PERIOD = f"period_start={START}&period_end={END}"


def deal(owner, amount, code="proposal", closed_at=None, name=None):
    return OpportunityFactory(
        account=AccountFactory(owner=owner),
        name=name or f"deal {amount}",
        amount=Decimal(amount),
        stage=stage(code),
        expected_close_date=dt.date(2026, 2, 10),
        closed_at=closed_at,
        loss_reason=LossReason.objects.first() if code == "lost" else None,
    )


def put_category(client, opp, category, version=None):
    body = {"category": category} if version is None else {"category": category, "version": version}
    return client.put(f"{BASE}/deals/{opp.pk}/category", data=body, content_type="application/json")


def test_a_rep_categorises_deals_and_sees_cumulative_rollups_on_the_sheet(org, api_as):
    rep = api_as(org.rep_a1)
    won = deal(org.rep_a1, "100", code="won", closed_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    committed, best = deal(org.rep_a1, "200"), deal(org.rep_a1, "300")
    deal(org.rep_a1, "400", code="lost", closed_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))

    assert put_category(rep, committed, "commit").json()["category"] == "commit"
    assert put_category(rep, best, "best_case").status_code == 200
    sheet = rep.get(f"{BASE}/sheet?{PERIOD}").json()

    assert sheet["totals"] == {"closed": "100.00", "commit": "300.00", "best_case": "600.00", "pipeline": "600.00"}
    by_id = {d["id"]: d for d in sheet["deals"]}
    assert set(by_id) == {won.pk, committed.pk, best.pk}  # the lost deal is not on the sheet
    assert by_id[won.pk]["category"] == "closed" and not by_id[won.pk]["editable"]
    assert by_id[committed.pk]["editable"] and by_id[committed.pk]["category_version"] == 1
    assert sheet["can_submit"] is True


def test_category_errors_are_422_field_errors_and_a_stale_version_is_409(org, api_as):
    rep = api_as(org.rep_a1)
    lost = deal(org.rep_a1, "1", code="lost")
    won = deal(org.rep_a1, "2", code="won")
    open_deal = deal(org.rep_a1, "3")

    for opp, category in ((lost, "commit"), (won, "pipeline"), (open_deal, "closed"), (open_deal, "bogus")):
        response = put_category(rep, opp, category)
        assert response.status_code == 422, (opp, category)
        assert "category" in response.json()["errors"]
    assert put_category(rep, open_deal, "x" * 50).status_code == 422
    first = put_category(rep, open_deal, "commit").json()
    assert put_category(rep, open_deal, "omitted", version=first["category_version"]).status_code == 200
    stale = put_category(rep, open_deal, "pipeline", version=first["category_version"])
    assert stale.status_code == 409
    assert DealCategory.objects.get(opportunity=open_deal).category == Category.OMITTED


def test_submitting_validates_input_and_each_submission_is_kept(org, api_as):
    rep = api_as(org.rep_a1)
    deal(org.rep_a1, "500")

    bad = [
        ({"period_start": START, "period_end": END, "amount": "-1"}, "amount"),
        ({"period_start": END, "period_end": START, "amount": "1"}, "period_end"),
        ({"period_start": "2026-02-30", "period_end": END, "amount": "1"}, "period_start"),
        ({"period_start": START, "period_end": END, "amount": "lots"}, "amount"),
        ({"period_start": START, "period_end": END}, "amount"),
    ]
    for body, field in bad:
        response = rep.post_json(f"{BASE}/submissions", body)
        assert response.status_code == 422, body
        assert field in response.json()["errors"], (body, response.json())

    first = rep.post_json(f"{BASE}/submissions", {"period_start": START, "period_end": END, "amount": "450"})
    second = rep.post_json(
        f"{BASE}/submissions", {"period_start": START, "period_end": END, "amount": "480", "note": "更稳"}
    )

    assert first.status_code == second.status_code == 201
    assert first.json()["pipeline_amount"] == "500.00"
    history = rep.get(f"{BASE}/sheet?{PERIOD}").json()["history"]
    assert [(h["amount"], h["note"]) for h in history] == [("480.00", "更稳"), ("450.00", "")]


def test_the_team_view_shows_each_rep_submitted_adjusted_and_who_adjusted_why(org, api_as):
    deal(org.rep_a1, "1000")
    deal(org.rep_a1b, "50")
    rep = api_as(org.rep_a1)
    sub = rep.post_json(f"{BASE}/submissions", {"period_start": START, "period_end": END, "amount": "900"}).json()
    lead, manager = api_as(org.lead_a1), api_as(org.manager_a)

    assert (
        lead.post_json(
            f"{BASE}/submissions/{sub['id']}/adjustments", {"amount": "700", "reason": "预算未批"}
        ).status_code
        == 201
    )
    missing = manager.post_json(f"{BASE}/submissions/{sub['id']}/adjustments", {"amount": "600", "reason": " "})
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    assert (
        manager.post_json(
            f"{BASE}/submissions/{sub['id']}/adjustments", {"amount": "600", "reason": "保守"}
        ).status_code
        == 201
    )

    as_lead = lead.get(f"{BASE}/team?{PERIOD}").json()
    as_manager = manager.get(f"{BASE}/team?team_id={org.group_a1.pk}&{PERIOD}").json()

    assert as_lead["scope_name"] == org.group_a1.name
    row = next(r for r in as_lead["reps"] if r["owner_id"] == org.rep_a1.pk)
    assert (row["submitted"], row["adjusted"], row["can_adjust"]) == ("900.00", "700.00", True)
    assert [(a["adjusted_by_name"], a["reason"]) for a in row["submission"]["adjustments"]] == [
        (str(org.manager_a), "保守"),
        (str(org.lead_a1), "预算未批"),
    ]
    quiet = next(r for r in as_lead["reps"] if r["owner_id"] == org.rep_a1b.pk)
    assert quiet["submission"] is None and quiet["totals"]["pipeline"] == "50.00"
    assert as_lead["rollup"]["submitted"] == "900.00" and as_lead["rollup"]["adjusted"] == "700.00"
    assert as_manager["rollup"]["adjusted"] == "600.00"
    assert (as_manager["rollup"]["reps_submitted"], as_manager["rollup"]["reps_total"]) == (1, 2)
    assert Submission.objects.get().amount == Decimal("900")
    assert Adjustment.objects.count() == 2


def test_admin_sees_the_whole_company_by_default(org, api_as):
    deal(org.rep_b1, "10")
    deal(org.rep_a2, "20")

    body = api_as(org.admin).get(f"{BASE}/team?{PERIOD}").json()

    assert body["scope_kind"] == "company"
    assert body["rollup"]["pipeline"] == "30.00"


def test_the_team_view_costs_a_bounded_number_of_queries(org, api_as, django_assert_max_num_queries):
    for who in (org.rep_a1, org.rep_a1b, org.rep_a2, org.lead_a1):
        deal(who, "10")
        api_as(who).post_json(f"{BASE}/submissions", {"period_start": START, "period_end": END, "amount": "5"})
    director = api_as(org.director)

    with django_assert_max_num_queries(15):
        response = director.get(f"{BASE}/team?{PERIOD}")

    assert response.status_code == 200
    assert response.json()["rollup"]["reps_submitted"] == 4


def test_without_a_period_the_current_fiscal_quarter_is_used(org, api_as):
    body = api_as(org.rep_a1).get(f"{BASE}/sheet").json()

    start, end = dt.date.fromisoformat(body["period_start"]), dt.date.fromisoformat(body["period_end"])
    assert start.day == 1 and (end - start).days in range(89, 93)
