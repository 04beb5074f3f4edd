"""The database-backed scheduler: slots claimed once, runs done once, failures kept and retried."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from salesloop.automation import jobs, scheduler
from salesloop.automation.models import (
    AutomationSettings,
    DayKind,
    Holiday,
    JobFailure,
    JobRun,
    RunStatus,
    ScheduledJob,
)
from salesloop.automation.tests.clock import local
from salesloop.automation.workcalendar import WorkCalendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky(monkeypatch):
    """A job that fails ``fail_times`` times, then succeeds (registered as ``flaky``)."""
    state = {"calls": 0, "fail_times": 2}

    def job(*, now, slot):
        state["calls"] += 1
        if state["calls"] <= state["fail_times"]:
            raise RuntimeError(f"boom {state['calls']}")
        return {"calls": state["calls"]}

    monkeypatch.setitem(jobs.JOBS, "flaky", job)
    ScheduledJob.objects.create(name="flaky", kind="interval", every_seconds=3600)
    return state


def test_two_schedulers_ticking_at_the_same_moment_queue_each_slot_once():
    with time_machine.travel(local("2025-06-02", "08:00"), tick=False) as clock:
        scheduler.tick()  # first start: schedules are set, the interval jobs run at once
        JobRun.objects.all().delete()
        clock.move_to(local("2025-06-02", "08:30"))
        first = scheduler.tick()
        second = scheduler.tick()

    names = sorted(JobRun.objects.values_list("job__name", flat=True))
    assert names == ["deliver_notifications", "morning_brief", "rules_sweep"]
    assert len(first) == 3 and second == []


def test_a_run_is_executed_by_whoever_claims_it_first_and_only_once(monkeypatch):
    calls = []
    monkeypatch.setitem(jobs.JOBS, "rules_sweep", lambda *, now, slot: calls.append(slot) or {})
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False):
        ids = scheduler.tick()
        run_id = JobRun.objects.get(job__name="rules_sweep").pk
        assert run_id in ids
        assert scheduler.run_job(run_id) is not None
        assert scheduler.run_job(run_id) is None  # a second worker with the same message
    assert len(calls) == 1


def test_a_job_that_raises_is_recorded_with_its_traceback_and_retried_with_back_off(flaky):
    conf = AutomationSettings.current()
    conf.job_retry_backoff_seconds = 60
    conf.save()
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False) as clock:
        [run_id] = [i for i in scheduler.tick() if JobRun.objects.get(pk=i).job.name == "flaky"]
        run = scheduler.run_job(run_id)
        assert run.status == RunStatus.FAILED
        assert run.next_retry_at == local("2025-06-02", "10:01")
        assert "RuntimeError: boom 1" in run.error and "Traceback" in run.error

        clock.shift(dt.timedelta(seconds=30))
        assert run_id not in scheduler.tick()  # back-off not over
        clock.shift(dt.timedelta(seconds=31))
        assert run_id in scheduler.tick()
        assert scheduler.run_job(run_id).status == RunStatus.FAILED  # boom 2; next wait doubles
        clock.shift(dt.timedelta(seconds=121))
        assert run_id in scheduler.tick()
        done = scheduler.run_job(run_id)

    assert (done.status, done.attempts, done.result) == (RunStatus.SUCCEEDED, 3, {"calls": 3})
    failures = list(JobFailure.objects.filter(run_id=run_id).order_by("attempt"))
    assert [f.error for f in failures] == ["RuntimeError: boom 1", "RuntimeError: boom 2"]
    assert all("in job" in f.traceback for f in failures)


def test_a_job_that_keeps_failing_is_given_up_after_the_configured_attempts(flaky):
    flaky["fail_times"] = 99
    conf = AutomationSettings.current()
    conf.job_max_attempts = 2
    conf.job_retry_backoff_seconds = 1
    conf.save()
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False) as clock:
        run_id = [i for i in scheduler.tick() if JobRun.objects.get(pk=i).job.name == "flaky"][0]
        scheduler.run_job(run_id)
        clock.shift(dt.timedelta(seconds=5))
        scheduler.tick()
        run = scheduler.run_job(run_id)
        clock.shift(dt.timedelta(hours=1))
        assert run_id not in scheduler.tick()

    assert (run.status, run.attempts) == (RunStatus.DEAD, 2)
    assert scheduler.retry_run(run=run)  # an operator may still retry it by hand
    assert JobRun.objects.get(pk=run_id).status == RunStatus.QUEUED


def test_a_run_whose_worker_vanished_is_queued_again_when_its_lease_ends():
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False) as clock:
        scheduler.tick()
        run = JobRun.objects.get(job__name="rules_sweep")
        JobRun.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING, attempts=1, lease_until=local("2025-06-02", "10:15")
        )
        clock.move_to(local("2025-06-02", "10:14"))
        assert run.pk not in scheduler.tick()
        clock.move_to(local("2025-06-02", "10:16"))
        assert run.pk in scheduler.tick()
        assert scheduler.run_job(run.pk).status == RunStatus.SUCCEEDED


def test_a_daily_job_runs_at_its_local_time_on_working_days_and_skips_holidays():
    Holiday.objects.create(date=dt.date(2025, 6, 4), name="假日", kind=DayKind.HOLIDAY)
    Holiday.objects.create(date=dt.date(2025, 6, 7), name="调休", kind=DayKind.WORKDAY)
    job = ScheduledJob.objects.get(name="morning_brief")
    cal = WorkCalendar.load()

    slots = []
    moment = local("2025-06-02", "09:00")
    for _ in range(5):
        moment = scheduler.next_run_after(job, moment, cal)
        slots.append(moment.strftime("%a %d %H:%M"))

    assert slots == ["Tue 03 08:30", "Thu 05 08:30", "Fri 06 08:30", "Sat 07 08:30", "Mon 09 08:30"]


def test_a_daily_slot_missed_by_more_than_the_grace_period_is_skipped_not_run_late():
    with time_machine.travel(local("2025-06-02", "07:00"), tick=False) as clock:
        scheduler.tick()
        clock.move_to(local("2025-06-02", "15:00"))  # the scheduler was down at 08:30
        queued = scheduler.tick()

    brief = JobRun.objects.get(job__name="morning_brief")
    assert brief.status == RunStatus.SKIPPED and brief.pk not in queued
    assert ScheduledJob.objects.get(name="morning_brief").next_run_at == local(
        "2025-06-03", "08:30"
    )


def test_interval_jobs_stay_aligned_and_do_not_replay_missed_intervals():
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False) as clock:
        scheduler.tick()
        clock.move_to(local("2025-06-02", "10:17"))
        scheduler.tick()

    assert JobRun.objects.filter(job__name="rules_sweep").count() == 2
    assert ScheduledJob.objects.get(name="rules_sweep").next_run_at == local("2025-06-02", "10:20")


def test_the_jobs_command_lists_jobs_and_shows_failures_with_tracebacks(flaky, capsys):
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False):
        for run_id in scheduler.tick():
            scheduler.run_job(run_id)
        call_command("jobs")
        listing = capsys.readouterr().out
        call_command("jobs", "--failures")
        failures = capsys.readouterr().out

    assert "mode: embedded" in listing
    for name in ("rules_sweep", "deliver_notifications", "morning_brief", "flaky"):
        assert name in listing
    flaky_line = next(line for line in listing.splitlines() if line.startswith("flaky"))
    assert "failed" in flaky_line and flaky_line.split()[-1] == "1"
    assert "RuntimeError: boom 1" in failures and "Traceback (most recent call last)" in failures


def test_the_jobs_command_runs_a_job_here_and_refuses_unknown_names(capsys):
    from django.core.management.base import CommandError

    call_command("jobs", "run", "purge_job_runs", "--here")
    assert "purge_job_runs: succeeded" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Unknown job"):
        call_command("jobs", "run", "nope")


def test_run_scheduler_once_runs_due_jobs_in_process(capsys):
    with time_machine.travel(local("2025-06-02", "08:00"), tick=False) as clock:
        call_command("run_scheduler", "--once", verbosity=2)
        clock.move_to(local("2025-06-02", "08:30"))
        call_command("run_scheduler", "--once", verbosity=2)
    captured = capsys.readouterr()
    assert captured.err == ""
    out = captured.out
    assert "embedded" in out and "morning_brief" in out
    assert set(JobRun.objects.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}


def test_a_scheduler_first_started_after_the_brief_time_still_makes_todays_brief():
    with time_machine.travel(local("2025-06-02", "10:00"), tick=False):
        scheduler.tick()
    assert JobRun.objects.filter(
        job__name="morning_brief", slot=local("2025-06-02", "08:30")
    ).exists()
    with time_machine.travel(local("2025-06-02", "23:00"), tick=False):
        ScheduledJob.objects.update(next_run_at=None)
        JobRun.objects.all().delete()
        scheduler.tick()
    assert not JobRun.objects.filter(job__name="morning_brief").exists()  # 14.5 h late: tomorrow's
