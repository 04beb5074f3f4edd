"""Whatever a client sends to the automation, notification and calendar API: a 4xx with a JSON
body, never a 500 (hypothesis throws wrong types, huge numbers, NUL bytes and unknown keys)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesloop.automation.models import Rule
from salesloop.notifications.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
nasty = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(
        ["", "\x00", "a\x00b", "9" * 400, "NaN", "2025-02-30", "25:99", "{x}", "{", "-1"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from([float("inf"), 1e308]),
)
value = st.recursive(
    nasty,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=5,
)


def bodies(fields: list[str]) -> st.SearchStrategy:
    return st.dictionaries(st.sampled_from([*fields, "unknown"]), value, max_size=len(fields) + 1)


RULE_FIELDS = [
    "version",
    "name",
    "params",
    "task_kind",
    "task_title",
    "assign_to",
    "due_amount",
    "due_unit",
    "notify_role",
    "escalate_after_hours",
    "is_active",
]


def _send(client, method: str, path: str, body) -> None:
    response = getattr(client, method)(
        path, data=json.dumps(body, allow_nan=True), content_type="application/json"
    )
    assert response.status_code < 500, (method, path, body, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


@EXAMPLES
@given(
    body=bodies(RULE_FIELDS),
    params=st.dictionaries(st.sampled_from(["days_before", "x"]), value, max_size=2),
)
def test_garbage_rule_edits_get_4xx(org, api_as, body, params):
    rule = Rule.objects.get(code="birthday_reminder")
    body.setdefault("params", params)
    _send(api_as(org.admin), "patch", f"/api/automation/rules/{rule.pk}", body)


@EXAMPLES
@given(
    holiday=bodies(["date", "name", "kind"]),
    report=bodies(["numbers", "tomorrow_plan", "blockers", "results_note", "version"]),
    numbers=st.dictionaries(
        st.sampled_from(["visits", "won_amount", "collected", "x"]), value, max_size=3
    ),
)
def test_garbage_holidays_and_reports_get_4xx(org, api_as, holiday, report, numbers):
    _send(api_as(org.admin), "post", "/api/automation/holidays", holiday)
    report.setdefault("numbers", numbers)
    _send(api_as(org.rep_a1), "put", "/api/automation/evening-reports/today", report)


@EXAMPLES
@given(
    pref=bodies(["email", "chat", "webhook_id", "quiet_start", "quiet_end", "muted_kinds"]),
    hook=bodies(["name", "kind", "url", "secret", "team_id", "owner_id", "is_active"]),
)
def test_garbage_preferences_and_webhooks_get_4xx(org, api_as, pref, hook):
    client = api_as(org.lead_a1)
    _send(client, "put", "/api/notifications/preferences", pref)
    _send(client, "put", f"/api/notifications/team-preferences/{org.group_a1.pk}", pref)
    _send(client, "post", "/api/notifications/webhooks", hook)
    existing = WebhookEndpoint.objects.get_or_create(
        name="g", kind="slack", url="https://hooks.example/g", team=org.group_a1
    )[0]
    _send(client, "patch", f"/api/notifications/webhooks/{existing.pk}", hook)


@pytest.mark.parametrize(
    "path",
    [
        "/api/automation/briefs/2025-02-30",
        "/api/automation/briefs/99999-01-01",
        "/api/automation/evening-reports?date=%00",
        "/api/automation/evening-reports/status?date=yesterday",
        "/api/automation/holidays?year=99999999999999999999",
        "/api/automation/rules/99999999999999999999999",
        "/api/automation/runs/99999999999999999999999",
        "/api/notifications?page=0",
        "/api/notifications?page_size=100000",
    ],
)
def test_garbage_queries_and_paths_get_4xx(org, api_as, path):
    response = api_as(org.admin).get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.content[:200])
