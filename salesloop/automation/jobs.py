"""The job functions behind the schedules: thin wrappers around services, one name each.

Every job takes ``now`` (the clock at start) and ``slot`` (the scheduled time it runs for) and
returns a small JSON summary kept on the run. All are idempotent: run twice for the same slot,
they do the work once (the rule ledger, the brief's and notifications' unique keys, leased
deliveries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from salesloop.automation import briefs, engine, scheduler
from salesloop.automation.workcalendar import WorkCalendar
from salesloop.notifications.services import deliveries_send

JobFunc = Callable[..., dict]

#: Deliveries sent per batch, and the time a delivery job keeps taking batches.
DELIVERY_BATCH = 200
DELIVERY_BUDGET = dt.timedelta(seconds=50)


def rules_sweep(*, now: dt.datetime, slot: dt.datetime) -> dict:
    return engine.rules_sweep(now=now)


def deliver_notifications(*, now: dt.datetime, slot: dt.datetime) -> dict:
    import time

    totals = {"sent": 0, "failed": 0, "retry": 0, "deferred": 0}
    started = time.monotonic()
    while True:
        counts = deliveries_send(limit=DELIVERY_BATCH)
        for key, value in counts.items():
            totals[key] += value
        if (
            sum(counts.values()) < DELIVERY_BATCH
            or time.monotonic() - started > DELIVERY_BUDGET.total_seconds()
        ):
            return totals


def _slot_day(slot: dt.datetime) -> dt.date:
    return WorkCalendar.load().today(slot)


def morning_brief(*, now: dt.datetime, slot: dt.datetime) -> dict:
    return briefs.morning_briefs_send(day=_slot_day(slot), now=now)


def evening_report_reminder(*, now: dt.datetime, slot: dt.datetime) -> dict:
    return briefs.evening_reminders_send(day=_slot_day(slot), now=now)


def evening_report_digest(*, now: dt.datetime, slot: dt.datetime) -> dict:
    return briefs.evening_digests_send(day=_slot_day(slot), now=now)


def purge_job_runs(*, now: dt.datetime, slot: dt.datetime) -> dict:
    return scheduler.purge_runs(now=now)


#: Schedules other apps add in their ``ready()`` (same shape as ``defaults.DEFAULT_JOBS``); the
#: scheduler creates their ``ScheduledJob`` rows like its own, and admins edit them as data.
APP_SCHEDULES: list[tuple[str, str, int | None, str | None, bool]] = []


def register_app_job(name: str, func: JobFunc, *, at: str, working_days_only: bool = False) -> None:
    """A daily job of another app: its function and its default time (``"HH:MM"``, local)."""
    JOBS.setdefault(name, func)
    if all(existing[0] != name for existing in APP_SCHEDULES):
        APP_SCHEDULES.append((name, "daily", None, at, working_days_only))


JOBS: dict[str, JobFunc] = {
    "rules_sweep": rules_sweep,
    "deliver_notifications": deliver_notifications,
    "morning_brief": morning_brief,
    "evening_report_reminder": evening_report_reminder,
    "evening_report_digest": evening_report_digest,
    "purge_job_runs": purge_job_runs,
}
