"""Every operation of ``/api/forecasts`` × every role of the org fixture (the central matrix
delegates "/forecasts" here), and a check that no operation of the router is left out."""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.forecasting.api_forecasts import router
from salesloop.forecasting.models import Method, ScopeKind, Snapshot

pytestmark = pytest.mark.django_db

ROLES = [
    "rep_a1",
    "rep_a1b",
    "rep_a2",
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
SUPPORT = {"finance", "legal", "after_sales", "marketing"}

#: who may see which scope (everyone else in the sales line: 404; support roles: 403)
SEES = {
    "company": {"director", "admin"},
    "team_a": {"manager_a", "director", "admin"},
    "group_a1": {"lead_a1", "manager_a", "director", "admin"},
    "rep_a1": {"rep_a1", "lead_a1", "manager_a", "director", "admin"},
    "rep_b1": {"lead_b1", "director", "admin"},
}

COVERED = {("GET", ""), ("GET", "/history"), ("GET", "/accuracy"), ("GET", "/scopes")}


def scope_params(org, name: str) -> dict:
    if name == "company":
        return {"scope_kind": "company"}
    if name.startswith(("team", "group")):
        return {"scope_kind": "team", "scope_id": getattr(org, name).pk}
    return {"scope_kind": "rep", "scope_id": getattr(org, name).pk}


def expected(role: str, name: str) -> int:
    if role in SUPPORT:
        return 403
    return 200 if role in SEES[name] else 404


def test_the_tests_cover_every_operation_the_router_serves():
    served = {
        (method, path)
        for path, view in router.path_operations.items()
        for op in view.operations
        for method in op.methods
    }
    assert served == COVERED


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ["/api/forecasts", "/api/forecasts/history"])
def test_forecast_and_history_answer_by_scope_visibility(org, api_as, role, endpoint):
    client = api_as(getattr(org, role))
    for name in SEES:
        params = scope_params(org, name)
        if endpoint.endswith("forecasts"):
            params["period"] = "2026-Q1"
        r = client.get(endpoint, params)
        assert r.status_code == expected(role, name), (role, name, r.content[:200])
    default = client.get(endpoint)
    assert default.status_code == (403 if role in SUPPORT else 200)
    if default.status_code == 200 and role.startswith("rep"):
        assert default.json()["scope"] == {"kind": "rep", "id": getattr(org, role).pk, "label": str(getattr(org, role))}


@pytest.mark.parametrize("role", ROLES)
def test_accuracy_shows_only_the_scopes_the_role_sees(org, api_as, role):
    for name in ("rep_a1", "rep_b1"):
        Snapshot.objects.create(
            taken_on=dt.date(2025, 12, 29),
            scope_kind=ScopeKind.REP,
            scope_id=getattr(org, name).pk,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 1, 31),
            period_kind="month",
            method=Method.PIPELINE,
            amount=Decimal("90"),
            actual=Decimal("100"),
        )
    Snapshot.objects.create(
        taken_on=dt.date(2025, 12, 29),
        scope_kind=ScopeKind.COMPANY,
        scope_id=None,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        period_kind="month",
        method=Method.PIPELINE,
        amount=Decimal("150"),
        actual=Decimal("200"),
    )
    r = api_as(getattr(org, role)).get("/api/forecasts/accuracy", {"period_kind": "month"})
    if role in SUPPORT:
        assert r.status_code == 403
        return
    assert r.status_code == 200
    seen = {(row["level"], row["scope_id"]) for row in r.json()["scopes"]}
    allowed = {("company", None)} if role in SEES["company"] else set()
    allowed |= {("rep", getattr(org, n).pk) for n in ("rep_a1", "rep_b1") if role in SEES[n]}
    assert seen == allowed


@pytest.mark.parametrize("role", ROLES)
def test_scopes_list_what_the_role_may_forecast(org, api_as, role):
    r = api_as(getattr(org, role)).get("/api/forecasts/scopes")
    if role in SUPPORT:
        assert r.status_code == 403
        return
    assert r.status_code == 200
    got = {(s["kind"], s["id"]) for s in r.json()}
    for name in SEES:
        params = scope_params(org, name)
        key = (params["scope_kind"], params.get("scope_id"))
        assert (key in got) == (role in SEES[name]), (role, name)


def test_anonymous_callers_get_401(client):
    for method, path in COVERED:
        assert client.generic(method, "/api/forecasts" + path).status_code == 401


def test_bad_input_is_422_never_500(org, api_as):
    client = api_as(org.admin)
    assert client.get("/api/forecasts", {"period": "2026-13"}).status_code == 422
    assert client.get("/api/forecasts", {"period": "Q5"}).status_code == 422
    assert client.get("/api/forecasts", {"scope_kind": "planet"}).status_code == 422
    assert client.get("/api/forecasts", {"scope_kind": "team"}).status_code == 422
    assert client.get("/api/forecasts", {"as_of": "2999-01-01"}).status_code == 422
    assert client.get("/api/forecasts/history", {"periods": 0}).status_code == 422
    assert client.get("/api/forecasts/accuracy", {"period_kind": "week"}).status_code == 422
    assert client.get("/api/forecasts", {"scope_kind": "team", "scope_id": 999999}).status_code == 404
