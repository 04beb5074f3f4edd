"""The /api/intel endpoints: access per role, bad input as 4xx JSON, and the heatmap's cells."""

import datetime as dt

from django.utils import timezone

from salesloop.intel.models import RoutingRule
from salesloop.testing.factories import AccountFactory, ActivityFactory, LeadFactory

TZ = timezone.get_fixed_timezone(8 * 60)


def test_funnel_is_refused_to_roles_that_cannot_read_deals(org, api_as):
    assert api_as(org.after_sales).get("/api/intel/funnel").status_code == 403
    assert api_as(org.finance).get("/api/intel/funnel").status_code == 200


def test_funnel_bad_input_gets_422_with_field_errors(org, api_as):
    client = api_as(org.manager_a)
    resp = client.get("/api/intel/funnel?dimension=colour")
    assert resp.status_code == 422 and "dimension" in resp.content.decode()
    resp = client.get("/api/intel/funnel?start=2026-02-01&end=2026-01-01")
    assert resp.status_code == 422 and "start" in resp.content.decode()
    assert client.get("/api/intel/funnel?start=yesterday").status_code == 422


def test_funnel_lists_stages_in_order_with_the_seeded_benchmark(org, api_as):
    body = api_as(org.director).get("/api/intel/funnel?dimension=team").json()
    orders = [s["order"] for s in body["stages"]]
    assert orders == sorted(orders)
    assert body["dimension"] == "team"


def test_heatmap_counts_weekday_by_hour_and_the_positive_rate(org, api_as):
    account = AccountFactory(owner=org.rep_a1)
    wednesday = dt.datetime(2026, 1, 7, 10, 30, tzinfo=TZ)
    ActivityFactory(account=account, occurred_at=wednesday, outcome="interested")
    ActivityFactory(account=account, occurred_at=wednesday, outcome="not_interested")
    ActivityFactory(account=account, occurred_at=wednesday, outcome="")
    ActivityFactory(account=AccountFactory(owner=org.rep_b1), occurred_at=wednesday, outcome="qualified")
    url = "/api/intel/heatmap?start=2026-01-01&end=2026-01-31"
    (cell,) = api_as(org.rep_a1).get(url).json()["cells"]
    assert (cell["weekday"], cell["column"]) == (3, 10)
    assert (cell["activities"], cell["recorded"], cell["positive"], cell["conversion"]) == (3, 2, 1, 0.5)
    cells = api_as(org.director).get(url + "&by=rep").json()["cells"]
    assert {c["column"] for c in cells} == {org.rep_a1.pk, org.rep_b1.pk}


def test_unassigned_leads_are_surfaced_with_the_reason(org, api_as):
    RoutingRule.objects.update(is_active=False)
    resp = api_as(org.marketing).post_json("/api/leads", {"name": "无人接"})
    assert resp.status_code == 201 and resp.json()["owner_id"] is None
    (row,) = api_as(org.marketing).get("/api/intel/leads/unassigned").json()
    assert row["name"] == "无人接" and row["reason"]
    assert api_as(org.rep_a1).get("/api/intel/leads/unassigned").json() == []


def test_routing_rules_are_kept_by_admin_and_bad_conditions_get_422(org, api_as):
    rule = {"name": "Expo", "strategy": "round_robin", "conditions": [{"field": "source", "op": "eq", "value": "expo"}]}
    assert api_as(org.manager_a).post_json("/api/intel/routing-rules", rule).status_code == 403
    created = api_as(org.admin).post_json("/api/intel/routing-rules", rule)
    assert created.status_code == 201, created.content
    bad = {**rule, "conditions": [{"field": "nope", "op": "eq", "value": 1}]}
    resp = api_as(org.admin).post_json("/api/intel/routing-rules", bad)
    assert resp.status_code == 422 and "conditions" in resp.content.decode()
    rule_id = created.json()["id"]
    resp = api_as(org.manager_a).patch_json(f"/api/intel/routing-rules/{rule_id}", rule)
    assert resp.status_code == 403


def test_assignment_log_follows_the_assignee(org, api_as):
    LeadFactory(owner=None)
    from salesloop.customers.models import Lead
    from salesloop.intel.services import lead_route

    assignment = lead_route(lead=Lead.objects.get(owner__isnull=True), by=org.marketing)
    mine = api_as(assignment.assignee).get("/api/intel/assignments").json()
    assert [a["id"] for a in mine] == [assignment.pk]
    others = [u for u in (org.rep_a1, org.rep_b1) if u != assignment.assignee]
    assert api_as(others[0]).get("/api/intel/assignments").json() == []


