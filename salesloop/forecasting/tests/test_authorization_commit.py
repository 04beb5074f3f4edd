"""Every operation of /api/forecasts/commit × every person of the test organisation.

The central matrix (tests/api/test_authorization_matrix.py) delegates "/forecasts" to the app's
tests; this file covers the commit router and asserts it covers every operation the router serves.
The books under test belong to rep_a1 (Group A1 in Team A): their line is lead_a1 → manager_a →
director; admin reads everything but is not in the sales line; finance reads every deal.
"""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.api import api
from salesloop.forecasting.api_commit import router
from salesloop.forecasting.services_commit import submission_create
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage

pytestmark = pytest.mark.django_db

PEOPLE = [
    "director",
    "manager_a",
    "lead_a1",
    "rep_a1",
    "rep_a1b",
    "rep_a2",
    "lead_b1",
    "rep_b1",
    "finance",
    "legal",
    "after_sales",
    "marketing",
    "admin",
]
SALES = {"director", "manager_a", "lead_a1", "rep_a1", "rep_a1b", "rep_a2", "lead_b1", "rep_b1"}
SUPPORT = {"finance", "legal", "after_sales", "marketing"}
LINE_OF_REP_A1 = {"lead_a1", "manager_a", "director"}


def expect(default: int, **overrides: int) -> dict[str, int]:
    table = {who: default for who in PEOPLE}
    table.update(overrides)
    return table


def by_group(default: int, groups: dict[int, set[str]]) -> dict[str, int]:
    table = expect(default)
    for status, people in groups.items():
        for who in people:
            table[who] = status
    return table


#: (method, path on the router, case name) → expected status per person.
EXPECTED = {
    ("GET", "/sheet", "rep_a1's sheet"): by_group(404, {200: {"rep_a1", "admin", *LINE_OF_REP_A1}}),
    ("GET", "/sheet", "own sheet"): by_group(200, {403: {*SUPPORT, "admin"}}),
    ("PUT", "/deals/{int:opportunity_id}/category", "rep_a1's deal"): by_group(
        404, {200: {"rep_a1", *LINE_OF_REP_A1}, 403: {"finance", "admin"}}
    ),
    ("POST", "/submissions", "own number"): by_group(403, {201: SALES}),
    ("GET", "/team", "Group A1"): by_group(403, {200: {"lead_a1", "manager_a", "director", "admin"}, 404: {"lead_b1"}}),
    ("GET", "/team", "default team"): by_group(403, {200: {"lead_a1", "manager_a", "director", "admin", "lead_b1"}}),
    ("POST", "/submissions/{int:submission_id}/adjustments", "rep_a1's submission"): by_group(
        404, {201: LINE_OF_REP_A1, 403: {"rep_a1", "admin"}}
    ),
}

START, END = "2026-01-01", "2026-03-31"


@pytest.fixture
def books(org):
    deal = OpportunityFactory(
        account=AccountFactory(owner=org.rep_a1),
        amount=Decimal("1000"),
        stage=stage("proposal"),
        expected_close_date=dt.date(2026, 2, 1),
    )
    sub = submission_create(
        by=org.rep_a1, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31), amount="900"
    )
    return {"deal": deal, "submission": sub}


def call(client, key, org, books):
    method, path, case = key
    period = f"period_start={START}&period_end={END}"
    base = "/api/forecasts/commit"
    if path == "/sheet":
        owner = f"&owner_id={org.rep_a1.pk}" if case == "rep_a1's sheet" else ""
        return client.get(f"{base}/sheet?{period}{owner}")
    if path == "/deals/{int:opportunity_id}/category":
        return client.put(
            f"{base}/deals/{books['deal'].pk}/category", data={"category": "commit"}, content_type="application/json"
        )
    if path == "/submissions":
        return client.post_json(f"{base}/submissions", {"period_start": START, "period_end": END, "amount": "10"})
    if path == "/team":
        team = f"&team_id={org.group_a1.pk}" if case == "Group A1" else ""
        return client.get(f"{base}/team?{period}{team}")
    if path == "/submissions/{int:submission_id}/adjustments":
        sub = books["submission"].pk
        return client.post_json(f"{base}/submissions/{sub}/adjustments", {"amount": "800", "reason": "risk"})
    raise AssertionError(f"no call for {key}")


def served_operations() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }


def test_the_matrix_covers_every_operation_the_commit_router_serves():
    assert any(r is router and prefix == "/forecasts/commit" for prefix, r in api._routers)
    assert {(m, p) for m, p, _case in EXPECTED} == served_operations()


@pytest.mark.parametrize("key", list(EXPECTED), ids=[f"{m} {p} ({c})" for m, p, c in EXPECTED])
def test_every_person_gets_the_expected_status(org, books, api_as, key):
    got = {}
    for who in PEOPLE:
        response = call(api_as(getattr(org, who)), key, org, books)
        got[who] = response.status_code
        if response.status_code >= 400:
            assert response.json()["message"], (who, response.content)

    assert got == EXPECTED[key]


def test_anonymous_callers_are_refused_everywhere(org, books, client):
    base = "/api/forecasts/commit"
    json = "application/json"
    responses = [
        client.get(f"{base}/sheet"),
        client.get(f"{base}/team"),
        client.put(f"{base}/deals/{books['deal'].pk}/category", data={"category": "commit"}, content_type=json),
        client.post(
            f"{base}/submissions", data={"period_start": START, "period_end": END, "amount": "1"}, content_type=json
        ),
        client.post(
            f"{base}/submissions/{books['submission'].pk}/adjustments",
            data={"amount": "1", "reason": "r"},
            content_type=json,
        ),
    ]

    assert [r.status_code for r in responses] == [401] * len(served_operations())
