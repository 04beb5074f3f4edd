"""/api/intel/analytics: every operation × every role of the test organisation, the books each
role's numbers come from, and bad input as 422 with field errors.

The central matrix (``tests/api/test_authorization_matrix.py``) delegates "/intel/analytics" to
this file; :func:`test_every_operation_of_the_router_is_checked_here` fails when the router serves
an operation this file does not check.

Expected answers are written out by hand from the rules (not read from ``org.access.POLICY``):

* regions need deal access: the sales line, finance and admin; not legal, after-sales, marketing;
* sources need lead access: the sales line, marketing and admin; not finance, legal, after-sales;
* the won profile needs deal or lead access: the sales line, finance, marketing and admin;
* campaign costs are read by everyone and written by marketing, managers, directors and admin.

Books: each rep has one won deal (from one of their leads) in January 2026 worth a distinct power
of two, in thousands, so the revenue a role sees names exactly whose deals it saw.
"""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.customers.models import Lead
from salesloop.intel.api_analytics import router
from salesloop.intel.models import CampaignCost
from salesloop.pipeline.models import Opportunity
from salesloop.testing.factories import AccountFactory, LeadFactory, OpportunityFactory, stage

PERIOD = "start=2026-01-01&end=2026-01-31"
ROLES = [
    "rep_a1",
    "rep_a1b",
    "rep_a2",
    "rep_b1",
    "lead_a1",
    "lead_b1",
    "manager_a",
    "director",
    "finance",
    "legal",
    "after_sales",
    "marketing",
    "admin",
]
#: Whose deals (and leads) each rep-owner is, with the revenue of their one won deal.
BOOK = {"rep_a1": 1, "rep_a1b": 2, "rep_a2": 4, "rep_b1": 8}
ALL = set(BOOK)
SEES = {
    "rep_a1": {"rep_a1"},
    "rep_a1b": {"rep_a1b"},
    "rep_a2": {"rep_a2"},
    "rep_b1": {"rep_b1"},
    "lead_a1": {"rep_a1", "rep_a1b"},
    "lead_b1": {"rep_b1"},
    "manager_a": {"rep_a1", "rep_a1b", "rep_a2"},
    "director": ALL,
    "finance": ALL,
    "marketing": ALL,
    "admin": ALL,
}
REGIONS = {r: SEES.get(r) if r not in ("marketing",) else None for r in ROLES}  # None = 403
SOURCES = {r: SEES.get(r) if r not in ("finance",) else None for r in ROLES}
PROFILE = {r: SEES.get(r) for r in ROLES}
COST_WRITERS = {"marketing", "manager_a", "director", "admin"}

CHECKED = {
    ("GET", "/regions"),
    ("GET", "/sources"),
    ("GET", "/won-profile"),
    ("GET", "/campaign-costs"),
    ("POST", "/campaign-costs"),
    ("GET", "/campaign-costs/{int:cost_id}"),
    ("PATCH", "/campaign-costs/{int:cost_id}"),
    ("DELETE", "/campaign-costs/{int:cost_id}"),
}

TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def books(org):
    for name, thousands in BOOK.items():
        owner = getattr(org, name)
        acc = AccountFactory(owner=owner, province=name, industry="制造", source_channel="expo")
        lead = LeadFactory(owner=owner, source="expo", campaign="工博会")
        Lead.objects.filter(pk=lead.pk).update(created_at=dt.datetime(2026, 1, 2, tzinfo=TZ))
        opp = OpportunityFactory(
            account=acc,
            owner=owner,
            lead=lead,
            stage=stage("won"),
            amount=Decimal(thousands * 1000),
            closed_at=dt.datetime(2026, 1, 20, tzinfo=TZ),
        )
        Opportunity.objects.filter(pk=opp.pk).update(created_at=dt.datetime(2026, 1, 3, tzinfo=TZ))
    return org


