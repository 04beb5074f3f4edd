"""The database-backed scheduler shared by both modes (embedded thread-less loop and Celery).

``tick`` decides what is due: for each active :class:`ScheduledJob` whose ``next_run_at`` has
come it moves ``next_run_at`` on with a conditional UPDATE and inserts the :class:`JobRun` for
that slot (unique per job and slot) in one transaction, so two schedulers never queue a slot
twice. It also re-queues failed runs whose back-off has passed and runs whose worker vanished
(lease expired), and returns the runs to dispatch. ``run_job`` executes a run if — and only if —
it wins the conditional UPDATE from ``queued`` to ``running``; a job that raises is recorded with
its traceback (:class:`JobFailure`) and retried with back-off, up to
``AutomationSettings.job_max_attempts``.

Who dispatches: ``manage.py run_scheduler`` runs the returned runs in-process when no broker is
configured (``make run``), or publishes them to Celery when ``CELERY_BROKER_URL`` is set; Celery
beat can replace it by calling the ``automation.tick`` task. The same job functions run either way.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import traceback

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from salesloop.automation.models import (
    AutomationSettings,
    JobFailure,
    JobRun,
    RunStatus,
    ScheduledJob,
    ScheduleKind,
)
from salesloop.automation.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

#: A queued run not picked up within this time is published again (its message may be lost).
REDISPATCH_AFTER = dt.timedelta(seconds=settings.AUTOMATION_REDISPATCH_SECONDS)

#: A daily run found more than this late is recorded as skipped, not run (no stale briefs).
DAILY_GRACE = dt.timedelta(hours=6)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def next_run_after(job: ScheduledJob, after: dt.datetime, cal: WorkCalendar) -> dt.datetime:
    """The first slot of ``job`` strictly after ``after``."""
    if job.kind == ScheduleKind.INTERVAL:
        return after + dt.timedelta(seconds=job.every_seconds or 60)
    assert job.at_time is not None
    day = cal.local(after).date()
    for _ in range(400):
        candidate = cal.at(day, job.at_time)
        if candidate > after and (not job.working_days_only or cal.is_working_day(day)):
            return candidate
        day += dt.timedelta(days=1)
    raise ValueError(f"No slot for job {job.name} in the next 400 days.")


def ensure_jobs(*, now: dt.datetime, cal: WorkCalendar) -> None:
    """Create missing default jobs and give every active job without a next run one."""
    from salesloop.automation.defaults import DEFAULT_JOBS
    from salesloop.automation.jobs import APP_SCHEDULES

    existing = set(ScheduledJob.objects.values_list("name", flat=True))
    for name, kind, every, at, working in [*DEFAULT_JOBS, *APP_SCHEDULES]:
        if name not in existing:
            ScheduledJob.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "every_seconds": every,
                    "at_time": dt.time.fromisoformat(at) if at else None,
                    "working_days_only": working,
                },
            )
    for job in ScheduledJob.objects.filter(is_active=True, next_run_at__isnull=True):
        first = now if job.kind == ScheduleKind.INTERVAL else _first_daily_slot(job, now, cal)
        ScheduledJob.objects.filter(pk=job.pk, next_run_at__isnull=True).update(next_run_at=first)


def _first_daily_slot(job: ScheduledJob, now: dt.datetime, cal: WorkCalendar) -> dt.datetime:
    """Today's slot when it passed less than ``DAILY_GRACE`` ago (so a scheduler first started at
    10:00 still makes today's 08:30 brief), else the next one."""
    assert job.at_time is not None
    day = cal.local(now).date()
    today = cal.at(day, job.at_time)
    if (
        today <= now
        and now - today <= DAILY_GRACE
        and (not job.working_days_only or cal.is_working_day(day))
    ):
        return today
    return next_run_after(job, now, cal)


def _advance(
    job: ScheduledJob, slot: dt.datetime, now: dt.datetime, cal: WorkCalendar
) -> dt.datetime:
    if job.kind == ScheduleKind.INTERVAL:
        step = dt.timedelta(seconds=job.every_seconds or 60)
        missed = int((now - slot) / step) + 1 if now >= slot else 1
        return slot + missed * step  # stays aligned, never replays missed intervals
    return next_run_after(job, now, cal)


