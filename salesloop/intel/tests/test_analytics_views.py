"""The analytics pages: render within a query budget, show only the viewer's book, refuse roles
without access, re-render bad input with field errors (422), and take cost entries."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from salesloop.customers.models import Account, Lead
from salesloop.intel.models import CampaignCost
from salesloop.pipeline.models import Opportunity
from salesloop.testing.factories import AccountFactory, LeadFactory, OpportunityFactory, stage

TZ = dt.timezone(dt.timedelta(hours=8))
PERIOD = {"start": "2026-01-01", "end": "2026-01-31", "by": "campaign"}  # by: sources page only
PAGES = ["intel:regions", "intel:sources", "intel:won_profile"]


@pytest.fixture
def books(org):
    for owner, province, industry, amount in (
        (org.rep_a1, "江苏省", "制造业", "123456.00"),
        (org.rep_b1, "广东省", "零售业", "654321.00"),
    ):
        acc = AccountFactory(owner=owner, province=province, city="某市", industry=industry, region="华东")
        Account.objects.filter(pk=acc.pk).update(created_at=dt.datetime(2025, 12, 1, tzinfo=TZ))
        lead = LeadFactory(owner=owner, source="expo", campaign=f"{industry}展会")
        Lead.objects.filter(pk=lead.pk).update(created_at=dt.datetime(2026, 1, 2, tzinfo=TZ))
        opp = OpportunityFactory(
            account=acc,
            owner=owner,
            lead=lead,
            stage=stage("won"),
            amount=Decimal(amount),
            closed_at=dt.datetime(2026, 1, 20, tzinfo=TZ),
        )
        Opportunity.objects.filter(pk=opp.pk).update(created_at=dt.datetime(2026, 1, 3, tzinfo=TZ))
    return org


def page_text(resp) -> str:
    """The page without digit grouping (the separator depends on the language)."""
    return resp.content.decode().replace(",", "")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_a_director_with_chart_data_within_a_query_budget(
    books, page, django_assert_max_num_queries
):
    client = login(books.director)
    with django_assert_max_num_queries(25):
        resp = client.get(reverse(page), PERIOD)
    assert resp.status_code == 200
    body = page_text(resp)
    assert "123456.00" in body and "654321.00" in body
    assert 'id="analytics-data"' in body and "plotly.min.js" in body
    assert 'data-testid="analytics-nav"' in body


@pytest.mark.parametrize("page", PAGES)
def test_a_rep_sees_only_their_books_numbers(books, page):
    body = page_text(login(books.rep_a1).get(reverse(page), PERIOD))
    assert "123456.00" in body
    assert "654321.00" not in body and "广东省" not in body and "零售业" not in body


def test_regions_page_ranks_provinces_and_switches_to_cities(books):
    client = login(books.manager_a)
    body = client.get(reverse("intel:regions"), PERIOD).content.decode()
    assert "江苏省" in body and "广东省" not in body  # Team B is not the manager's subtree
    body = client.get(reverse("intel:regions"), {**PERIOD, "level": "city"}).content.decode()
    assert "江苏省 / 某市" in body
    chart = json.loads(body.split('id="analytics-data" type="application/json">')[1].split("</script>")[0])
    assert chart["charts"][0]["labels"] == ["江苏省 / 某市"] and chart["charts"][0]["values"] == [123456.0]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("marketing", {"intel:sources", "intel:won_profile"}),
        ("finance", {"intel:regions", "intel:won_profile"}),
        ("legal", set()),
        ("after_sales", set()),
    ],
)
def test_support_roles_get_only_the_pages_their_access_allows(books, role, allowed):
    client = login(getattr(books, role))
    for page in PAGES:
        assert client.get(reverse(page), PERIOD).status_code == (200 if page in allowed else 403), page


def test_pages_need_a_login(db):
    resp = Client().get(reverse("intel:regions"))
    assert resp.status_code == 302 and "login" in resp["Location"]


@pytest.mark.parametrize("page", PAGES)
def test_bad_period_rerenders_with_the_error_and_status_422(books, page):
    resp = login(books.director).get(reverse(page), {"start": "2026-02-01", "end": "2026-01-01"})
    assert resp.status_code == 422
    assert 'class="invalid-feedback d-block"' in resp.content.decode()
    assert login(books.director).get(reverse(page), {"start": "soon"}).status_code == 422


def test_sources_page_shows_costs_and_ratios_to_marketing_but_not_to_a_manager(books):
    CampaignCost.objects.create(
        source="expo",
        campaign="制造业展会",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        amount=Decimal("2000"),
    )
    body = page_text(login(books.marketing).get(reverse("intel:sources"), {**PERIOD, "by": "campaign"}))
    assert "制造业展会" in body and "2000.00" in body and 'data-testid="cost-form"' in body
    body = login(books.manager_a).get(reverse("intel:sources"), PERIOD).content.decode()
    assert 'data-testid="costs-hidden"' in body and 'data-testid="cost-form"' in body
    body = login(books.rep_a1).get(reverse("intel:sources"), PERIOD).content.decode()
    assert 'data-testid="cost-form"' not in body


def test_cost_form_saves_for_marketing_and_reports_field_errors(books):
    client = login(books.marketing)
    url = reverse("intel:sources")
    good = {
        "source": "expo",
        "campaign": "秋季",
        "period_start": "2026-09-01",
        "period_end": "2026-09-30",
        "amount": "880",
    }
    resp = client.post(url, good)
    assert resp.status_code == 302
    assert CampaignCost.objects.get(campaign="秋季").amount == Decimal("880.00")
    resp = client.post(url, {**good, "campaign": "倒序", "period_end": "2026-08-01"})
    assert resp.status_code == 422 and "倒序" in resp.content.decode()
    assert not CampaignCost.objects.filter(campaign="倒序").exists()
    resp = client.post(url, {**good, "campaign": "负数", "amount": "-5"})
    assert resp.status_code == 422 and not CampaignCost.objects.filter(campaign="负数").exists()


def test_cost_form_is_refused_to_a_rep(books):
    resp = login(books.rep_a1).post(
        reverse("intel:sources"),
        {"source": "expo", "period_start": "2026-09-01", "period_end": "2026-09-30", "amount": "1"},
    )
    assert resp.status_code == 403 and not CampaignCost.objects.exists()


def test_cost_delete_button_removes_the_entry_for_a_writer_only(books):
    cost = CampaignCost.objects.create(
        source="expo", period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 31), amount=Decimal("1")
    )
    assert login(books.rep_a1).post(reverse("intel:sources"), {"delete": cost.pk}).status_code == 403
    assert CampaignCost.objects.filter(pk=cost.pk).exists()
    client = login(books.manager_a)
    assert 'data-testid="delete-cost"' in client.get(reverse("intel:sources")).content.decode()
    assert client.post(reverse("intel:sources"), {"delete": cost.pk}).status_code == 302
    assert not CampaignCost.objects.filter(pk=cost.pk).exists()
    assert client.post(reverse("intel:sources"), {"delete": cost.pk}).status_code == 404
