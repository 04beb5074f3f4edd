"""Whatever a client sends, the API answers with a 4xx and a JSON body, never a 500.

Hypothesis throws typed-but-wrong and plain wrong values at every create, update and list
endpoint: huge and negative numbers, NaN/infinity, NUL bytes (PostgreSQL refuses them in text),
far-away dates, nested lists, unknown keys. The bodies are shaped like the endpoint's own input
schema, so most of them get past JSON parsing and reach the validation and the database.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesloop.api_registry import ALL_RESOURCES
from salesloop.org.models import ApiToken
from salesloop.testing.factories import (
    AccountFactory,
    ContactFactory,
    InvoiceFactory,
    OpportunityFactory,
    OrderFactory,
    TaskFactory,
)

from .world import module_world

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "\x00", "a\x00b", " ", "'; drop table x; --", "🙂" * 50, "9" * 400, "-1", "NaN"]),
)
nasty_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0.001", "12345678901234567890.123"]),
)
nasty_date = st.sampled_from(
    [
        "0001-01-01",
        "9999-12-31",
        "2025-02-30",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "2025-01-01T25:00:00",
        "yesterday",
        "2025-06-01T08:00:00",
        "",
    ]
)
scalar = st.one_of(st.none(), st.booleans(), nasty_text, nasty_number, nasty_date)
value = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3), max_leaves=6
)


def body_for(fields: list[str]) -> st.SearchStrategy:
    """A body with some of ``fields`` (with wrong or edge values) and maybe an unknown key."""
    return st.fixed_dictionaries({}, optional={name: value for name in [*fields, "unexpected", "version"]})


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker) as built:
        # Records on which the patches land, owned by the admin who sends them.
        admin = built.org.admin
        account = AccountFactory(owner=admin)
        built.garbage_targets = {
            "accounts": account,
            "contacts": ContactFactory(account=account),
            "opportunities": OpportunityFactory(account=account),
            "tasks": TaskFactory(assignee=admin),
            "orders": OrderFactory(account=account),
            "invoices": InvoiceFactory(account=account, order=None),
        }
        yield built


def _client(world, username: str) -> Client:
    _token, key = ApiToken.issue(user=world.person(username), name="garbage")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _assert_clean_4xx(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        body = response.json()
        assert "message" in body or "detail" in body


CREATABLE = [r for r in ALL_RESOURCES if r.allow_create]


@pytest.mark.parametrize("resource", CREATABLE, ids=lambda r: r.path)
@pytest.mark.parametrize("username", ["admin", "rep_a1"])
def test_garbage_create_bodies_get_a_4xx_not_a_500(world, db, resource, username):
    client = _client(world, username)
    fields = list(resource.In.model_fields)

    @EXAMPLES
    @given(body=st.one_of(body_for(fields), value))
    def check(body):
        response = client.post(f"/api/{resource.path}", data=json.dumps(body), content_type="application/json")
        _assert_clean_4xx(response)

    check()


PATCHABLE = ["accounts", "contacts", "opportunities", "tasks", "orders", "invoices"]


@pytest.mark.parametrize("path", PATCHABLE)
def test_garbage_patch_bodies_get_a_4xx_not_a_500(world, db, path):
    client = _client(world, "admin")
    resource = next(r for r in ALL_RESOURCES if r.path == path)
    target = world.garbage_targets[path]
    fields = list(resource.Patch.model_fields)

    @EXAMPLES
    @given(body=body_for(fields))
    def check(body):
        response = client.patch(f"/api/{path}/{target.pk}", data=json.dumps(body), content_type="application/json")
        _assert_clean_4xx(response)

    check()


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.path)
def test_garbage_list_queries_get_a_4xx_not_a_500(world, db, resource):
    client = _client(world, "admin")
    params = [*resource.filters, "page", "page_size", "sort"]
    query_value = st.one_of(nasty_text, nasty_number.map(str), nasty_date)

    @EXAMPLES
    @given(query=st.dictionaries(st.sampled_from(params), query_value, max_size=4))
    def check(query):
        _assert_clean_4xx(client.get(f"/api/{resource.path}", query))

    check()


@pytest.mark.parametrize("resource", ALL_RESOURCES, ids=lambda r: r.path)
@pytest.mark.parametrize(
    "suffix", ["/99999999999999999999999", "/9223372036854775808", "/0", "/-1", "/1.5", "/abc"], ids=str
)
def test_odd_record_ids_are_404_not_500(world, db, resource, suffix):
    response = _client(world, "admin").get(f"/api/{resource.path}{suffix}")

    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize(
    ("path", "fields"),
    [("/api/auth/token", ["username", "password", "name"]), ("/api/org/reassign-book", ["from_user_id", "to_user_id"])],
    ids=["token", "reassign"],
)
def test_garbage_to_the_hand_written_endpoints_gets_a_4xx_not_a_500(world, db, path, fields):
    client = _client(world, "admin")

    @EXAMPLES
    @given(body=st.one_of(body_for(fields), value))
    def check(body):
        response = client.post(path, data=json.dumps(body), content_type="application/json")
        _assert_clean_4xx(response)

    check()
