"""The targets API: who may see and set what (role by role), and each endpoint end to end."""

import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from salesloop.targets.models import Target
from salesloop.targets.tests.factories import TargetFactory, local, visits, won_deal

Q3 = dt.date(2025, 7, 1)

# Hand-written from the rule (issue #5): a rep reads their own and their team's targets; leads
# and managers their subtree; directors and admin everything; support roles nothing.
VISIBLE = {
    "rep_a1": {"own_rep", "group_a1"},
    "lead_a1": {"own_rep", "rep_a1b", "group_a1"},
    "manager_a": {"own_rep", "rep_a1b", "group_a1", "group_a2", "team_a"},
    "director": {"own_rep", "rep_a1b", "group_a1", "group_a2", "team_a", "team_b", "company"},
    "admin": {"own_rep", "rep_a1b", "group_a1", "group_a2", "team_a", "team_b", "company"},
    "finance": set(),
    "marketing": set(),
}
# Who may set a team target (201) and who not (403) for each team.
MAY_SET = {
    "rep_a1": {"group_a1": 403, "team_b": 403},
    "lead_a1": {"group_a1": 201, "team_b": 403},
    "manager_a": {"group_a1": 201, "team_b": 403},
    "director": {"group_a1": 201, "team_b": 201},
    "finance": {"group_a1": 403, "team_b": 403},
    "admin": {"group_a1": 201, "team_b": 201},
}


def _targets(org):
    def make(**kw):
        return TargetFactory(period_start=Q3, **kw)

    return {
        "own_rep": make(rep=org.rep_a1, team=org.group_a1),
        "rep_a1b": make(rep=org.rep_a1b, team=org.group_a1),
        "group_a1": make(team=org.group_a1),
        "group_a2": make(team=org.group_a2),
        "team_a": make(team=org.team_a),
        "team_b": make(team=org.team_b),
        "company": make(team=org.company),
    }


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_role_lists_exactly_the_targets_the_rule_allows(org, api_as, who):
    targets = _targets(org)
    names = {t.pk: name for name, t in targets.items()}
    response = api_as(getattr(org, who)).get("/api/targets?page_size=200")
    assert response.status_code == 200
    assert {names[i["id"]] for i in response.json()["items"]} == VISIBLE[who]
    hidden = set(targets) - VISIBLE[who]
    for name in hidden:  # ids do not leak: 404, not 403
        assert api_as(getattr(org, who)).get(f"/api/targets/{targets[name].pk}").status_code == 404


@pytest.mark.parametrize("who", sorted(MAY_SET))
def test_each_role_may_set_targets_only_inside_their_subtree(org, api_as, who):
    client = api_as(getattr(org, who))
    for team_name, want in MAY_SET[who].items():
        body = {
            "metric": "revenue",
            "period_kind": "quarter",
            "period_start": "2025-07-01",
            "team_id": getattr(org, team_name).pk,
            "amount": "1000.00",
        }
        response = client.post_json("/api/targets", body)
        assert response.status_code == want, (team_name, response.json())
    assert Target.objects.count() == sum(1 for v in MAY_SET[who].values() if v == 201)


def test_a_rep_reads_but_cannot_change_their_decided_target(org, api_as):
    target = TargetFactory(period_start=Q3, rep=org.rep_a1, team=org.group_a1)
    response = api_as(org.rep_a1).patch_json(f"/api/targets/{target.pk}", {"amount": "1.00", "version": 1})
    assert response.status_code == 403


def test_a_stale_patch_gets_409(org, api_as):
    target = TargetFactory(period_start=Q3, team=org.team_a)
    client = api_as(org.manager_a)
    assert client.patch_json(f"/api/targets/{target.pk}", {"note": "a", "version": 1}).status_code == 200
    response = client.patch_json(f"/api/targets/{target.pk}", {"note": "b", "version": 1})
    assert response.status_code == 409 and response.json()["current"]["id"] == target.pk


def test_bad_input_is_a_422_with_field_errors_never_a_500(org, api_as):
    client = api_as(org.manager_a)
    cases = [
        {"metric": "nope", "period_kind": "quarter", "period_start": "2025-07-01", "amount": "1"},
        {
            "metric": "visits",
            "period_kind": "quarter",
            "period_start": "2025-07-01",
            "amount": "1.5",
            "team_id": org.team_a.pk,
        },
        {"metric": "revenue", "period_kind": "fortnight", "period_start": "2025-07-01", "amount": "1"},
        {"metric": "revenue", "period_kind": "quarter", "period_start": "not a date", "amount": "1"},
        {
            "metric": "revenue",
            "period_kind": "quarter",
            "period_start": "2025-07-01",
            "amount": "-5",
            "team_id": org.team_a.pk,
        },
        {"metric": "revenue", "period_kind": "quarter", "period_start": "2025-07-01", "amount": "1"},
    ]
    for body in cases:
        response = client.post_json("/api/targets", body)
        assert response.status_code == 422, body
        assert response.json()["errors"], body
    assert Target.objects.count() == 0


