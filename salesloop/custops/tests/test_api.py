"""The customer-operations API: what each role sees, bad input, exports."""

import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone

from salesloop.custops.models import AccountPlan, CustomerNeed, NeedTag
from salesloop.custops.services import scoring_run_create
from salesloop.custops.tests.factories import AccountPlanFactory, CustomerNeedFactory, orders
from salesloop.testing.factories import AccountFactory, ContactFactory

TODAY = None


def today():
    return timezone.localdate()


@pytest.fixture
def books(org):
    """A high-value account for rep_a1, a slipping one for rep_a2 and one for rep_b1 (team B)."""
    t = today()
    a1 = AccountFactory(owner=org.rep_a1, name="甲客户")
    orders(a1, *[(t - dt.timedelta(days=d), "20000.00") for d in (100, 60, 20)])
    a2 = AccountFactory(owner=org.rep_a2, name="乙客户")
    orders(a2, *[(t - dt.timedelta(days=40 + 10 * k), "8000.00") for k in range(5)])
    b1 = AccountFactory(owner=org.rep_b1, name="丙客户")
    orders(b1, (t - dt.timedelta(days=200), "5000.00"))
    scoring_run_create(as_of=t)
    return {"a1": a1, "a2": a2, "b1": b1}


def test_segment_distribution_counts_only_the_callers_accounts(org, api_as, books):
    rep = api_as(org.rep_a1).get("/api/custops/segments").json()
    manager = api_as(org.manager_a).get("/api/custops/segments").json()
    director = api_as(org.director).get("/api/custops/segments").json()

    def counts(body):
        return {s["code"]: s["accounts"] for s in body["segments"] if s["accounts"]}

    assert counts(rep) == {"high_value": 1}
    assert counts(manager) == {"high_value": 1, "other": 1}
    assert counts(director) == {"high_value": 1, "other": 1, "dormant": 1}
    assert [s["code"] for s in director["segments"]][0] == "high_value"  # most valuable first


def test_unknown_scheme_is_a_field_error(org, api_as, books):
    response = api_as(org.manager_a).get("/api/custops/segments?scheme=abc")

    assert response.status_code == 422
    assert "scheme" in response.json()["errors"]


def test_movements_of_this_month_list_who_moved_and_which_way(org, api_as, books):
    t = today()
    orders(books["a1"], (t - dt.timedelta(days=1), "1.00"))  # still high value: no move
    scoring_run_create(
        as_of=t + dt.timedelta(days=15)
    )  # a1's last order is 16 days old now: still high
    scoring_run_create(as_of=t + dt.timedelta(days=40))  # a1 drops out of high value

    body = (
        api_as(org.manager_a)
        .get(f"/api/custops/segments/movements?month={(t + dt.timedelta(days=40)):%Y-%m}")
        .json()
    )

    moved = {(m["account_id"], m["from_code"], m["to_code"], m["direction"]) for m in body["moves"]}
    assert (books["a1"].pk, "high_value", "other", -1) in moved
    assert body["down"] >= 1
    assert all(m["account_id"] != books["b1"].pk for m in body["moves"])


def test_call_list_gives_reasons_and_a_lead_may_ask_for_a_team_member(org, api_as, books):
    ContactFactory(
        account=books["a2"],
        is_decision_maker=True,
        name="李总",
        birthday=today() - dt.timedelta(days=365 * 40 - 2),
    )

    own = api_as(org.rep_a2).get("/api/custops/call-list").json()
    by_manager = api_as(org.manager_a).get(f"/api/custops/call-list?owner_id={org.rep_a2.pk}")
    refused = api_as(org.rep_a1).get(f"/api/custops/call-list?owner_id={org.rep_a2.pk}")

    (item,) = own["items"]
    codes = {r["code"] for r in item["reasons"]}
    assert item["account_id"] == books["a2"].pk
    assert "churn" in codes  # 40 days silent, usually every 10
    assert (
        by_manager.status_code == 200
        and by_manager.json()["items"][0]["account_id"] == books["a2"].pk
    )
    assert refused.status_code == 422


def test_at_risk_list_shows_value_at_risk_to_leaders_of_that_book_only(org, api_as, books):
    manager = api_as(org.manager_a).get("/api/custops/at-risk").json()
    lead_b = api_as(org.lead_b1).get("/api/custops/at-risk").json()
    marketing = api_as(org.marketing).get("/api/custops/at-risk").json()

    assert [i["account_id"] for i in manager["items"]] == [books["a2"].pk]
    assert manager["items"][0]["flag_gap"] is True
    assert lead_b["count"] == 0 and marketing["count"] == 0


def test_needs_are_captured_with_normalised_tags_and_a_competitor_needs_a_name(org, api_as, books):
    client = api_as(org.rep_a1)

    created = client.post_json(
        "/api/needs",
        {
            "account_id": books["a1"].pk,
            "kind": "pain_point",
            "summary": "多终端协同",
            "tags": ["多终端协同", " 多终端协同 ", "ＡＰＩ"],
        },
    )
    missing = client.post_json(
        "/api/needs", {"account_id": books["a1"].pk, "kind": "competitor", "summary": "降价"}
    )
    bad_tags = client.post_json(
        "/api/needs",
        {"account_id": books["a1"].pk, "kind": "latent", "summary": "x", "tags": "a" * 50},
    )

    assert created.status_code == 201, created.content
    assert created.json()["tags"] == ["多终端协同", "api"]
    assert set(
        NeedTag.objects.filter(need_id=created.json()["id"]).values_list("tag", flat=True)
    ) == {"多终端协同", "api"}
    assert missing.status_code == 422 and "competitor" in missing.json()["errors"]
    assert bad_tags.status_code == 422 and "tags" in bad_tags.json()["errors"]
    assert CustomerNeed.objects.count() == 1