def whose(revenue: str) -> set[str]:
    """The owners whose won deals add up to ``revenue`` (distinct powers of two)."""
    value = int(Decimal(revenue)) // 1000
    return {name for name, amount in BOOK.items() if value & amount}


def _check(expected: dict, books, api_as, url: str, revenue_of) -> list:
    wrong = []
    for role in ROLES:
        resp = api_as(getattr(books, role)).get(url)
        want = expected[role]
        if want is None:
            if resp.status_code != 403:
                wrong.append((role, resp.status_code))
            continue
        if resp.status_code != 200:
            wrong.append((role, resp.status_code))
            continue
        got = whose(revenue_of(resp.json()))
        if got != want:
            wrong.append((role, sorted(got)))
    return wrong


def test_every_operation_of_the_router_is_checked_here():
    served = {(m, path) for path, view in router.path_operations.items() for op in view.operations for m in op.methods}
    assert served == CHECKED


def test_regions_per_role_show_exactly_the_book_the_role_may_read(books, api_as):
    wrong = _check(REGIONS, books, api_as, f"/api/intel/analytics/regions?{PERIOD}", lambda b: b["total"]["revenue"])
    assert wrong == []


def test_sources_per_role_show_exactly_the_leads_the_role_may_read(books, api_as):
    wrong = _check(SOURCES, books, api_as, f"/api/intel/analytics/sources?{PERIOD}", lambda b: b["total"]["revenue"])
    assert wrong == []


def test_won_profile_per_role_shows_exactly_the_deals_the_role_may_read(books, api_as):
    wrong = _check(PROFILE, books, api_as, f"/api/intel/analytics/won-profile?{PERIOD}", lambda b: b["revenue"])
    assert wrong == []


def test_cost_figures_only_for_roles_that_see_every_lead(books, api_as):
    CampaignCost.objects.create(
        source="expo",
        campaign="工博会",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        amount=Decimal("3000"),
    )
    url = f"/api/intel/analytics/sources?{PERIOD}&by=campaign"
    body = api_as(books.marketing).get(url).json()
    (row,) = body["rows"]
    assert body["costs_shown"] is True
    assert (row["campaign"], row["cost"], row["cost_per_lead"], row["cost_per_won_deal"]) == (
        "工博会",
        "3000.00",
        "750.00",
        "750.00",
    )
    assert row["roi"] == pytest.approx((15000 - 3000) / 3000)
    body = api_as(books.manager_a).get(url).json()
    assert body["costs_shown"] is False and "cost" not in body["rows"][0]


def _cost(**kw) -> CampaignCost:
    data = {
        "source": "expo",
        "campaign": "工博会",
        "period_start": dt.date(2026, 1, 1),
        "period_end": dt.date(2026, 1, 31),
        "amount": Decimal("100"),
    }
    data.update(kw)
    return CampaignCost.objects.create(**data)


def test_campaign_costs_are_read_by_everyone(books, api_as):
    cost = _cost()
    for role in ROLES:
        client = api_as(getattr(books, role))
        listed = client.get("/api/intel/analytics/campaign-costs")
        assert listed.status_code == 200 and [c["id"] for c in listed.json()] == [cost.pk], role
        one = client.get(f"/api/intel/analytics/campaign-costs/{cost.pk}")
        assert one.status_code == 200 and one.json()["amount"] == "100.00", role
    assert api_as(books.rep_a1).get("/api/intel/analytics/campaign-costs/999999").status_code == 404


def test_campaign_cost_create_per_role(books, api_as):
    payload = {
        "source": "expo",
        "campaign": "春季",
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "amount": "1200.50",
    }
    wrong = []
    for role in ROLES:
        resp = api_as(getattr(books, role)).post_json("/api/intel/analytics/campaign-costs", payload)
        want = 201 if role in COST_WRITERS else 403
        if resp.status_code != want:
            wrong.append((role, resp.status_code))
    assert wrong == []
    assert CampaignCost.objects.filter(campaign="春季").count() == len(COST_WRITERS)


