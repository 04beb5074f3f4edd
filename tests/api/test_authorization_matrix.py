"""Who may do what through the API: every operation × every role × whose record it is.

The expected answers below are written out by hand from the rules of issue #2, *not* read from
``salesloop.org.access.POLICY``, so that a change to the policy (or a bug in applying it) makes
this test fail instead of silently agreeing with itself:

* a rep reads and writes their own book; a group lead their group's; a manager or director the
  subtree of the team they sit in; admin everything;
* finance sees money (orders, invoices, payments, contracts, deals, accounts) but no activities,
  and writes invoices and payments; legal reads accounts and orders and keeps contracts;
  after-sales reads accounts, contacts and orders; marketing reads accounts and keeps leads;
* everyone has their own tasks; reference data (products, stages, loss reasons, people, teams)
  is read by all and kept by admin (products also by directors).

How each cell is checked:

======  =====================  ===========================  =============================
cell    list / export          get / history                update / delete / create
======  =====================  ===========================  =============================
``W``   row is listed          200                          200 / 204 / 201
``R``   row is listed          200                          403 (readable, not writable)
``-``   row is not listed      404 (ids do not leak)        404 on update/delete; create: 403,
                                                            or 422 on the account/invoice id
                                                            when that parent is invisible too
======  =====================  ===========================  =============================

A new endpoint that is not in :data:`OPERATIONS` fails :func:`test_every_api_operation_is_in_the_matrix`.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from salesloop.api import api

from .world import ACTOR_OF_ROLE, PEOPLE, ROLES, World, harmless_change, module_world

# --------------------------------------------------------------------------------------------
# The expected matrix.
#
# Columns say where the record's owner sits in ``salesloop.testing.org``:
#   own  the caller's own record
#   A1   Group A1 (rep_a1, rep_a1b, lead_a1) - the rep's and the group lead's own group
#   A    Team A outside Group A1 (rep_a2 in Group A2, manager_a) - the manager's team
#   out  outside Team A (Team B: lead_b1, rep_b1; company level: director, finance, ... admin)
# --------------------------------------------------------------------------------------------

BOOKS: dict[str, str] = {
    "accounts": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      R    R   R   R
        legal        R    R   R   R
        after_sales  R    R   R   R
        marketing    R    R   R   R
        admin        W    W   W   W
    """,
    "contacts": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      -    -   -   -
        legal        -    -   -   -
        after_sales  R    R   R   R
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
    "leads": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      -    -   -   -
        legal        -    -   -   -
        after_sales  -    -   -   -
        marketing    W    W   W   W
        admin        W    W   W   W
    """,
    "opportunities": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      R    R   R   R
        legal        -    -   -   -
        after_sales  -    -   -   -
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
    "activities": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      -    -   -   -
        legal        -    -   -   -
        after_sales  -    -   -   -
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
    "tasks": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      W    -   -   -
        legal        W    -   -   -
        after_sales  W    -   -   -
        marketing    W    -   -   -
        admin        W    W   W   W
    """,
    "orders": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      R    R   R   R
        legal        R    R   R   R
        after_sales  R    R   R   R
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
    "invoices": """
        role         own  A1  A   out
        rep          R    -   -   -
        group_lead   R    R   -   -
        manager      R    R   R   -
        director     R    R   R   R
        finance      W    W   W   W
        legal        -    -   -   -
        after_sales  -    -   -   -
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
    "payments": """
        role         own  A1  A   out
        rep          R    -   -   -
        group_lead   R    R   -   -
        manager      R    R   R   -
        director     R    R   R   R
        finance      W    W   W   W
        legal        -    -   -   -
        after_sales  -    -   -   -
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
    "contracts": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      R    R   R   R
        legal        W    W   W   W
        after_sales  -    -   -   -
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
    # Customer operations (issue #6): needs are read by marketing and after-sales everywhere (the
    # weekly needs report is for product and marketing); account plans follow the sales line.
    "needs": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      -    -   -   -
        legal        -    -   -   -
        after_sales  R    R   R   R
        marketing    R    R   R   R
        admin        W    W   W   W
    """,
    "account-plans": """
        role         own  A1  A   out
        rep          W    -   -   -
        group_lead   W    W   -   -
        manager      W    W   W   -
        director     W    W   W   W
        finance      -    -   -   -
        legal        -    -   -   -
        after_sales  -    -   -   -
        marketing    -    -   -   -
        admin        W    W   W   W
    """,
}

#: Reference data has no owner: one cell per role.
REFERENCE = """
    role         products  stages  loss-reasons  users  teams
    rep          R         R       R             R      R
    group_lead   R         R       R             R      R
    manager      R         R       R             R      R
    director     W         R       R             R      R
    finance      R         R       R             R      R
    legal        R         R       R             R      R
    after_sales  R         R       R             R      R
    marketing    R         R       R             R      R
    admin        W         W       W             W      W
