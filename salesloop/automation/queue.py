"""The task queue: Celery with Redis when ``CELERY_BROKER_URL`` is set, in-process otherwise.

Production runs two kinds of process beside the web server (see docs/automation.md)::

    celery -A salesloop.automation.queue worker -l info   # runs jobs (any number, any machine)
    celery -A salesloop.automation.queue beat -l info     # publishes a tick every few seconds

Beat only publishes ``automation.tick``; the tick (on a worker) decides from the database what
is due and publishes one ``automation.run_job`` per run, so any number of beats or workers never
run a slot twice. Messages are acknowledged late and re-delivered when a worker dies
(``task_acks_late`` + ``task_reject_on_worker_lost``); a run whose message is lost anyway is
published again by the next tick (``scheduler.REDISPATCH_AFTER``) or re-queued when its lease
ends.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesloop.settings")

app = Celery("salesloop")
app.config_from_object("django.conf:settings", namespace="CELERY")


def broker_configured() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "CELERY_BROKER_URL", ""))


@app.task(name="automation.tick", ignore_result=True)
def tick_task() -> int:
    from salesloop.automation import scheduler

    ids = scheduler.tick()
    for run_id in ids:
        run_job_task.apply_async(args=[run_id])
    return len(ids)


@app.task(name="automation.run_job", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_job_task(run_id: int) -> None:
    from salesloop.automation import scheduler

    scheduler.run_job(run_id)


def dispatch(run_ids: list[int]) -> None:
    """Run ``run_ids`` now: published to the workers, or here when there is no broker."""
    from salesloop.automation import scheduler

    if broker_configured():
        for run_id in run_ids:
            run_job_task.apply_async(args=[run_id])
        return
    for run_id in run_ids:
        scheduler.run_job(run_id)