def tick(*, now: dt.datetime | None = None) -> list[int]:
    """Queue what is due; returns the ids of runs to dispatch now."""
    now = now or timezone.now()
    cal = WorkCalendar.load()
    conf = AutomationSettings.current()
    ensure_jobs(now=now, cal=cal)
    for job in ScheduledJob.objects.filter(is_active=True, next_run_at__lte=now):
        slot = job.next_run_at
        assert slot is not None
        stale = job.kind == ScheduleKind.DAILY and now - slot > DAILY_GRACE
        with transaction.atomic():
            moved = ScheduledJob.objects.filter(pk=job.pk, next_run_at=slot).update(
                next_run_at=_advance(job, slot, now, cal)
            )
            if not moved:
                continue  # another scheduler took this slot
            JobRun.objects.bulk_create(
                [
                    JobRun(
                        job=job,
                        slot=slot,
                        status=RunStatus.SKIPPED if stale else RunStatus.QUEUED,
                        queued_at=now,
                        finished_at=now if stale else None,
                    )
                ],
                ignore_conflicts=True,
            )
    # Failed runs whose back-off passed, and runs whose worker died (lease ran out).
    JobRun.objects.filter(status=RunStatus.FAILED, next_retry_at__lte=now).update(
        status=RunStatus.QUEUED, dispatched_at=None
    )
    JobRun.objects.filter(
        status=RunStatus.RUNNING, lease_until__lt=now, attempts__lt=conf.job_max_attempts
    ).update(
        status=RunStatus.QUEUED,
        dispatched_at=None,
        error="The worker stopped before finishing; run again.",
    )
    JobRun.objects.filter(
        status=RunStatus.RUNNING, lease_until__lt=now, attempts__gte=conf.job_max_attempts
    ).update(
        status=RunStatus.DEAD,
        finished_at=now,
        error="The worker stopped before finishing, too many times.",
    )
    due = JobRun.objects.filter(status=RunStatus.QUEUED).filter(
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - REDISPATCH_AFTER)
    )
    ids = list(due.order_by("slot", "pk").values_list("pk", flat=True))
    if ids:
        JobRun.objects.filter(pk__in=ids, status=RunStatus.QUEUED).update(dispatched_at=now)
    return ids


def run_job(run_id: int, *, worker: str = "") -> JobRun | None:
    """Execute run ``run_id`` unless someone else already has it; returns the run when executed."""
    from salesloop.automation.jobs import JOBS

    conf = AutomationSettings.current()
    started = timezone.now()
    claimed = JobRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        started_at=started,
        finished_at=None,
        lease_until=started + dt.timedelta(seconds=conf.job_lease_seconds),
        attempts=F("attempts") + 1,
        worker=(worker or worker_name())[:120],
    )
    if not claimed:
        return None
    run = JobRun.objects.select_related("job").get(pk=run_id)
    try:
        func = JOBS[run.job.name]
        result = func(now=timezone.now(), slot=run.slot)
    except Exception as exc:  # recorded and retried: a job never fails silently
        finished = timezone.now()
        trace = traceback.format_exc()
        gave_up = run.attempts >= conf.job_max_attempts
        JobFailure.objects.create(
            run=run,
            attempt=run.attempts,
            at=finished,
            error=f"{type(exc).__name__}: {exc}"[:300],
            traceback=trace,
        )
        retry_in = dt.timedelta(
            seconds=conf.job_retry_backoff_seconds * 2 ** max(run.attempts - 1, 0)
        )
        JobRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.DEAD if gave_up else RunStatus.FAILED,
            finished_at=finished,
            lease_until=None,
            next_retry_at=None if gave_up else finished + retry_in,
            error=trace,
        )
        ScheduledJob.objects.filter(pk=run.job_id).update(last_run_at=started, last_status="failed")
        log.exception("Job %s (run %s, attempt %s) failed", run.job.name, run.pk, run.attempts)
        run.refresh_from_db()
        return run
    finished = timezone.now()
    JobRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.SUCCEEDED,
        finished_at=finished,
        lease_until=None,
        result=result or {},
        error="",
    )
    ScheduledJob.objects.filter(pk=run.job_id).update(last_run_at=started, last_status="succeeded")
    run.refresh_from_db()
    return run


def run_now(*, job: ScheduledJob, now: dt.datetime | None = None) -> JobRun:
    """Queue a manual run of ``job`` (ops page, ``manage.py jobs run``)."""
    now = now or timezone.now()
    run, _created = JobRun.objects.get_or_create(job=job, slot=now, defaults={"queued_at": now})
    return run


def retry_run(*, run: JobRun) -> bool:
    """Queue a failed or abandoned run again at once; returns whether it was queued."""
    return bool(
        JobRun.objects.filter(pk=run.pk, status__in=[RunStatus.FAILED, RunStatus.DEAD]).update(
            status=RunStatus.QUEUED, dispatched_at=None, next_retry_at=None
        )
    )


def purge_runs(*, now: dt.datetime) -> dict:
    """Forget succeeded and skipped runs older than ``keep_runs_days`` (failures are kept)."""
    keep = dt.timedelta(days=AutomationSettings.current().keep_runs_days)
    deleted, _detail = JobRun.objects.filter(
        status__in=[RunStatus.SUCCEEDED, RunStatus.SKIPPED], slot__lt=now - keep
    ).delete()
    return {"deleted": deleted}