"""

#: Moving a book (``POST /api/org/reassign-book``) from one person to another: only inside the
#: mover's own subtree, both ends. ``ok`` = 200, ``no`` = 403.
REASSIGN = """
    role         A1->A1  A->A1  out->A1  A1->out
    rep          no      no     no       no
    group_lead   ok      no     no       no
    manager      ok      ok     no       no
    director     ok      ok     ok       ok
    finance      no      no     no       no
    legal        no      no     no       no
    after_sales  no      no     no       no
    marketing    no      no     no       no
    admin        ok      ok     ok       ok
"""
REASSIGN_MOVES = {
    "A1->A1": ("rep_a1", "rep_a1b"),
    "A->A1": ("rep_a2", "rep_a1"),
    "out->A1": ("rep_b1", "rep_a1"),
    "A1->out": ("rep_a1", "rep_b1"),
}

#: Which endpoints each resource offers. Payments are never edited or deleted through the API
#: (money received is corrected in the admin, with an audit trail); people and teams are
#: deactivated, not deleted; audited records have a history.
RESOURCE_OPERATIONS = {
    "accounts": "list export get create update delete history",
    "contacts": "list export get create update delete",
    "leads": "list export get create update delete",
    "opportunities": "list export get create update delete history",
    "activities": "list export get create update delete",
    "tasks": "list export get create update delete",
    "orders": "list export get create update delete history",
    "invoices": "list export get create update delete history",
    "payments": "list export get create history",
    "contracts": "list export get create update delete history",
    "products": "list export get create update delete",
    "stages": "list export get create update delete",
    "loss-reasons": "list export get create update delete",
    "users": "list export get create update",
    "teams": "list export get create update",
    "needs": "list export get create update delete",
    "account-plans": "list export get create update delete",
}

#: Whole routers whose every operation × role is checked by the app's own authorization tests
#: (each of those files also asserts that it covers every operation its router serves).
DELEGATED_PREFIXES = {
    "/forecasts": "forecasting",  # salesloop/forecasting/tests/test_authorization_{forecasts,commit}.py
    "/scoring": "scoring",  # salesloop/scoring/tests/test_authorization.py
    "/intel/analytics": "intel",  # salesloop/intel/tests/test_analytics_api.py
}

#: Hand-written endpoints, checked by their own tests below.
SPECIAL_OPERATIONS = {
    ("POST", "/auth/token"): "token",
    ("GET", "/me"): "me",
    ("POST", "/org/reassign-book"): "reassign",
    # Imports: a file may do what the importer may do in the API, row by row
    # (salesloop/dataio/tests/test_permissions.py).
    ("GET", "/import/entities"): "dataio",
    ("GET", "/import/templates/{entity}"): "dataio",
    ("GET", "/import/runs"): "dataio",
    ("POST", "/import/{entity}"): "dataio",
    # Customer operations: analyses read through org.access (salesloop/custops/tests/test_api.py).
    ("GET", "/custops/segments"): "custops",
    ("GET", "/custops/segments/movements"): "custops",
    ("GET", "/custops/accounts/{int:account_id}"): "custops",
    ("POST", "/custops/accounts/{int:account_id}/tier"): "custops",
    ("GET", "/custops/tier-proposals"): "custops",
    ("GET", "/custops/call-list"): "custops",
    ("GET", "/custops/at-risk"): "custops",
    ("GET", "/custops/coverage"): "custops",
    ("GET", "/custops/sla"): "custops",
    ("GET", "/custops/needs-report"): "custops",
    ("GET", "/custops/model"): "custops",
    ("POST", "/custops/recompute"): "custops",
    # Targets and the daily loop: who reads and writes what is checked role by role in
    # Pipeline intelligence (issue #7): analyses read through org.access, rules kept by admin
    # (salesloop/intel/tests/test_api.py).
    ("GET", "/intel/funnel"): "intel",
    ("GET", "/intel/heatmap"): "intel",
    ("GET", "/intel/assignments"): "intel",
    ("GET", "/intel/leads/unassigned"): "intel",
    ("GET", "/intel/routing-rules"): "intel",
    ("POST", "/intel/routing-rules"): "intel",
    ("PATCH", "/intel/routing-rules/{int:rule_id}"): "intel",
    ("GET", "/intel/benchmarks"): "intel",
    ("POST", "/intel/benchmarks"): "intel",
    ("PATCH", "/intel/benchmarks/{int:benchmark_id}"): "intel",
    ("POST", "/intel/leads/{int:lead_id}/route"): "intel",
    ("POST", "/intel/routing/preview"): "intel",
    # salesloop/targets/tests/test_api.py (targets are team- or rep-scoped, not owned records).
    ("GET", "/targets"): "targets",
    ("POST", "/targets"): "targets",
    ("GET", "/targets/{int:record_id}"): "targets",
    ("PATCH", "/targets/{int:record_id}"): "targets",
    ("DELETE", "/targets/{int:record_id}"): "targets",
    ("GET", "/targets/{int:record_id}/attainment"): "targets",
    ("POST", "/targets/{int:record_id}/decision"): "targets",
    ("POST", "/targets/{int:record_id}/decompose"): "targets",
    ("GET", "/targets/{int:record_id}/history"): "targets",
    ("POST", "/targets/submissions"): "targets",
    ("GET", "/targets/tracking"): "targets",
    ("GET", "/targets/run-rate"): "targets",
    ("GET", "/targets/today"): "targets",
    ("POST", "/targets/funnel"): "targets",
    ("POST", "/targets/funnel/apply"): "targets",
    ("GET", "/targets/flags"): "targets",
    ("POST", "/targets/flags/detect"): "targets",
    ("GET", "/targets/attribution"): "targets",
    ("GET", "/targets/packs/{kind}"): "targets",
    ("GET", "/targets/splits/{kind}/{int:record_id}"): "targets",
    ("PUT", "/targets/splits/{kind}/{int:record_id}"): "targets",
    ("GET", "/targets/settings"): "targets",
    ("PATCH", "/targets/settings"): "targets",
    ("GET", "/targets/rules"): "targets",
    ("PATCH", "/targets/rules/{int:record_id}"): "targets",
    ("GET", "/targets/profiles"): "targets",
    ("POST", "/targets/profiles"): "targets",
    # Automation, notifications and the calendar feed (issue #4): every operation × every role
    # is checked in salesloop/automation/tests/test_authorization.py (rules and holidays are kept
    # by admin, jobs are admin's, briefs/reports/notifications/feeds are one's own or one's team's).
    ("GET", "/automation/rules"): "automation",
    ("GET", "/automation/rules/{int:rule_id}"): "automation",
    ("PATCH", "/automation/rules/{int:rule_id}"): "automation",
    ("GET", "/automation/holidays"): "automation",
    ("POST", "/automation/holidays"): "automation",
    ("DELETE", "/automation/holidays/{int:holiday_id}"): "automation",
    ("GET", "/automation/jobs"): "automation",
    ("POST", "/automation/jobs/{name}/run"): "automation",
    ("GET", "/automation/runs/{int:run_id}"): "automation",
    ("POST", "/automation/runs/{int:run_id}/retry"): "automation",
    ("GET", "/automation/briefs/{day}"): "automation",
    ("GET", "/automation/evening-reports/draft"): "automation",
    ("GET", "/automation/evening-reports"): "automation",
    ("GET", "/automation/evening-reports/status"): "automation",
    ("PUT", "/automation/evening-reports/{day}"): "automation",
    ("GET", "/notifications"): "automation",
    ("GET", "/notifications/unread-count"): "automation",
    ("POST", "/notifications/{int:notification_id}/read"): "automation",
    ("POST", "/notifications/read-all"): "automation",
    ("GET", "/notifications/preferences"): "automation",
    ("PUT", "/notifications/preferences"): "automation",
    ("PUT", "/notifications/team-preferences/{int:team_id}"): "automation",
    ("GET", "/notifications/webhooks"): "automation",
    ("POST", "/notifications/webhooks"): "automation",
    ("PATCH", "/notifications/webhooks/{int:webhook_id}"): "automation",
    ("DELETE", "/notifications/webhooks/{int:webhook_id}"): "automation",
    ("POST", "/notifications/webhooks/{int:webhook_id}/test"): "automation",
    ("GET", "/calendar/token"): "automation",
    ("POST", "/calendar/token"): "automation",
    ("DELETE", "/calendar/token"): "automation",
}

_ROUTE = {
    "list": ("GET", ""),
    "export": ("GET", "/export"),
    "get": ("GET", "/{int:record_id}"),
    "create": ("POST", ""),
    "update": ("PATCH", "/{int:record_id}"),
    "delete": ("DELETE", "/{int:record_id}"),
    "history": ("GET", "/{int:record_id}/history"),
}


def _table(text: str) -> dict[str, dict[str, str]]:
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0][1:], lines[1:]
    table = {row[0]: dict(zip(header, row[1:], strict=True)) for row in rows}
    assert sorted(table) == sorted(ROLES), f"the table must have exactly one row per role: {sorted(table)}"
    return table


EXPECTED_BOOKS = {kind: _table(text) for kind, text in BOOKS.items()}
EXPECTED_REFERENCE = _table(REFERENCE)
EXPECTED_REASSIGN = _table(REASSIGN)

#: Where each person of ``build_org`` sits, as the matrix's columns name it.
ZONE = {
    "rep_a1": "A1",
    "rep_a1b": "A1",
    "lead_a1": "A1",
    "rep_a2": "A",
    "manager_a": "A",
    "rep_b1": "out",
    "lead_b1": "out",
    "director": "out",
    "finance": "out",
    "legal": "out",
    "after_sales": "out",
    "marketing": "out",
    "admin": "out",
}
#: The person whose record stands for each column in single-record checks.
TARGET_OWNER = {"A1": "rep_a1b", "A": "rep_a2", "out": "rep_b1"}

#: The parent a new record hangs from, and the book whose table says whether it is visible.
PARENT = {
    "contacts": "accounts",
    "opportunities": "accounts",
    "orders": "accounts",
    "invoices": "accounts",
    "contracts": "accounts",
    "payments": "invoices",
    "needs": "accounts",
    "account-plans": "accounts",
}


def declared_operations() -> dict[tuple[str, str], tuple[str, str]]:
    """``(method, path)`` → ``(resource, operation)`` for everything the matrix covers."""
    ops: dict[tuple[str, str], tuple[str, str]] = {}
    for resource, names in RESOURCE_OPERATIONS.items():
        for name in names.split():
            method, suffix = _ROUTE[name]
            ops[(method, f"/{resource}{suffix}")] = (resource, name)
    for key, name in SPECIAL_OPERATIONS.items():
        ops[key] = ("", name)
    for method, path in api_operations():
        for prefix, name in DELEGATED_PREFIXES.items():
            if path.startswith(prefix):
                ops[(method, path)] = ("", name)
    return ops


def api_operations() -> set[tuple[str, str]]:
    """Every (method, path) the Ninja API serves, read from its routers."""
    found = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    found.add((method, f"{prefix}{path}"))
    return found


def test_every_api_operation_is_in_the_matrix():
    served, declared = api_operations(), set(declared_operations())

    assert served - declared == set(), "endpoints without authorization expectations"
    assert declared - served == set(), "the matrix expects endpoints the API does not serve"


def test_the_matrix_covers_every_business_record_and_every_role():
    assert set(EXPECTED_BOOKS) | set(EXPECTED_REFERENCE["rep"]) == set(RESOURCE_OPERATIONS)
    assert set(ZONE) == set(PEOPLE), "every person of the test organisation sits in one column"


# --------------------------------------------------------------------------------------------
# Running the matrix.
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker) as built:
        yield built


class Caller:
    """One role's bearer-token client."""

    def __init__(self, world: World, role: str) -> None:
        self.username = ACTOR_OF_ROLE[role]
        self.user = world.person(self.username)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[self.username]}")

    def get(self, path: str, **params: Any):
        return self.client.get(f"/api{path}", params)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None):
        call = getattr(self.client, method.lower())
        if body is None:
            return call(f"/api{path}")
        return call(f"/api{path}", data=body, content_type="application/json")


