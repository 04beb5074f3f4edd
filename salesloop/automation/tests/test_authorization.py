"""Every automation, notification and calendar-feed operation × every role, written out by hand.

The expectations below come from issue #4's rules, not from the code: rules and the holiday
calendar are read by everyone and kept by admin; the job log is admin's; a brief, an evening
report, a notification, preferences and a feed URL are one's own; leads (and admin) also see
their subtree's reports and keep their teams' chat webhooks and defaults. This table is what
``tests/api/test_authorization_matrix.py`` refers to for these endpoints.

Columns are roles (the actor of each role in ``salesloop.testing.org``); a cell is the status
code the operation must answer.
"""

from __future__ import annotations

import pytest
import time_machine

from salesloop.automation.briefs import morning_briefs_send
from salesloop.automation.models import Holiday, JobRun, Rule, ScheduledJob
from salesloop.automation.tests.clock import local
from salesloop.notifications.models import Notification, WebhookEndpoint
from salesloop.notifications.services import Draft, notifications_create
from salesloop.notifications.tests.receivers import ChatReceiver

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
operation                 rep  group_lead manager director finance legal after_sales marketing admin
rules_list                200  200        200     200      200     200   200         200       200
rules_get                 200  200        200     200      200     200   200         200       200
rules_update              403  403        403     403      403     403   403         403       200
holidays_list             200  200        200     200      200     200   200         200       200
holidays_create           403  403        403     403      403     403   403         403       201
holidays_delete           403  403        403     403      403     403   403         403       204
jobs_list                 403  403        403     403      403     403   403         403       200
jobs_run                  403  403        403     403      403     403   403         403       202
runs_get                  403  403        403     403      403     403   403         403       200
runs_retry                403  403        403     403      403     403   403         403       200
brief_get                 200  200        200     200      404     404   404         404       404
evening_draft             200  200        200     200      200     200   200         200       200
evening_submit            200  200        200     200      422     422   422         422       422
evening_list              200  200        200     200      200     200   200         200       200
evening_status            200  200        200     200      200     200   200         200       200
notifications_list        200  200        200     200      200     200   200         200       200
unread_count              200  200        200     200      200     200   200         200       200
mark_own_read             200  200        200     200      200     200   200         200       200
mark_others_read          404  404        404     404      404     404   404         404       404
read_all                  200  200        200     200      200     200   200         200       200
preferences_get           200  200        200     200      200     200   200         200       200
preferences_set           200  200        200     200      200     200   200         200       200
team_preferences_a1       403  200        200     200      403     403   403         403       200
webhooks_list             200  200        200     200      200     200   200         200       200
webhook_create_own        201  201        201     201      201     201   201         201       201
webhook_create_team_a1    403  201        201     201      403     403   403         403       201
webhook_update_reps       200  404        404     404      404     404   404         404       200
webhook_test_reps         200  404        404     404      404     404   404         404       200
webhook_delete_reps       204  404        404     404      404     404   404         404       204
calendar_get              200  200        200     200      200     200   200         200       200
calendar_issue            201  201        201     201      201     201   201         201       201
calendar_revoke           204  204        204     204      204     204   204         204       204
"""


def _table() -> dict[str, dict[str, int]]:
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    roles = lines[0][1:]
    assert roles == list(ACTOR)
    return {row[0]: dict(zip(roles, map(int, row[1:]), strict=True)) for row in lines[1:]}


EXPECTED = _table()


def _operations(org, receiver):
    """Operation name → callable(client) → response; fixtures are made before each call."""
    people = {
        p.username: p
        for p in (getattr(org, name) for name in org.__dataclass_fields__)
        if hasattr(p, "username")
    }
    rule = Rule.objects.get(code="birthday_reminder")
    failed = JobRun.objects.create(
        job=ScheduledJob.objects.get(name="purge_job_runs"),
        slot=local("2025-06-01"),
        status="failed",
    )
    reps_hook = WebhookEndpoint.objects.create(
        name="rep hook", kind="slack", url=receiver.url("/slack/rep"), owner=people["rep_a1"]
    )

    def holiday_id():
        return Holiday.objects.get_or_create(date="2025-10-01", defaults={"name": "国庆节"})[0].pk

    def own_notification(client):
        notifications_create(
            drafts=[
                Draft(
                    recipient_id=client.user.pk,
                    kind="task",
                    title="t",
                    dedupe_key=f"own-{client.user.pk}",
                )
            ]
        )
        return Notification.objects.get(dedupe_key=f"own-{client.user.pk}").pk

    others = Notification.objects.create(recipient=people["rep_b1"], title="not yours")

    return {
        "rules_list": lambda c: c.get("/api/automation/rules"),
        "rules_get": lambda c: c.get(f"/api/automation/rules/{rule.pk}"),
        "rules_update": lambda c: c.patch_json(
            f"/api/automation/rules/{rule.pk}",
            {"version": Rule.objects.get(pk=rule.pk).version, "due_amount": 2},
        ),
        "holidays_list": lambda c: c.get("/api/automation/holidays"),
        "holidays_create": lambda c: c.post_json(
            "/api/automation/holidays", {"date": "2025-10-02", "name": "假期"}
        ),
        "holidays_delete": lambda c: c.delete(f"/api/automation/holidays/{holiday_id()}"),
        "jobs_list": lambda c: c.get("/api/automation/jobs"),
        "jobs_run": lambda c: c.post("/api/automation/jobs/purge_job_runs/run"),
        "runs_get": lambda c: c.get(f"/api/automation/runs/{failed.pk}"),
        "runs_retry": lambda c: c.post(f"/api/automation/runs/{failed.pk}/retry"),
        "brief_get": lambda c: c.get("/api/automation/briefs/2025-06-02"),
        "evening_draft": lambda c: c.get("/api/automation/evening-reports/draft?date=2025-06-02"),
        "evening_submit": lambda c: c.put(
            "/api/automation/evening-reports/2025-06-02",
            data={"tomorrow_plan": "计划"},
            content_type="application/json",
        ),
        "evening_list": lambda c: c.get("/api/automation/evening-reports?date=2025-06-02"),
        "evening_status": lambda c: c.get("/api/automation/evening-reports/status?date=2025-06-02"),
        "notifications_list": lambda c: c.get("/api/notifications"),
        "unread_count": lambda c: c.get("/api/notifications/unread-count"),
        "mark_own_read": lambda c: c.post(f"/api/notifications/{own_notification(c)}/read"),
        "mark_others_read": lambda c: c.post(f"/api/notifications/{others.pk}/read"),
        "read_all": lambda c: c.post("/api/notifications/read-all"),
        "preferences_get": lambda c: c.get("/api/notifications/preferences"),
        "preferences_set": lambda c: c.put(
            "/api/notifications/preferences", data={"email": False}, content_type="application/json"
        ),
        "team_preferences_a1": lambda c: c.put(
            f"/api/notifications/team-preferences/{org.group_a1.pk}",
            data={"chat": False},
            content_type="application/json",
        ),
        "webhooks_list": lambda c: c.get("/api/notifications/webhooks"),
        "webhook_create_own": lambda c: c.post_json(
            "/api/notifications/webhooks",
            {"name": "mine", "kind": "slack", "url": "https://hooks.example/m"},
        ),
        "webhook_create_team_a1": lambda c: c.post_json(
            "/api/notifications/webhooks",
            {
                "name": "A1",
                "kind": "wecom",
                "url": "https://qyapi.example/s?key=1",
                "team_id": org.group_a1.pk,
            },
        ),
        "webhook_update_reps": lambda c: c.patch_json(
            f"/api/notifications/webhooks/{reps_hook.pk}", {"name": "renamed"}
        ),
        "webhook_test_reps": lambda c: c.post(f"/api/notifications/webhooks/{reps_hook.pk}/test"),
        "webhook_delete_reps": lambda c: c.delete(f"/api/notifications/webhooks/{reps_hook.pk}"),
        "calendar_get": lambda c: c.get("/api/calendar/token"),
        "calendar_issue": lambda c: c.post("/api/calendar/token"),
        "calendar_revoke": lambda c: c.delete("/api/calendar/token"),
    }


def test_the_table_names_every_automation_operation_once():
    from salesloop.api import api

    served = {
        (method, f"{prefix}{path}")
        for prefix, router in api._routers
        if prefix in ("/automation", "/notifications", "/calendar")
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }
    # Each served operation is exercised by at least one row (some rows probe one operation twice).
    assert len(served) == 30
    assert len(EXPECTED) == 32


@pytest.mark.parametrize("role", list(ACTOR))
def test_each_role_gets_exactly_the_answers_of_the_table(org, api_as, role):
    receiver = ChatReceiver().start()
    try:
        with time_machine.travel(local("2025-06-02", "09:00"), tick=False):
            morning_briefs_send()
            operations = _operations(org, receiver)
            assert set(operations) == set(EXPECTED)
            client = api_as(getattr(org, ACTOR[role]))
            got = {}
            for name, call in operations.items():
                got[name] = call(client).status_code
    finally:
        receiver.stop()

    want = {name: row[role] for name, row in EXPECTED.items()}
    assert {k: v for k, v in got.items() if v != want[k]} == {}, f"got {got}"