def test_submit_then_approve_over_the_api(org, api_as):
    body = {"metric": "visits", "period_kind": "week", "period_start": "2025-07-09", "amount": "60"}
    sub = api_as(org.rep_a1).post_json("/api/targets/submissions", body).json()
    assert (sub["status"], sub["period_start"], sub["rep_id"]) == ("submitted", "2025-07-07", org.rep_a1.pk)
    decided = api_as(org.lead_a1).post_json(f"/api/targets/{sub['id']}/decision", {"approve": True, "version": 1})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"


def test_set_a_quarter_target_then_decompose_to_reps_and_days(org, api_as):
    client = api_as(org.lead_a1)
    created = client.post_json(
        "/api/targets",
        {
            "metric": "revenue",
            "period_kind": "quarter",
            "period_start": "2025-07-01",
            "team_id": org.group_a1.pk,
            "amount": "1000000.00",
        },
    ).json()
    preview = client.post_json(
        f"/api/targets/{created['id']}/decompose", {"axis": "members", "to": "reps", "preview": True}
    ).json()
    assert preview["preview"] and not preview["created"]
    assert sum(Decimal(p["amount"]) for p in preview["parts"]) == Decimal("1000000.00")
    done = client.post_json(f"/api/targets/{created['id']}/decompose", {"axis": "members", "to": "reps"}).json()
    assert {c["rep_id"] for c in done["created"]} == {org.rep_a1.pk, org.rep_a1b.pk}
    rep_target = next(c for c in done["created"] if c["rep_id"] == org.rep_a1.pk)
    months = client.post_json(
        f"/api/targets/{rep_target['id']}/decompose", {"axis": "periods", "period_kind": "month"}
    ).json()["created"]
    days = client.post_json(
        f"/api/targets/{months[0]['id']}/decompose", {"axis": "periods", "period_kind": "day"}
    ).json()["created"]
    assert len(days) == 31
    assert sum(Decimal(d["amount"]) for d in days) == Decimal(months[0]["amount"])
    history = client.get(f"/api/targets/{created['id']}/history").json()
    assert history[0]["action"] == "create"


def test_tracking_board_and_today_board(org, api_as):
    TargetFactory(
        metric="visits", period_kind="month", period_start=Q3, rep=org.rep_a1, team=org.group_a1, amount=Decimal(230)
    )
    visits(owner=org.rep_a1, n=10, on=dt.date(2025, 7, 10))
    visits(owner=org.rep_a1b, n=3, on=dt.date(2025, 7, 10))
    client = api_as(org.lead_a1)
    board = client.get(
        f"/api/targets/tracking?team_id={org.group_a1.pk}&period_kind=month&date=2025-07-15"
        f"&metrics=visits,revenue&as_of=2025-07-11"
    ).json()
    rows = {r["key"]: r for r in board["rows"]}
    assert rows[f"r{org.rep_a1.pk}"]["cells"]["visits"]["actual"] == "10"
    assert rows[f"r{org.rep_a1.pk}"]["cells"]["visits"]["status"] == "behind"
    assert board["total"]["cells"]["visits"]["actual"] == "13"
    today = client.get(f"/api/targets/today?team_id={org.group_a1.pk}&date=2025-07-11").json()
    mine = next(r for r in today["rows"] if r["rep_id"] == org.rep_a1.pk)
    assert mine["yesterday"]["visits"] == "10"
    # 10 of 230 done before 11 July; 220 left over 15 working days → 14.67 → 15 a day (rounded up)
    assert mine["today"]["visits"] == "15"


def test_a_rep_cannot_open_another_teams_board(org, api_as):
    response = api_as(org.rep_a1).get(f"/api/targets/tracking?team_id={org.team_b.pk}")
    assert response.status_code == 403


def test_funnel_shows_its_arithmetic_and_can_be_applied_as_targets(org, api_as):
    body = {
        "team_id": org.group_a1.pk,
        "period_kind": "quarter",
        "date": "2025-07-01",
        "revenue": "1000000",
        "avg_deal": "50000",
        "visit_to_intent": "0.2",
        "intent_to_proposal": "0.5",
        "proposal_to_negotiation": "0.8",
        "negotiation_to_won": "0.5",
        "cycle_days": "0",
        "reps": "2",
    }
    plan = api_as(org.lead_a1).post_json("/api/targets/funnel", body).json()
    assert [s["value"] for s in plan["steps"]] == ["20", "40", "50", "100", "500"]
    assert plan["steps"][0]["formula"] == "⌈ 1,000,000.00 ÷ 50,000.00 ⌉ = 20"
    applied = api_as(org.lead_a1).post_json("/api/targets/funnel/apply", body)
    assert applied.status_code == 201
    assert {t["metric"]: t["amount"] for t in applied.json()}["visits"] == "500.00"
    assert api_as(org.rep_a1).post_json("/api/targets/funnel/apply", body).status_code == 403


