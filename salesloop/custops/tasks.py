"""Scheduled work of customer operations: thin wrappers registered with the automation scheduler."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def custops_recompute(*, now: dt.datetime, slot: dt.datetime) -> dict:
    """Daily: segments (with their moves), churn scores and flags as of the slot's local date.

    Idempotent for a slot: a second run the same day records no new moves and keeps flags'
    ``flagged_since``; the win-back and cadence tasks follow on the next rules sweep.
    """
    from salesloop.custops.services import scoring_run_create

    run = scoring_run_create(as_of=timezone.localtime(slot).date())
    return {
        "run": run.pk,
        "accounts": run.accounts,
        "segment_changes": run.segment_changes,
        "flagged": run.flagged,
        "seconds": round(run.seconds, 2),
    }


JOBS = {"custops_recompute": custops_recompute}


def register() -> None:
    from salesloop.automation.jobs import JOBS as AUTOMATION_JOBS

    for name, func in JOBS.items():
        AUTOMATION_JOBS.setdefault(name, func)
