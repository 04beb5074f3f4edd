"""The automation API: rules (admin edits, stale → 409, bad conditions → 422), holidays, jobs,
briefs and evening reports, each as the roles that may and may not use them."""

import datetime as dt

import pytest
import time_machine

from salesloop.activities.models import ActivityKind
from salesloop.automation import scheduler
from salesloop.automation.briefs import morning_briefs_send
from salesloop.automation.models import (
    EveningReport,
    Holiday,
    JobRun,
    Rule,
    RunStatus,
    ScheduledJob,
)
from salesloop.automation.tests.clock import local
from salesloop.testing.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def test_everyone_reads_the_rules_and_only_admin_changes_one(org, api_as):
    rule = Rule.objects.get(code="lead_first_touch")
    listed = api_as(org.rep_a1).get("/api/automation/rules")
    assert listed.status_code == 200 and "lead_first_touch" in {r["code"] for r in listed.json()}

    refused = api_as(org.manager_a).patch_json(
        f"/api/automation/rules/{rule.pk}", {"version": 1, "due_amount": 2}
    )
    changed = api_as(org.admin).patch_json(
        f"/api/automation/rules/{rule.pk}",
        {"version": rule.version, "due_amount": 2, "escalate_after_hours": None},
    )

    assert refused.status_code == 403
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["due_amount"], changed.json()["escalate_after_hours"]) == (2, None)
    assert changed.json()["version"] == rule.version + 1


def test_a_stale_rule_edit_gets_409_and_keeps_the_newer_value(org, api_as):
    rule = Rule.objects.get(code="birthday_reminder")
    client = api_as(org.admin)
    first = client.patch_json(
        f"/api/automation/rules/{rule.pk}", {"version": rule.version, "due_amount": 1}
    )
    stale = client.patch_json(
        f"/api/automation/rules/{rule.pk}", {"version": rule.version, "due_amount": 9}
    )

    assert first.status_code == 200 and stale.status_code == 409
    assert Rule.objects.get(pk=rule.pk).due_amount == 1


def test_bad_conditions_and_unknown_placeholders_are_field_errors(org, api_as):
    rule = Rule.objects.get(code="birthday_reminder")
    client = api_as(org.admin)

    bad_days = client.patch_json(
        f"/api/automation/rules/{rule.pk}",
        {"version": rule.version, "params": {"days_before": 400}},
    )
    unknown_key = client.patch_json(
        f"/api/automation/rules/{rule.pk}",
        {"version": rule.version, "params": {"days_before": 3, "colour": "red"}},
    )
    bad_title = client.patch_json(
        f"/api/automation/rules/{rule.pk}",
        {"version": rule.version, "task_title": "生日 {contakt}"},
    )
    unbalanced = client.patch_json(
        f"/api/automation/rules/{rule.pk}", {"version": rule.version, "task_title": "生日 {"}
    )

    assert bad_days.status_code == 422 and "params.days_before" in bad_days.json()["errors"]
    assert unknown_key.status_code == 422 and "params.colour" in unknown_key.json()["errors"]
    assert (
        bad_title.status_code == 422 and "{contakt}" in bad_title.json()["errors"]["task_title"][0]
    )
    assert unbalanced.status_code == 422 and "task_title" in unbalanced.json()["errors"]
    assert Rule.objects.get(pk=rule.pk).version == rule.version


def test_admin_keeps_the_holiday_calendar_and_others_read_it(org, api_as):
    created = api_as(org.admin).post_json(
        "/api/automation/holidays", {"date": "2025-10-01", "name": "国庆节"}
    )
    duplicate = api_as(org.admin).post_json(
        "/api/automation/holidays", {"date": "2025-10-01", "name": "again"}
    )
    refused = api_as(org.manager_a).post_json(
        "/api/automation/holidays", {"date": "2025-10-02", "name": "x"}
    )
    listed = api_as(org.rep_a1).get("/api/automation/holidays?year=2025")
    removed_by_rep = api_as(org.rep_a1).delete(f"/api/automation/holidays/{created.json()['id']}")
    removed = api_as(org.admin).delete(f"/api/automation/holidays/{created.json()['id']}")

    assert created.status_code == 201 and created.json()["kind"] == "holiday"
    assert duplicate.status_code == 422 and "date" in duplicate.json()["errors"]
    assert refused.status_code == 403
    assert [h["name"] for h in listed.json()] == ["国庆节"]
    assert removed_by_rep.status_code == 403 and removed.status_code == 204
    assert not Holiday.objects.exists()