def _zone(caller: Caller, owner: str) -> str:
    return "own" if owner == caller.username else ZONE[owner]


def _targets(caller: Caller) -> dict[str, str]:
    """Column → the owner whose record stands for it."""
    return {"own": caller.username, **TARGET_OWNER}


def _rolled_back(callable_):
    """Run a write and undo it, so the next target sees the world as built."""
    from django.db import transaction

    with transaction.atomic():
        result = callable_()
        transaction.set_rollback(True)
    return result


_counter = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter):05d}"


def create_body(kind: str, world: World, owner: str) -> dict[str, Any]:
    """A valid new record of ``kind`` in ``owner``'s book (or, for reference data, just valid)."""
    now = timezone.now()
    today = timezone.localdate()
    person = world.person(owner) if owner else None
    account = world.parent_account.get(owner)
    bodies: dict[str, Any] = {
        "accounts": lambda: {"name": _unique("新客户"), "owner_id": person.pk},
        "contacts": lambda: {"name": _unique("联系人"), "account_id": account.pk},
        "leads": lambda: {"name": _unique("线索"), "owner_id": person.pk},
        "opportunities": lambda: {
            "name": _unique("商机"),
            "account_id": account.pk,
            "owner_id": person.pk,
            "amount": "1000.00",
        },
        "activities": lambda: {"kind": "call", "occurred_at": now.isoformat(), "owner_id": person.pk},
        "tasks": lambda: {"title": _unique("任务"), "due_at": now.isoformat(), "assignee_id": person.pk},
        "orders": lambda: {
            "number": _unique("SO"),
            "account_id": account.pk,
            "owner_id": person.pk,
            "order_date": today.isoformat(),
        },
        "invoices": lambda: {
            "number": _unique("INV"),
            "account_id": account.pk,
            "issue_date": today.isoformat(),
            "due_date": today.isoformat(),
            "amount": "100.00",
        },
        "payments": lambda: {"invoice_id": world.open_invoice[owner].pk, "amount": "1.00", "paid_at": now.isoformat()},
        "contracts": lambda: {
            "number": _unique("HT"),
            "title": "合同",
            "account_id": account.pk,
            "owner_id": person.pk,
            "start_date": today.isoformat(),
            "end_date": today.isoformat(),
            "value": "100.00",
        },
        "products": lambda: {
            "sku": _unique("SKU"),
            "name": "产品",
            "list_price": "10.00",
            "minimum_price": "5.00",
            "cost": "1.00",
        },
        "stages": lambda: {"code": _unique("stage"), "name": "阶段", "order": 70, "probability": "10.00"},
        "loss-reasons": lambda: {"code": _unique("reason"), "name": "原因"},
        "users": lambda: {"username": _unique("newcomer"), "role": "rep"},
        "teams": lambda: {"name": _unique("Team"), "kind": "group", "parent_id": world.org.team_a.pk},
        "needs": lambda: {"account_id": account.pk, "kind": "pain_point", "summary": _unique("需求")},
        "account-plans": lambda: {
            "account_id": account.pk,
            "tier": "growth",
            "period_start": today.isoformat(),
            "period_end": today.isoformat(),
            "revenue_goal": "1000.00",
            "goals": "续约",
        },
    }
    return bodies[kind]()


