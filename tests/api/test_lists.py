"""List endpoints: pagination, every declared filter and sort key, and a flat query count.

Filters and sort keys are walked from each resource's declaration, so a new one is tested the day
it is declared: the API's answer is compared with the same rows selected through the ORM from
what the caller may see.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salesloop.api_registry import ALL_RESOURCES
from salesloop.core.api_resources import MAX_PAGE_SIZE
from salesloop.org import access
from salesloop.org.models import Team, TeamKind, User
from salesloop.pipeline.models import LossReason, Stage
from salesloop.sales.models import OrderLine
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    PaymentFactory,
    ProductFactory,
    TaskFactory,
)

from .world import World, module_world

RESOURCES = {r.path: r for r in ALL_RESOURCES}
BULK = 55  # more than the larger page of the query-count check (50)


def _add_bulk(world: World) -> None:
    """Enough rows in rep_a1's book (and of every reference table) to fill a page of 50."""
    rep = world.person("rep_a1")
    products = [ProductFactory(category=["软件", "硬件"][i % 2]) for i in range(BULK)]
    for i in range(BULK):
        account = AccountFactory(
            owner=rep,
            industry=["制造业", "零售", "金融"][i % 3],
            province=f"省{i % 4}",
            city=f"市{i % 5}",
            key_account_tier=["strategic", "growth", ""][i % 3],
            source_channel=["expo", "referral"][i % 2],
        )
        ContactFactory(account=account, is_decision_maker=i % 2 == 0)
        lead = LeadFactory(
            owner=rep, budget=Decimal(1000 * i), status=["new", "contacted"][i % 2], industry=["制造业", "零售"][i % 2]
        )
        if i % 5 == 0:
            LeadFactory(owner=None, budget=Decimal(500))
        deal = OpportunityFactory(
            account=account,
            owner=rep,
            amount=Decimal(100 * i + 1),
            expected_close_date=timezone.localdate() + dt.timedelta(days=i),
        )
        ActivityFactory(
            account=account,
            owner=rep,
            kind=["visit", "call"][i % 2],
            outcome=["", "contacted", "interested"][i % 3],
            opportunity=deal if i % 2 else None,
            lead=lead if i % 3 else None,
        )
        TaskFactory(assignee=rep, account=account, status=["open", "done"][i % 2])
        order = OrderFactory(account=account, owner=rep)
        OrderLine.objects.create(
            order=order, product=products[i], quantity=1, unit_price=10, unit_cost=5, line_total=10, line_cost=5
        )
        invoice = InvoiceFactory(account=account, order=order)
        PaymentFactory(invoice=invoice, account=account, amount=Decimal(1 + i))
        ContractFactory(account=account, owner=rep)
        Stage.objects.create(code=f"bulk-{i}", name=f"阶段{i}", order=100 + i, probability=Decimal(i % 100))
        LossReason.objects.create(code=f"bulk-{i}", name=f"原因{i}")
        Team.objects.create(name=f"Bulk {i}", kind=TeamKind.GROUP, parent=world.org.team_a)
    User.objects.bulk_create(
        [User(username=f"bulk{i}", role="rep", team=world.org.group_a1, password="!") for i in range(BULK)]
    )
    _add_custops_bulk(world, rep)


def _add_custops_bulk(world: World, rep) -> None:
    from salesloop.custops.tests.factories import AccountPlanFactory, CustomerNeedFactory

    for _ in range(BULK):
        account = AccountFactory(owner=rep)
        CustomerNeedFactory(account=account, competitor="竞品甲")
        AccountPlanFactory(account=account)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker) as built:
        _add_bulk(built)
        yield built


def _client(world: World, username: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[username]}")