# Issue #7 pages: benchmarks, route now, dry run ---------------------------------------------


def _stage_ids(*codes):
    from salesloop.pipeline.models import Stage

    return [Stage.objects.get(code=c).pk for c in codes]


def test_benchmarks_are_read_by_all_and_kept_by_managers_and_admin(org, api_as):
    qualified, proposal, lost = _stage_ids("qualified", "proposal", "lost")
    body = {"from_stage_id": qualified, "to_stage_id": proposal, "rate": "0.6"}
    assert api_as(org.rep_a1).get("/api/intel/benchmarks").status_code == 200
    assert api_as(org.rep_a1).post_json("/api/intel/benchmarks", body).status_code == 403
    assert api_as(org.lead_a1).post_json("/api/intel/benchmarks", body).status_code == 403
    created = api_as(org.manager_a).post_json("/api/intel/benchmarks", body)
    assert created.status_code == 201, created.content
    bench_id = created.json()["id"]
    assert api_as(org.rep_a1).patch_json(f"/api/intel/benchmarks/{bench_id}", body).status_code == 403
    changed = api_as(org.admin).patch_json(f"/api/intel/benchmarks/{bench_id}", {**body, "rate": "0.45"})
    assert changed.status_code == 200 and changed.json()["rate"] in ("0.45", 0.45, "0.4500")
    assert api_as(org.admin).patch_json("/api/intel/benchmarks/999999", body).status_code == 404


def test_bad_benchmarks_get_422(org, api_as):
    qualified, proposal, lost = _stage_ids("qualified", "proposal", "lost")
    client = api_as(org.manager_a)
    too_high = client.post_json(
        "/api/intel/benchmarks", {"from_stage_id": qualified, "to_stage_id": proposal, "rate": 2}
    )
    assert too_high.status_code == 422
    backwards = client.post_json(
        "/api/intel/benchmarks", {"from_stage_id": proposal, "to_stage_id": qualified, "rate": 0.5}
    )
    assert backwards.status_code == 422 and "to_stage_id" in backwards.content.decode()
    into_lost = client.post_json("/api/intel/benchmarks", {"from_stage_id": proposal, "to_stage_id": lost, "rate": 0.5})
    assert into_lost.status_code == 422
    unknown = client.post_json("/api/intel/benchmarks", {"from_stage_id": 999999, "to_stage_id": proposal, "rate": 0.5})
    assert unknown.status_code == 422


def test_route_now_places_an_unassigned_lead_and_is_refused_to_reps(org, api_as):
    from salesloop.intel.models import Strategy

    RoutingRule.objects.update(is_active=False)
    lead = LeadFactory(owner=None)
    assert api_as(org.rep_a1).post_json(f"/api/intel/leads/{lead.pk}/route", {}).status_code == 403
    RoutingRule.objects.create(name="to b1", position=1, strategy=Strategy.NAMED, user=org.rep_b1)
    resp = api_as(org.marketing).post_json(f"/api/intel/leads/{lead.pk}/route", {})
    assert resp.status_code == 200, resp.content
    assert resp.json()["assignee_id"] == org.rep_b1.pk
    again = api_as(org.marketing).post_json(f"/api/intel/leads/{lead.pk}/route", {})
    assert again.status_code == 422
    hidden = LeadFactory(owner=org.rep_b1)
    assert api_as(org.manager_a).post_json(f"/api/intel/leads/{hidden.pk}/route", {}).status_code == 404


def test_routing_preview_names_the_rule_and_rep_and_writes_nothing(org, api_as):
    from salesloop.customers.models import Lead
    from salesloop.intel.models import LeadAssignment
    from salesloop.org.models import Membership, Seniority

    Membership.objects.filter(user=org.rep_a2).update(seniority=Seniority.SENIOR)
    leads_before = Lead.objects.count()
    resp = api_as(org.marketing).post_json("/api/intel/routing/preview", {"lead": {"name": "x", "budget": "250000"}})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["assignee_id"] == org.rep_a2.pk
    assert RoutingRule.objects.get(pk=body["rule_id"]).position == 10
    assert Lead.objects.count() == leads_before and not LeadAssignment.objects.exists()
    assert api_as(org.rep_a1).post_json("/api/intel/routing/preview", {"lead": {"name": "x"}}).status_code == 403
    bad = api_as(org.marketing).post_json("/api/intel/routing/preview", {"lead": {"owner": 1, "colour": "red"}})
    assert bad.status_code == 422 and "colour" in bad.content.decode()