def _record(world: World, kind: str, owner: str):
    obj = world.records[kind][owner] if owner else world.reference[kind]
    return type(obj)._default_manager.get(pk=obj.pk)


def _row_has_write(kind: str, role: str) -> bool:
    if kind in EXPECTED_BOOKS:
        return "W" in EXPECTED_BOOKS[kind][role].values()
    return EXPECTED_REFERENCE[role][kind] == "W"


def expected_status(kind: str, operation: str, role: str, column: str) -> int:
    cell = EXPECTED_BOOKS[kind][role][column] if kind in EXPECTED_BOOKS else EXPECTED_REFERENCE[role][kind]
    if operation in ("get", "history"):
        return 200 if cell != "-" else 404
    if operation in ("update", "delete"):
        return {"W": 200 if operation == "update" else 204, "R": 403, "-": 404}[cell]
    assert operation == "create"
    if cell == "W":
        return 201
    parent = PARENT.get(kind)
    if cell == "-" and parent and _row_has_write(kind, role) and EXPECTED_BOOKS[parent][role][column] == "-":
        return 422  # an account or invoice the caller cannot see is answered like one that does not exist
    return 403


def _cases(operations: set[str]) -> list[tuple[str, str, str]]:
    return [
        (kind, operation, role)
        for kind, names in RESOURCE_OPERATIONS.items()
        for operation in names.split()
        if operation in operations
        for role in ROLES
    ]