def test_an_account_plan_with_a_bad_stakeholder_is_refused_naming_the_entry(org, api_as, books):
    client = api_as(org.rep_a1)
    body = {
        "account_id": books["a1"].pk,
        "tier": "strategic",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "revenue_goal": "800000.00",
        "goals": "续约",
        "stakeholders": [
            {"name": "王总", "role": "decision_maker", "stance": "supporter", "influence": 5},
            {"name": "", "role": "boss", "stance": "supporter", "influence": 9},
        ],
        "next_steps": [{"action": "高层拜访", "due_date": "2025-13-01"}],
    }

    response = client.post_json("/api/account-plans", body)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {
        "stakeholders.1.name",
        "stakeholders.1.role",
        "stakeholders.1.influence",
        "next_steps.0.due_date",
    } <= set(errors)
    assert AccountPlan.objects.count() == 0


def test_a_plan_step_due_this_week_is_on_the_call_list(org, api_as, books):
    AccountPlanFactory(
        account=books["a1"],
        next_steps=[
            {
                "action": "高层拜访",
                "due_date": (today() + dt.timedelta(days=2)).isoformat(),
                "done": False,
            }
        ],
    )

    body = api_as(org.rep_a1).get("/api/custops/call-list").json()

    reasons = [r for i in body["items"] for r in i["reasons"]]
    assert any(r["code"] == "plan_step" and "高层拜访" in r["text"] for r in reasons)


def test_tier_proposals_and_accepting_one_is_versioned(org, api_as, books):
    client = api_as(org.manager_a)
    proposals = client.get("/api/custops/tier-proposals").json()
    item = next(p for p in proposals["items"] if p["account_id"] == books["a1"].pk)
    books["a1"].refresh_from_db()

    accepted = client.post_json(
        f"/api/custops/accounts/{books['a1'].pk}/tier",
        {"tier": item["proposed_tier"], "version": books["a1"].version},
    )
    stale = client.post_json(
        f"/api/custops/accounts/{books['a1'].pk}/tier",
        {"tier": "growth", "version": books["a1"].version},
    )
    foreign = client.post_json(
        f"/api/custops/accounts/{books['b1'].pk}/tier", {"tier": "growth", "version": 1}
    )
    bad = client.post_json(
        f"/api/custops/accounts/{books['a1'].pk}/tier",
        {"tier": "gold", "version": books["a1"].version + 1},
    )

    assert {p["account_id"] for p in proposals["items"]} == {books["a1"].pk, books["a2"].pk}
    assert (
        accepted.status_code == 200 and accepted.json()["key_account_tier"] == item["proposed_tier"]
    )
    assert stale.status_code == 409
    assert foreign.status_code == 404
    assert bad.status_code == 422


def test_only_directors_and_admin_recompute(org, api_as, books):
    assert api_as(org.manager_a).post_json("/api/custops/recompute", {}).status_code == 403
    response = api_as(org.director).post_json("/api/custops/recompute", {})
    assert response.status_code == 200
    assert response.json()["accounts"] == 3


def test_account_view_gives_guidance_for_a_state_owned_rational_customer(org, api_as):
    account = AccountFactory(owner=org.rep_a1, tags=["国企"], decision_style="rational")

    body = api_as(org.rep_a1).get(f"/api/custops/accounts/{account.pk}").json()
    hidden = api_as(org.rep_a2).get(f"/api/custops/accounts/{account.pk}")

    texts = " ".join(g["text"] for g in body["guidance"])
    assert "合规" in texts and "数据" in texts
    assert hidden.status_code == 404


def test_weekly_needs_report_counts_tags_values_them_and_exports(org, api_as, books):
    now = timezone.now()
    CustomerNeedFactory(
        account=books["a1"], tags=["多终端协同"], quote="需要手机和电脑同步", captured_at=now
    )
    CustomerNeedFactory(account=books["a2"], tags=["多终端协同", "报表"], captured_at=now)
    CustomerNeedFactory(account=books["a2"], tags=["报表"], captured_at=now - dt.timedelta(days=30))
    CustomerNeedFactory(
        account=books["b1"], tags=["价格"], captured_at=now
    )  # team B: not the manager's
    client = api_as(org.manager_a)

    body = client.get("/api/custops/needs-report").json()
    xlsx = client.get("/api/custops/needs-report?format=xlsx")
    pdf = client.get("/api/custops/needs-report?format=pdf")
    bad = client.get("/api/custops/needs-report?week=2025-W99")

    top = {r["tag"]: r for r in body["top_by_count"]}
    assert set(top) == {"多终端协同", "报表"}
    assert (top["多终端协同"]["needs"], top["多终端协同"]["accounts"]) == (2, 2)
    assert top["多终端协同"]["revenue"] == "100000.00"  # 60,000 (甲) + 40,000 (乙)
    assert [r["tag"] for r in body["new_tags"]] == ["多终端协同"]  # 报表 was heard last month
    assert top["多终端协同"]["quotes"][0]["quote"]
    assert xlsx.status_code == 200 and zipfile.is_zipfile(io.BytesIO(xlsx.content))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert bad.status_code == 422


def test_marketing_reads_every_need_but_writes_none(org, api_as, books):
    need = CustomerNeedFactory(account=books["b1"])
    client = api_as(org.marketing)

    assert client.get(f"/api/needs/{need.pk}").status_code == 200
    assert (
        client.post_json(
            "/api/needs", {"account_id": books["b1"].pk, "kind": "latent", "summary": "x"}
        ).status_code
        == 403
    )
