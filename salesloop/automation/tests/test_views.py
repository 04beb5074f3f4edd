"""The automation, notification and calendar pages: who sees what, forms, and query budgets."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from salesloop.activities.models import ActivityKind
from salesloop.automation import scheduler
from salesloop.automation.briefs import morning_briefs_send
from salesloop.automation.engine import rules_sweep
from salesloop.automation.models import EveningReport, Holiday, JobRun, Rule
from salesloop.automation.tests.clock import local
from salesloop.notifications.models import Notification, NotificationPreference
from salesloop.testing.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_header_shows_the_unread_count_and_the_daily_rhythm_menu(org):
    Rule.objects.update(active_since=local("2025-06-01"))
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False):
        LeadFactory(owner=org.rep_a1)
        rules_sweep()
        page = browser(org.rep_a1).get("/notifications/")
        badge = browser(org.rep_a1).get("/notifications/badge/")

    html = page.content.decode()
    assert 'data-testid="notifications-unread">1<' in html
    assert 'data-nav="brief"' in html and 'data-nav="jobs"' not in html
    assert 'data-testid="notifications-unread">1<' in badge.content.decode()
    assert 'data-nav="jobs"' in browser(org.admin).get("/notifications/").content.decode()


def test_marking_a_notification_read_by_htmx_returns_the_row(org):
    Rule.objects.update(active_since=local("2025-06-01"))
    LeadFactory(owner=org.rep_a1)
    rules_sweep()
    notification = Notification.objects.get()
    client = browser(org.rep_a1)

    response = client.post(f"/notifications/{notification.pk}/read/", HTTP_HX_REQUEST="true")
    someone_else = browser(org.rep_a2).post(f"/notifications/{notification.pk}/read/")

    assert response.status_code == 200 and 'data-read="1"' in response.content.decode()
    assert someone_else.status_code == 404


def test_the_notification_list_costs_the_same_queries_for_5_or_50_notifications(
    org, django_assert_max_num_queries
):
    from salesloop.notifications.services import Draft, notifications_create

    client = browser(org.rep_a1)
    client.get("/notifications/")  # warm the session and settings rows
    for size in (5, 50):
        notifications_create(
            drafts=[
                Draft(
                    recipient_id=org.rep_a1.pk, kind="task", title=f"t{i}", dedupe_key=f"{size}-{i}"
                )
                for i in range(size)
            ]
        )
        with django_assert_max_num_queries(14):
            assert client.get("/notifications/").status_code == 200


def test_the_morning_brief_page_shows_todays_brief(org, django_assert_max_num_queries):
    with time_machine.travel(local("2025-06-03", "08:30"), tick=False):
        ActivityFactory(
            account__owner=org.rep_a1,
            owner=org.rep_a1,
            kind=ActivityKind.VISIT,
            occurred_at=local("2025-06-02", "15:00"),
        )
        morning_briefs_send()
        client = browser(org.rep_a1)
        client.get("/automation/brief/")
        with django_assert_max_num_queries(14):
            page = client.get("/automation/brief/")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="brief"' in html
    assert "2025-06-02" in html  # yesterday's numbers are Monday's
    assert browser(org.rep_a1).get("/automation/brief/2030-01-01/").status_code == 200
    assert (
        'data-testid="brief-missing"'
        in browser(org.rep_a1).get("/automation/brief/2030-01-01/").content.decode()
    )
    assert browser(org.rep_a1).get("/automation/brief/not-a-date/").status_code == 404


def test_the_evening_form_is_prefilled_and_a_missing_plan_is_a_field_error(org):
    with time_machine.travel(local("2025-06-02", "17:00"), tick=False):
        ActivityFactory(account__owner=org.rep_a1, owner=org.rep_a1, kind=ActivityKind.CALL)
        client = browser(org.rep_a1)
        form = client.get("/automation/evening/")
        missing = client.post("/automation/evening/", {"n_calls": "1", "tomorrow_plan": ""})
        filed = client.post(
            "/automation/evening/",
            {"n_calls": "2", "n_visits": "1", "tomorrow_plan": "拜访客户", "blockers": "缺样品"},
        )
        lead_page = browser(org.lead_a1).get("/automation/evening/team/")

    assert 'name="n_calls" value="1"' in form.content.decode()
    assert (
        missing.status_code == 422
        and 'data-field-error="tomorrow_plan"' in missing.content.decode()
    )
    assert filed.status_code == 302
    report = EveningReport.objects.get()
    assert (report.numbers["calls"], report.logged["calls"], report.blockers) == (2, 1, "缺样品")
    html = lead_page.content.decode()
    assert (
        'data-user="rep_a1" data-submitted="1"' in html
        and 'data-user="rep_a1b" data-submitted="0"' in html
    )
    assert "缺样品" in html


def test_only_admin_edits_a_rule_and_its_conditions_are_validated(org):
    rule = Rule.objects.get(code="birthday_reminder")
    assert browser(org.manager_a).get(f"/automation/rules/{rule.pk}/").status_code == 403
    assert browser(org.manager_a).get("/automation/rules/").status_code == 200
    client = browser(org.admin)
    page = client.get(f"/automation/rules/{rule.pk}/")
    data = {
        "version": rule.version,
        "name": rule.name,
        "name_en": rule.name_en,
        "is_active": "on",
        "create_task": "on",
        "task_kind": "reminder",
        "task_title": rule.task_title,
        "task_title_en": rule.task_title_en,
        "assign_to": "owner",
        "due_amount": "1",
        "due_unit": "working_days",
        "notify_assignee": "on",
        "param_days_before": "7",
    }
    saved = client.post(f"/automation/rules/{rule.pk}/", data)
    too_far = client.post(
        f"/automation/rules/{rule.pk}/",
        {**data, "version": rule.version + 1, "param_days_before": "99"},
    )
    stale = client.post(f"/automation/rules/{rule.pk}/", {**data, "param_days_before": "5"})

    assert page.status_code == 200 and 'name="param_days_before"' in page.content.decode()
    assert saved.status_code == 302
    assert too_far.status_code == 422
    assert stale.status_code == 302  # back to the form with the current values
    rule.refresh_from_db()
    assert (rule.params, rule.due_amount, rule.version) == ({"days_before": 7}, 1, 2)


def test_admin_adds_and_removes_holidays_and_others_only_read(org):
    add = browser(org.admin).post(
        "/automation/holidays/", {"date": "2025-10-01", "name": "国庆节", "kind": "holiday"}
    )
    duplicate = browser(org.admin).post(
        "/automation/holidays/", {"date": "2025-10-01", "name": "x", "kind": "holiday"}
    )
    by_rep = browser(org.rep_a1).post(
        "/automation/holidays/", {"date": "2025-10-02", "name": "x", "kind": "holiday"}
    )
    listed = browser(org.rep_a1).get("/automation/holidays/")
    holiday = Holiday.objects.get()
    removed_by_rep = browser(org.rep_a1).post(f"/automation/holidays/{holiday.pk}/delete/")

    assert add.status_code == 302 and duplicate.status_code == 422 and by_rep.status_code == 403
    assert (
        "国庆节" in listed.content.decode()
        and 'data-testid="holiday-form"' not in listed.content.decode()
    )
    assert removed_by_rep.status_code == 403
    assert browser(org.admin).post(f"/automation/holidays/{holiday.pk}/delete/").status_code == 302
    assert not Holiday.objects.exists()


def test_the_jobs_page_lists_jobs_and_a_failure_with_its_traceback(
    org, monkeypatch, django_assert_max_num_queries
):
    from salesloop.automation import jobs

    def broken(*, now, slot):
        raise KeyError("missing-setting")

    monkeypatch.setitem(jobs.JOBS, "rules_sweep", broken)
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False):
        for run_id in scheduler.tick():
            scheduler.run_job(run_id)
        client = browser(org.admin)
        client.get("/automation/jobs/")
        with django_assert_max_num_queries(14):
            page = client.get("/automation/jobs/")
        run_id = JobRun.objects.get(job__name="rules_sweep").pk
        detail = client.get(f"/automation/runs/{run_id}/")
        retried = client.post(f"/automation/runs/{run_id}/retry/")
        run_now = client.post("/automation/jobs/morning_brief/run/")

    html = page.content.decode()
    assert 'data-job="rules_sweep"' in html and 'data-job="morning_brief"' in html
    assert "KeyError" in html
    assert "Traceback (most recent call last)" in detail.content.decode()
    assert retried.status_code == 302 and run_now.status_code == 302
    assert browser(org.manager_a).get("/automation/jobs/").status_code == 403
    assert browser(org.rep_a1).post("/automation/jobs/rules_sweep/run/").status_code == 403


def test_preferences_page_saves_quiet_hours_and_adds_a_personal_webhook(org):
    client = browser(org.rep_a1)
    saved = client.post(
        "/notifications/preferences/",
        {"email": "on", "quiet_start": "21:00", "quiet_end": "08:00", "muted_kinds": ["brief"]},
    )
    half = client.post("/notifications/preferences/", {"quiet_start": "21:00"})
    hook = client.post(
        "/notifications/preferences/",
        {
            "action": "add_webhook",
            "name": "我的飞书",
            "kind": "feishu",
            "url": "https://open.feishu.cn/open-apis/bot/v2/hook/x",
        },
    )
    bad_hook = client.post(
        "/notifications/preferences/",
        {"action": "add_webhook", "name": "x", "kind": "slack", "url": "nope"},
    )

    assert saved.status_code == 302 and half.status_code == 422 and hook.status_code == 302
    assert bad_hook.status_code == 422
    pref = NotificationPreference.objects.get(user=org.rep_a1)
    assert (pref.quiet_start, pref.quiet_end, pref.muted_kinds) == (
        dt.time(21),
        dt.time(8),
        ["brief"],
    )
    assert "我的飞书" in client.get("/notifications/preferences/").content.decode()


def test_the_calendar_page_shows_a_new_address_once_and_revokes_it(org):
    client = browser(org.rep_a1)
    issued = client.post("/calendar/issue/")
    later = client.get("/calendar/")
    revoked = client.post("/calendar/revoke/")

    assert 'data-testid="feed-url"' in issued.content.decode()
    assert (
        'data-testid="feed-url"' not in later.content.decode()
        and 'data-testid="feed-active"' in later.content.decode()
    )
    assert revoked.status_code == 302
    assert 'data-testid="feed-none"' in client.get("/calendar/").content.decode()


def test_pages_need_a_login(org):
    for path in (
        "/automation/brief/",
        "/automation/evening/",
        "/automation/rules/",
        "/notifications/",
        "/calendar/",
    ):
        response = Client().get(path)
        assert response.status_code == 302 and "/login/" in response["Location"], path
