"""Every scoring operation × every role, written out by hand (``tests/api/test_authorization_matrix.py``
delegates ``/scoring`` here).

The expectations come from the rules, not from the code: the model's metrics and history describe
the whole organisation in aggregate and are for those who lead people and for admin; a deal's
score is read by whoever may read the deal (a rep their own, a group lead their group, a manager
their team, a director, finance and admin everything) and is invisible — 404, so ids do not leak —
to anyone else; retraining is organisation-wide: managers, directors and admin.

Columns are roles (the actor of each role in ``salesloop.testing.org``); a cell is the status code.
"""

from __future__ import annotations

import pytest

from salesloop.api import api
from salesloop.scoring.services import model_retrain

from .builders import account, at, deal

pytestmark = pytest.mark.django_db

ACTOR = {
    "rep": "rep_a1",
    "group_lead": "lead_a1",
    "manager": "manager_a",
    "director": "director",
    "finance": "finance",
    "legal": "legal",
    "after_sales": "after_sales",
    "marketing": "marketing",
    "admin": "admin",
}

MATRIX = """
operation           rep  group_lead manager director finance legal after_sales marketing admin
model               403  200        200     200      403     403   403         403       200
models              403  200        200     200      403     403   403         403       200
score_own_group     200  200        200     200      200     404   404         404       200
score_group_a2      404  404        200     200      200     404   404         404       200
score_team_b        404  404        404     200      200     404   404         404       200
retrain             403  403        200     200      403     403   403         403       200
"""

#: Which (method, path) of the router each operation exercises.
ROUTES = {
    "model": ("GET", "/model"),
    "models": ("GET", "/models"),
    "score_own_group": ("GET", "/opportunities/{int:opportunity_id}"),
    "score_group_a2": ("GET", "/opportunities/{int:opportunity_id}"),
    "score_team_b": ("GET", "/opportunities/{int:opportunity_id}"),
    "retrain": ("POST", "/retrain"),
}


def _table() -> dict[str, dict[str, int]]:
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    roles = lines[0][1:]
    assert roles == list(ACTOR)
    return {row[0]: dict(zip(roles, map(int, row[1:]), strict=True)) for row in lines[1:]}


EXPECTED = _table()


def _served() -> set[tuple[str, str]]:
    for prefix, router in api._routers:
        if prefix == "/scoring":
            return {
                (method, path)
                for path, view in router.path_operations.items()
                for operation in view.operations
                for method in operation.methods
            }
    raise AssertionError("the scoring router is not mounted at /scoring")


def test_every_operation_the_router_serves_is_in_the_matrix():
    assert set(ROUTES.values()) == _served()
    assert set(ROUTES) == set(EXPECTED)


@pytest.fixture
def deals(org):
    """One open deal in Group A1 (rep_a1's), one in Group A2, one in Team B; a baseline run exists."""
    own = deal(org.rep_a1, account(org.rep_a1), created=at(1), moves=[("qualified", at(1))])
    a2 = deal(org.rep_a2, account(org.rep_a2), created=at(1), moves=[("lead", at(1))])
    b = deal(org.rep_b1, account(org.rep_b1), created=at(1), moves=[("proposal", at(1))])
    model_retrain(now=at(10), force=True)  # too few closed deals: the baseline is served
    return {"score_own_group": own, "score_group_a2": a2, "score_team_b": b}


@pytest.mark.parametrize("operation", list(EXPECTED))
@pytest.mark.parametrize("role", list(ACTOR))
def test_matrix(org, api_as, deals, operation, role):
    client = api_as(getattr(org, ACTOR[role]))
    if operation == "model":
        response = client.get("/api/scoring/model")
    elif operation == "models":
        response = client.get("/api/scoring/models")
    elif operation == "retrain":
        response = client.post("/api/scoring/retrain")
    else:
        response = client.get(f"/api/scoring/opportunities/{deals[operation].pk}")
    assert response.status_code == EXPECTED[operation][role], response.content
    if response.status_code == 200 and operation.startswith("score_"):
        body = response.json()
        assert body["opportunity_id"] == deals[operation].pk
        assert body["from_baseline"] is True and 0 < body["probability"] < 1
