"""Reads for automation pages and the API: rules, jobs with their last/next run, briefs, reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from salesloop.automation.models import (
    Brief,
    EveningReport,
    Holiday,
    JobFailure,
    JobRun,
    Rule,
    RunStatus,
    ScheduledJob,
)
from salesloop.org import access
from salesloop.org.models import User


def rule_list(*, user: User) -> QuerySet:
    return access.restrict(Rule.objects.all(), user, "read").order_by("trigger", "code")


def holiday_list(*, user: User, year: int | None = None) -> QuerySet:
    qs = access.restrict(Holiday.objects.all(), user, "read")
    if year:
        qs = qs.filter(date__year=year)
    return qs.order_by("date")


@dataclass
class JobOverview:
    job: ScheduledJob
    last_run: JobRun | None
    failures_24h: int
    running: int


def jobs_overview(*, user: User, now: dt.datetime | None = None) -> list[JobOverview]:
    """Every scheduled job with its last finished run and recent failures (four queries)."""
    now = now or timezone.now()
    finished = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.DEAD, RunStatus.SKIPPED]
    latest_id = (
        JobRun.objects.filter(job_id=OuterRef("pk"), status__in=finished)
        .order_by("-slot", "-pk")
        .values("pk")[:1]
    )
    jobs = list(
        access.restrict(ScheduledJob.objects.all(), user, "read")
        .annotate(last_run_id=Subquery(latest_id))
        .order_by("name")
    )
    if not jobs:
        return []
    ids = [j.pk for j in jobs]
    latest = JobRun.objects.in_bulk([j.last_run_id for j in jobs if j.last_run_id])
    failures = dict(
        JobFailure.objects.filter(run__job_id__in=ids, at__gte=now - dt.timedelta(hours=24))
        .values("run__job_id")
        .annotate(n=Count("pk"))
        .values_list("run__job_id", "n")
    )
    running = dict(
        JobRun.objects.filter(job_id__in=ids, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        .values("job_id")
        .annotate(n=Count("pk"))
        .values_list("job_id", "n")
    )
    return [
        JobOverview(j, latest.get(j.last_run_id), failures.get(j.pk, 0), running.get(j.pk, 0))
        for j in jobs
    ]


def failed_runs(*, user: User, limit: int = 50) -> QuerySet:
    qs = access.restrict(JobRun.objects.select_related("job"), user, "read")
    return (
        qs.filter(Q(status__in=[RunStatus.FAILED, RunStatus.DEAD]) | Q(failures__isnull=False))
        .distinct()
        .order_by("-slot", "-pk")[:limit]
    )


def run_detail(*, user: User, run_id: int) -> JobRun:
    return (
        access.restrict(JobRun.objects.select_related("job"), user, "read")
        .prefetch_related("failures")
        .get(pk=run_id)
    )


def brief_for(*, user: User, day: dt.date) -> Brief | None:
    return access.restrict(Brief.objects.all(), user, "read").filter(user=user, date=day).first()


def evening_reports(*, user: User, day: dt.date) -> QuerySet:
    return access.restrict(EveningReport.objects.select_related("user"), user, "read").filter(
        date=day
    )