def _visible(resource, username: str, world: World):
    return access.restrict(resource.model._default_manager.all(), world.person(username), "read")


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# Pagination ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(RESOURCES))
def test_pages_cover_every_visible_row_exactly_once(world, db, path):
    client = _client(world, "rep_a1")
    expected = set(_visible(RESOURCES[path], "rep_a1", world).values_list("pk", flat=True))

    first = client.get(f"/api/{path}", {"page": 1, "page_size": 7}).json()
    pages, seen, page = -(-first["count"] // 7), [], 1
    while page <= max(pages, 1):
        body = client.get(f"/api/{path}", {"page": page, "page_size": 7}).json()
        assert (body["page"], body["page_size"], body["count"]) == (page, 7, len(expected))
        seen += [item["id"] for item in body["items"]]
        page += 1

    assert len(seen) == len(set(seen)), "a row appeared on two pages"
    assert set(seen) == expected
    beyond = client.get(f"/api/{path}", {"page": pages + 1, "page_size": 7}).json()
    assert beyond["items"] == [] and beyond["count"] == len(expected)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page_size": MAX_PAGE_SIZE + 1}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "lots"}, "page_size"),
    ],
    ids=["page-size-above-max", "page-size-zero", "page-zero", "page-not-a-number", "page-size-not-a-number"],
)
def test_out_of_range_paging_is_a_field_error(world, db, query, field):
    response = _client(world, "rep_a1").get("/api/accounts", query)

    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_the_largest_page_is_allowed(world, db):
    response = _client(world, "admin").get("/api/accounts", {"page_size": MAX_PAGE_SIZE})

    assert response.status_code == 200
    assert len(response.json()["items"]) == min(MAX_PAGE_SIZE, response.json()["count"])


# Filters ------------------------------------------------------------------------------------

_SUFFIXES = ("icontains", "iexact", "gte", "lte", "lt", "isnull")


def _split(lookup: str) -> tuple[str, str]:
    head, _, tail = lookup.rpartition("__")
    return (head, tail) if tail in _SUFFIXES else (lookup, "exact")