def test_flags_detect_and_list(org, api_as):
    from salesloop.targets.models import BottleneckRule

    BottleneckRule.objects.exclude(code="conversion_gap").update(is_active=False)
    today = dt.date.today()
    visits(owner=org.rep_a1, n=30, on=today - dt.timedelta(days=3))
    visits(owner=org.rep_a1b, n=30, on=today - dt.timedelta(days=3))
    for _ in range(5):
        won_deal(owner=org.rep_a1, amount="100.00", closed=local(today - dt.timedelta(days=2)))
    assert api_as(org.rep_a1).post_json("/api/targets/flags/detect", {}).status_code == 403
    result = api_as(org.lead_a1).post_json("/api/targets/flags/detect", {"team_id": org.group_a1.pk}).json()
    assert result["opened"] == 1 and result["tasks_created"] == 1
    flags = api_as(org.lead_a1).get("/api/targets/flags", HTTP_ACCEPT_LANGUAGE="en").json()
    assert flags[0]["rep_id"] == org.rep_a1b.pk and "below" in flags[0]["explanation"]
    assert api_as(org.rep_a2).get("/api/targets/flags").json() == []


def test_packs_export_as_xlsx_and_pdf_with_chinese_text(org, api_as):
    import io

    org.group_a1.name = "华东一组"
    org.group_a1.save()
    client = api_as(org.lead_a1)
    for kind in ("morning", "weekly", "monthly"):
        data = client.get(f"/api/targets/packs/{kind}?team_id={org.group_a1.pk}&date=2025-07-11").json()
        assert data["sections"] and "华东一组" in data["title"]
        xlsx = client.get(f"/api/targets/packs/{kind}?team_id={org.group_a1.pk}&date=2025-07-11&format=xlsx")
        assert xlsx.status_code == 200
        wb = load_workbook(io.BytesIO(xlsx.content))
        assert "华东一组" in wb.worksheets[0]["A1"].value
        pdf = client.get(f"/api/targets/packs/{kind}?team_id={org.group_a1.pk}&date=2025-07-11&format=pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert b"FontFile2" in pdf.content  # the CJK font is embedded


def test_splits_over_the_api(org, api_as):
    from salesloop.testing.factories import OpportunityFactory

    opp = OpportunityFactory(account__owner=org.rep_a1)
    url = f"/api/targets/splits/opportunity/{opp.pk}"
    bad = api_as(org.lead_a1).put(
        url,
        data={"splits": [{"user_id": org.rep_a1.pk, "percent": "100"}, {"user_id": org.rep_a1b.pk, "percent": "100"}]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    ok = api_as(org.lead_a1).put(
        url,
        data={"splits": [{"user_id": org.rep_a1.pk, "percent": "70"}, {"user_id": org.rep_a1b.pk, "percent": "30"}]},
        content_type="application/json",
    )
    assert ok.status_code == 200 and [s["percent"] for s in ok.json()] == ["70.00", "30.00"]
    assert api_as(org.rep_b1).get(url).status_code == 404


def test_only_admin_tunes_settings_and_detectors(org, api_as):
    from salesloop.targets.models import BottleneckRule

    rule = BottleneckRule.objects.get(code="conversion_gap")
    body = {"threshold": "25", "version": rule.version}
    assert api_as(org.director).patch_json(f"/api/targets/rules/{rule.pk}", body).status_code == 403
    assert api_as(org.admin).patch_json(f"/api/targets/rules/{rule.pk}", body).json()["threshold"] == "25.00"
    settings = api_as(org.admin).get("/api/targets/settings").json()
    bad = api_as(org.admin).patch_json(
        "/api/targets/settings",
        {"tier_shares": {"high_value": 90, "potential": 30, "new": 10}, "version": settings["version"]},
    )
    assert bad.status_code == 422 and "tier_shares" in bad.json()["errors"]


def test_listing_targets_takes_a_fixed_number_of_queries(org, api_as, django_assert_max_num_queries):
    for i in range(30):
        day = Q3 + dt.timedelta(days=i)
        TargetFactory(
            period_kind="day", period_start=day, period_end=day, metric="visits", team=org.team_a, amount=Decimal(i)
        )
    client = api_as(org.manager_a)
    with django_assert_max_num_queries(6):
        response = client.get("/api/targets?page_size=200")
    assert response.json()["count"] == 30
