"""The customer-operations pages render for each kind of viewer with a bounded number of queries."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salesloop.custops.services import scoring_run_create
from salesloop.custops.tests.factories import AccountPlanFactory, CustomerNeedFactory, orders
from salesloop.testing.factories import AccountFactory

PAGES = [
    "custops_segments",
    "custops_call_list",
    "custops_at_risk",
    "custops_coverage",
    "custops_sla",
    "custops_key_accounts",
    "custops_needs",
]

#: Pages whose content names the team's slipping account (the rest show counts, or lists it is
#: not on: the manager's own call list, coverage of accounts not yet due).
LISTS_ACCOUNTS = {"custops_at_risk", "custops_key_accounts", "custops_needs"}


@pytest.fixture
def data(org):
    t = timezone.localdate()
    made = {}
    for name, owner in (("mine", org.rep_a1), ("team", org.rep_a2), ("other", org.rep_b1)):
        account = AccountFactory(owner=owner, name=f"{name} 客户")
        orders(account, *[(t - dt.timedelta(days=40 + 10 * k), "8000.00") for k in range(5)])
        CustomerNeedFactory(account=account, tags=[f"{name}-需求"])
        AccountPlanFactory(account=account)
        made[name] = account
    scoring_run_create(as_of=t)
    return made


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_a_manager_within_a_query_budget(
    org, data, page, django_assert_max_num_queries
):
    client = login(org.manager_a)

    with django_assert_max_num_queries(40):
        response = client.get(reverse(page))

    assert response.status_code == 200
    body = response.content.decode()
    if page in LISTS_ACCOUNTS:
        assert data["team"].name in body
    assert data["other"].name not in body


def test_a_rep_sees_only_their_own_customers_at_risk(org, data):
    body = login(org.rep_a1).get(reverse("custops_at_risk")).content.decode()

    assert data["mine"].name in body
    assert data["team"].name not in body


def test_pages_speak_english_when_asked(org, data):
    client = login(org.manager_a)

    response = client.get(reverse("custops_segments"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200


def test_bad_query_parameters_get_400_not_500(org, data):
    client = login(org.manager_a)

    assert client.get(reverse("custops_segments") + "?month=2025-13").status_code == 400
    assert client.get(reverse("custops_needs") + "?week=garbage").status_code == 400
    assert client.get(reverse("custops_sla") + "?start=2025-02-30").status_code == 400
    assert client.get(reverse("custops_call_list") + f"?owner={org.rep_b1.pk}").status_code == 400


def test_accepting_a_tier_on_the_page_sets_it(org, data):
    account = data["mine"]
    account.refresh_from_db()

    response = login(org.rep_a1).post(
        reverse("custops_key_accounts"),
        {"account_id": account.pk, "version": account.version, "tier": "growth"},
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.key_account_tier == "growth"


def test_capturing_a_need_on_the_page(org, data):
    response = login(org.rep_a1).post(
        reverse("custops_need_capture"),
        {
            "account_id": data["mine"].pk,
            "kind": "latent",
            "summary": "希望支持移动审批",
            "tags": "移动审批, 审批",
        },
    )

    assert response.status_code == 302
    assert data["mine"].needs.filter(summary="希望支持移动审批", tags=["移动审批", "审批"]).exists()
