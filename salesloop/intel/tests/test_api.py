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
