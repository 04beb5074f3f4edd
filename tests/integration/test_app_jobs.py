"""Forecasting and scoring plug their nightly jobs into the automation scheduler as data."""

import datetime as dt

import pytest
from django.utils import timezone

from salesloop.automation import scheduler
from salesloop.automation.jobs import JOBS
from salesloop.automation.models import ScheduledJob
from salesloop.automation.workcalendar import WorkCalendar

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("name", "at"), [("forecast_snapshots", dt.time(6, 0)), ("scoring_retrain", dt.time(2, 30))])
def test_the_scheduler_creates_each_apps_daily_job_with_its_default_time(name, at):
    scheduler.ensure_jobs(now=timezone.now(), cal=WorkCalendar.load())

    job = ScheduledJob.objects.get(name=name)
    assert (job.kind, job.at_time, job.is_active) == ("daily", at, True)
    assert job.next_run_at is not None
    assert name in JOBS


@pytest.mark.parametrize("name", ["forecast_snapshots", "scoring_retrain"])
def test_each_apps_job_runs_on_an_empty_organisation_and_reports_a_summary(org, name):
    now = timezone.now()

    summary = JOBS[name](now=now, slot=now)

    assert isinstance(summary, dict) and summary