def _case_id(case: tuple[str, str, str]) -> str:
    return "-".join(case)


@pytest.mark.parametrize("case", _cases({"list", "export"}), ids=_case_id)
def test_lists_and_exports_show_exactly_the_rows_the_role_may_read(world, db, case):
    kind, operation, role = case
    caller = Caller(world, role)

    if operation == "list":
        response = caller.get(f"/{kind}", page_size=200)
        assert response.status_code == 200, response.content
        seen = {item["id"] for item in response.json()["items"]}
    else:
        response = caller.get(f"/{kind}/export", format="csv")
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        seen = {int(row["id"]) for row in csv.DictReader(io.StringIO(text))}

    if kind in EXPECTED_BOOKS:
        table = EXPECTED_BOOKS[kind][role]
        fixture_ids = {pk for ids in world.owned[kind].values() for pk in ids}
        expected = {pk for owner, ids in world.owned[kind].items() if table[_zone(caller, owner)] != "-" for pk in ids}
        assert seen & fixture_ids == expected, _explain(world, kind, caller, seen)
        assert seen <= fixture_ids, "rows outside the test world are listed"
    else:
        assert world.reference[kind].pk in seen


def _explain(world: World, kind: str, caller: Caller, seen: set[int]) -> str:
    visible = sorted(owner for owner, ids in world.owned[kind].items() if ids & seen)
    return f"{caller.username} sees the {kind} of {visible}"