def _value_on(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if hasattr(obj, "all"):  # a reverse relation (e.g. a need's tag rows): its first row
            obj = obj.order_by("pk").first()
        if obj is None:
            return None
    return obj


def _just_after(value: Any) -> Any:
    """For a strict ``lt`` filter: a bound that still includes the sample."""
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(seconds=1)
    return value + dt.timedelta(days=1)


def _query_value(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _filter_cases():
    for path, resource in sorted(RESOURCES.items()):
        for name in resource.filters:
            yield pytest.param(path, name, id=f"{path}-{name}")


@pytest.mark.parametrize(("path", "name"), list(_filter_cases()))
def test_each_declared_filter_selects_the_matching_visible_rows(world, db, path, name):
    resource = RESOURCES[path]
    _typ, lookups = resource.filters[name]
    lookups = [lookups] if isinstance(lookups, str) else lookups
    visible = _visible(resource, "admin", world)
    field, suffix = _split(lookups[0])
    sample = next(
        (obj for obj in visible.order_by("-id") if suffix == "isnull" or _value_on(obj, field) not in (None, "")),
        None,
    )
    assert sample is not None, f"the test world has no {path} with a {field} to filter on"
    value: Any = _value_on(sample, field) is None if suffix == "isnull" else _value_on(sample, field)
    if suffix == "icontains":
        value = str(value)[1:4] or str(value)
    if suffix == "lt":
        value = _just_after(value)

    response = _client(world, "admin").get(f"/api/{path}", {name: _query_value(value), "page_size": MAX_PAGE_SIZE})

    condition = Q()
    for lookup in lookups:
        condition |= Q(**{lookup: value})
    expected = set(visible.filter(condition).values_list("pk", flat=True))
    assert response.status_code == 200, response.content
    assert response.json()["count"] == visible.filter(condition).count()
    assert set(_ids(response)) <= expected
    assert sample.pk in _ids(response) or response.json()["count"] > MAX_PAGE_SIZE


def test_filters_narrow_within_what_the_caller_may_see(world, db):
    rep_b1 = world.person("rep_b1")

    foreign = _client(world, "rep_a1").get("/api/accounts", {"owner_id": rep_b1.pk})

    assert foreign.json()["count"] == 0, "filtering by another book's owner reveals nothing"


def test_search_matches_name_phone_or_external_id(world, db):
    AccountFactory(owner=world.person("rep_a1"), name="宁波甬江机械", phone="0574-1234", external_id="CRM-77")
    client = _client(world, "rep_a1")

    by_name = client.get("/api/accounts", {"q": "甬江"}).json()["items"]
    by_phone = client.get("/api/accounts", {"q": "0574"}).json()["items"]
    by_external = client.get("/api/accounts", {"q": "crm-77"}).json()["items"]

    assert [a["name"] for a in by_name] == [a["name"] for a in by_phone] == [a["name"] for a in by_external]
    assert [a["name"] for a in by_name] == ["宁波甬江机械"]


# Sorting ------------------------------------------------------------------------------------


def _sort_cases():
    for path, resource in sorted(RESOURCES.items()):
        for key in resource.sort_fields:
            for direction in ("", "-"):
                yield pytest.param(path, f"{direction}{key}", id=f"{path}-{direction}{key}")


@pytest.mark.parametrize(("path", "sort"), list(_sort_cases()))
def test_each_declared_sort_key_orders_the_rows(world, db, path, sort):
    resource = RESOURCES[path]
    tie_break = "-id" if sort.lstrip("-") != "id" else sort
    expected = list(
        _visible(resource, "admin", world).order_by(sort, tie_break).values_list("pk", flat=True)[:MAX_PAGE_SIZE]
    )

    response = _client(world, "admin").get(f"/api/{path}", {"sort": sort, "page_size": MAX_PAGE_SIZE})

    assert _ids(response) == expected


@pytest.mark.parametrize("sort", ["password", "owner__password", "-notes,", "name;drop", "?"])
def test_an_unknown_sort_key_is_a_field_error(world, db, sort):
    response = _client(world, "admin").get("/api/accounts", {"sort": sort})

    assert response.status_code == 422
    assert "sort" in response.json()["errors"]


def test_several_sort_keys_apply_in_order(world, db):
    expected = _visible(RESOURCES["accounts"], "admin", world).order_by("industry", "-province", "-id")

    response = _client(world, "admin").get("/api/accounts", {"sort": "industry,-province", "page_size": MAX_PAGE_SIZE})

    assert _ids(response) == list(expected.values_list("pk", flat=True)[:MAX_PAGE_SIZE])


# Query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(RESOURCES))
@pytest.mark.parametrize("username", ["rep_a1", "admin"])
def test_a_list_page_costs_the_same_queries_for_5_rows_as_for_50(world, db, django_assert_num_queries, path, username):
    client = _client(world, username)
    client.get(f"/api/{path}", {"page_size": 1})  # the token's "last used" stamp is written once
    assert client.get(f"/api/{path}").json()["count"] > 50, "the world must fill a page of 50"

    with CaptureQueriesContext(connection) as small:
        assert client.get(f"/api/{path}", {"page_size": 5}).status_code == 200

    with django_assert_num_queries(len(small)):
        assert len(_ids(client.get(f"/api/{path}", {"page_size": 50}))) == 50


@pytest.mark.parametrize("path", sorted(RESOURCES))
def test_an_export_costs_the_same_queries_for_few_rows_as_for_many(world, db, path):
    """Finance exports with private notes hidden, the path that once loaded each row's notes."""
    client = _client(world, "finance" if path == "accounts" else "admin")
    client.get(f"/api/{path}", {"page_size": 1})
    few, many = _export_filters(world, path)

    with CaptureQueriesContext(connection) as small:
        b"".join(client.get(f"/api/{path}/export", few).streaming_content)
    with CaptureQueriesContext(connection) as large:
        body = b"".join(client.get(f"/api/{path}/export", many).streaming_content)

    assert body.count(b"\n") > 50
    assert len(large) == len(small)


def _export_filters(world: World, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A filter matching a handful of rows and one matching more than 50."""
    few_owner, many_owner = world.person("rep_b1").pk, world.person("rep_a1").pk
    resource = RESOURCES[path]
    for name in ("owner_id", "assignee_id"):
        if name in resource.filters:
            return {name: few_owner}, {name: many_owner}
    if "account_id" in resource.filters:
        return {"account_id": world.parent_account["rep_b1"].pk}, {}
    if "q" in resource.filters:
        return {"q": "no such row"}, {}
    assert "is_active" in resource.filters, f"choose a narrowing filter for {path}"
    return {"is_active": "false"}, {}