def test_the_jobs_api_shows_last_and_next_runs_and_failures_to_admin_only(org, api_as, monkeypatch):
    from salesloop.automation import jobs

    def broken(*, now, slot):
        raise ValueError("no such table")

    monkeypatch.setitem(jobs.JOBS, "purge_job_runs", broken)
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False):
        for run_id in scheduler.tick():
            scheduler.run_job(run_id)
        queued = api_as(org.admin).post("/api/automation/jobs/purge_job_runs/run")
        scheduler.run_job(queued.json()["id"])
        listing = api_as(org.admin).get("/api/automation/jobs")
        detail = api_as(org.admin).get(f"/api/automation/runs/{queued.json()['id']}")
        retried = api_as(org.admin).post(f"/api/automation/runs/{queued.json()['id']}/retry")
        not_failed = api_as(org.admin).post(
            f"/api/automation/runs/{JobRun.objects.get(job__name='rules_sweep').pk}/retry"
        )

    assert api_as(org.manager_a).get("/api/automation/jobs").status_code == 403
    assert api_as(org.rep_a1).post("/api/automation/jobs/rules_sweep/run").status_code == 403
    assert queued.status_code == 202
    jobs_by_name = {j["name"]: j for j in listing.json()}
    assert jobs_by_name["rules_sweep"]["last_run"]["status"] == "succeeded"
    assert jobs_by_name["purge_job_runs"]["failures_24h"] == 1
    next_brief = dt.datetime.fromisoformat(
        jobs_by_name["morning_brief"]["next_run_at"].replace("Z", "+00:00")
    )
    assert next_brief == local("2025-06-03", "08:30")
    assert detail.json()["status"] == "failed"
    assert "ValueError: no such table" in detail.json()["failures"][0]["traceback"]
    assert retried.status_code == 200 and retried.json()["status"] == RunStatus.QUEUED
    assert not_failed.status_code == 409
    assert ScheduledJob.objects.count() == len(listing.json())


def test_a_person_reads_their_own_brief_and_nobody_elses(org, api_as):
    with time_machine.travel(local("2025-06-02", "08:30"), tick=False):
        morning_briefs_send()
        mine = api_as(org.rep_a1).get("/api/automation/briefs/today")
    dated = api_as(org.rep_a1).get("/api/automation/briefs/2025-06-02")
    none_yet = api_as(org.rep_a1).get("/api/automation/briefs/2025-06-03")
    finance = api_as(org.finance).get("/api/automation/briefs/2025-06-02")
    garbage = api_as(org.rep_a1).get("/api/automation/briefs/yesterday-ish")

    assert mine.status_code == 200 and mine.json()["content"]["date"] == "2025-06-02"
    assert dated.status_code == 200
    assert none_yet.status_code == 404
    assert finance.status_code == 404  # support roles get no brief
    assert garbage.status_code == 422 and "date" in garbage.json()["errors"]