def test_campaign_cost_update_and_delete_per_role(books, api_as):
    wrong = []
    for role in ROLES:
        client = api_as(getattr(books, role))
        cost = _cost()
        payload = {
            "source": "expo",
            "campaign": "改名",
            "period_start": "2026-01-01",
            "period_end": "2026-01-10",
            "amount": "50",
        }
        resp = client.patch_json(f"/api/intel/analytics/campaign-costs/{cost.pk}", payload)
        writer = role in COST_WRITERS
        if resp.status_code != (200 if writer else 403):
            wrong.append((role, "update", resp.status_code))
        cost.refresh_from_db()
        if (cost.campaign == "改名") != writer:
            wrong.append((role, "update applied", cost.campaign))
        resp = client.delete(f"/api/intel/analytics/campaign-costs/{cost.pk}")
        if resp.status_code != (204 if writer else 403):
            wrong.append((role, "delete", resp.status_code))
        if CampaignCost.objects.filter(pk=cost.pk).exists() == writer:
            wrong.append((role, "delete applied"))
    assert wrong == []
    admin = api_as(books.admin)
    assert admin.delete("/api/intel/analytics/campaign-costs/999999").status_code == 404
    assert (
        admin.patch_json(
            "/api/intel/analytics/campaign-costs/999999",
            {"source": "expo", "period_start": "2026-01-01", "period_end": "2026-01-02", "amount": "1"},
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period_end": "2025-12-31"}, "period_end"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"source": "telepathy"}, "source"),
        ({"source": "", "campaign": ""}, "campaign"),
        ({"currency": "USD"}, "currency"),
        ({"period_start": "someday"}, "period_start"),
    ],
)
def test_bad_cost_input_gets_422_with_the_field_named(org, api_as, change, field):
    payload = {
        "source": "expo",
        "campaign": "x",
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "amount": "10",
    }
    payload.update(change)
    resp = api_as(org.marketing).post_json("/api/intel/analytics/campaign-costs", payload)
    assert resp.status_code == 422
    assert field in resp.json()["errors"]
    assert not CampaignCost.objects.exists()


def test_cost_update_changes_only_the_fields_sent_and_validates_the_whole_entry(org, api_as):
    cost = _cost()
    url = f"/api/intel/analytics/campaign-costs/{cost.pk}"
    resp = api_as(org.manager_a).patch_json(url, {"amount": "250.5"})
    assert resp.status_code == 200
    body = resp.json()
    assert (body["amount"], body["campaign"], body["period_end"]) == ("250.50", "工博会", "2026-01-31")
    resp = api_as(org.manager_a).patch_json(url, {"period_start": "2026-02-15"})  # now after the end
    assert resp.status_code == 422 and "period_end" in resp.json()["errors"]
    cost.refresh_from_db()
    assert (cost.amount, cost.period_start) == (Decimal("250.50"), dt.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/intel/analytics/regions?level=planet", "level"),
        ("/api/intel/analytics/sources?by=weather", "by"),
        ("/api/intel/analytics/won-profile?start=2026-02-01&end=2026-01-01", "start"),
        ("/api/intel/analytics/regions?start=2020-01-01&end=2026-01-01", "start"),
        ("/api/intel/analytics/sources?start=tomorrow", "start"),
    ],
)
def test_bad_query_input_gets_422_with_the_field_named(org, api_as, url, field):
    resp = api_as(org.director).get(url)
    assert resp.status_code == 422
    assert field in resp.json()["errors"]


def test_reads_use_a_fixed_number_of_queries(books, api_as, django_assert_max_num_queries):
    client = api_as(books.director)
    for path in ("regions", "sources", "won-profile", "campaign-costs"):
        with django_assert_max_num_queries(8):
            assert client.get(f"/api/intel/analytics/{path}?{PERIOD}").status_code == 200