@pytest.mark.parametrize("case", _cases({"get", "history", "update", "delete"}), ids=_case_id)
def test_single_record_operations_answer_by_whose_record_it_is(world, db, case):
    kind, operation, role = case
    caller = Caller(world, role)
    columns = _targets(caller) if kind in EXPECTED_BOOKS else {"any": ""}
    got, want, bodies = {}, {}, {}

    for column, owner in columns.items():
        obj = _record(world, kind, owner)
        path = f"/{kind}/{obj.pk}"
        if operation == "get":
            response = caller.get(path)
        elif operation == "history":
            response = caller.get(f"{path}/history")
        elif operation == "update":
            body = harmless_change(kind)
            if hasattr(obj, "version"):
                body["version"] = obj.version
            response = _rolled_back(lambda p=path, b=body: caller.send("PATCH", p, b))
        else:
            response = _rolled_back(lambda p=path: caller.send("DELETE", p))
        got[column] = response.status_code
        want[column] = expected_status(kind, operation, role, column)
        bodies[column] = response.content[:300]

    assert got == want, bodies


@pytest.mark.parametrize("case", _cases({"create"}), ids=_case_id)
def test_creating_a_record_is_allowed_only_in_a_book_the_role_may_write(world, db, case):
    kind, operation, role = case
    caller = Caller(world, role)
    columns = _targets(caller) if kind in EXPECTED_BOOKS else {"any": ""}
    got, want, bodies = {}, {}, {}

    for column, owner in columns.items():
        body = create_body(kind, world, owner)
        model = type(_record(world, kind, owner))
        before = model._default_manager.count()
        response = _rolled_back(
            lambda b=body, m=model: (caller.send("POST", f"/{kind}", b), m._default_manager.count())
        )
        got[column], after = response[0].status_code, response[1]
        want[column] = expected_status(kind, operation, role, column)
        bodies[column] = response[0].content[:300]
        assert after == before + (1 if got[column] == 201 else 0), "a refused create must write nothing"

    assert got == want, bodies