def test_the_evening_report_is_prefilled_filed_corrected_and_seen_by_the_lead(org, api_as):
    with time_machine.travel(local("2025-06-02", "17:00"), tick=False):
        ActivityFactory(account__owner=org.rep_a1, owner=org.rep_a1, kind=ActivityKind.VISIT)
        ActivityFactory(account__owner=org.rep_a1, owner=org.rep_a1, kind=ActivityKind.CALL)
        rep = api_as(org.rep_a1)
        draft = rep.get("/api/automation/evening-reports/draft")
        filed = rep.put(
            "/api/automation/evening-reports/2025-06-02",
            data={"numbers": {"visits": 3}, "tomorrow_plan": "拜访两家", "blockers": "报价审批慢"},
            content_type="application/json",
        )
        no_plan = api_as(org.rep_a1b).put(
            "/api/automation/evening-reports/today",
            data={"tomorrow_plan": " "},
            content_type="application/json",
        )
        stale = rep.put(
            "/api/automation/evening-reports/2025-06-02",
            data={"tomorrow_plan": "x", "version": 99},
            content_type="application/json",
        )
        future = rep.put(
            "/api/automation/evening-reports/2025-06-05",
            data={"tomorrow_plan": "x"},
            content_type="application/json",
        )
        negative = rep.put(
            "/api/automation/evening-reports/2025-06-02",
            data={"tomorrow_plan": "x", "numbers": {"calls": -1}, "version": 1},
            content_type="application/json",
        )
        status_lead = api_as(org.lead_a1).get("/api/automation/evening-reports/status")
        status_rep = api_as(org.rep_a1b).get("/api/automation/evening-reports/status")
        reports_lead_b = api_as(org.lead_b1).get("/api/automation/evening-reports")
        reports_manager = api_as(org.manager_a).get("/api/automation/evening-reports")

    assert draft.json()["numbers"]["visits"] == 1 and draft.json()["numbers"]["calls"] == 1
    assert not draft.json()["submitted"]
    assert filed.status_code == 200, filed.json()
    assert filed.json()["numbers"]["visits"] == 3 and filed.json()["logged"]["visits"] == 1
    assert no_plan.status_code == 422 and "tomorrow_plan" in no_plan.json()["errors"]
    assert stale.status_code == 409
    assert future.status_code == 422 and "date" in future.json()["errors"]
    assert negative.status_code == 422 and "numbers.calls" in negative.json()["errors"]
    assert EveningReport.objects.get().blockers == "报价审批慢"
    assert {(r["username"], r["submitted"]) for r in status_lead.json()} == {
        ("lead_a1", False),
        ("rep_a1", True),
        ("rep_a1b", False),
    }
    assert [(r["username"], r["submitted"]) for r in status_rep.json()] == [("rep_a1b", False)]
    assert reports_lead_b.json() == []
    assert [r["username"] for r in reports_manager.json()] == ["rep_a1"]


def test_a_support_role_cannot_file_an_evening_report(org, api_as):
    response = api_as(org.finance).put(
        "/api/automation/evening-reports/today",
        data={"tomorrow_plan": "对账"},
        content_type="application/json",
    )
    assert response.status_code == 422 and "__all__" in response.json()["errors"]


def test_rule_changes_take_effect_at_the_next_sweep(org, api_as):
    from salesloop.automation.engine import rules_sweep
    from salesloop.testing.factories import LeadFactory

    rule = Rule.objects.get(code="lead_first_touch")
    api_as(org.admin).patch_json(
        f"/api/automation/rules/{rule.pk}",
        {
            "version": rule.version,
            "task_title": "尽快联系 {lead}",
            "due_amount": 8,
            "due_unit": "working_hours",
        },
    )
    Rule.objects.update(active_since=local("2025-06-01"))
    with time_machine.travel(local("2025-06-06", "16:00"), tick=False):
        LeadFactory(owner=org.rep_a1, name="周五线索")
        rules_sweep()

    task = rule.firings.get().task
    assert task.title == "尽快联系 周五线索"
    assert task.due_at == local("2025-06-09", "15:00")  # 2 h on Friday + 6 h on Monday


def test_switching_a_rule_back_on_restarts_its_event_clock(org, api_as):
    rule = Rule.objects.get(code="lead_first_touch")
    client = api_as(org.admin)
    off = client.patch_json(
        f"/api/automation/rules/{rule.pk}", {"version": rule.version, "is_active": False}
    )
    with time_machine.travel(local("2030-01-07", "10:00"), tick=False):
        on = client.patch_json(
            f"/api/automation/rules/{rule.pk}",
            {"version": off.json()["version"], "is_active": True},
        )
    assert dt.datetime.fromisoformat(on.json()["active_since"].replace("Z", "+00:00")) == local(
        "2030-01-07", "10:00"
    )