@pytest.mark.parametrize("role", ROLES)
def test_moving_a_book_is_allowed_only_inside_the_movers_subtree(world, db, role):
    caller = Caller(world, role)
    got, want = {}, {}

    for move, (from_name, to_name) in REASSIGN_MOVES.items():
        body = {"from_user_id": world.person(from_name).pk, "to_user_id": world.person(to_name).pk}
        response = _rolled_back(lambda b=body: caller.send("POST", "/org/reassign-book", b))
        got[move] = response.status_code
        want[move] = {"ok": 200, "no": 403}[EXPECTED_REASSIGN[role][move]]

    assert got == want


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_themselves_at_me(world, db, role):
    caller = Caller(world, role)

    response = caller.get("/me")

    assert response.status_code == 200
    assert response.json()["id"] == caller.user.pk


@pytest.mark.parametrize("role", ROLES)
def test_everyone_exchanges_their_own_password_for_a_token(world, db, role):
    username = ACTOR_OF_ROLE[role]

    response = _rolled_back(
        lambda: Client().post(
            "/api/auth/token", {"username": username, "password": "pass-1234-word"}, content_type="application/json"
        )
    )

    assert response.status_code == 201
    assert response.json()["user_id"] == world.person(username).pk


def test_anonymous_callers_get_401_on_every_other_operation(world, db):
    anonymous = Client()
    answers = {}
    for (method, path), (_kind, name) in declared_operations().items():
        if name == "token":
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", re.sub(r"\{int:[^}]+\}", "1", path))
        body = {} if method in ("POST", "PATCH") else None
        call = getattr(anonymous, method.lower())
        response = (
            call(f"/api{concrete}", data=body, content_type="application/json")
            if body is not None
            else call(f"/api{concrete}")
        )
        answers[(method, path)] = response.status_code

    assert {key: code for key, code in answers.items() if code != 401} == {}
