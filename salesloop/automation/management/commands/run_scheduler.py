"""``manage.py run_scheduler``: the scheduler loop of `make run` (with Celery: beat's stand-in).

Without ``CELERY_BROKER_URL`` it runs due jobs here, in this process, one after the other — the
embedded mode that needs no extra server. With a broker it only publishes the runs for the
Celery workers. Any number of these may run at once: slots are claimed in the database.
"""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from salesloop.automation import queue, scheduler


class Command(BaseCommand):
    help = "Run scheduled jobs: in-process without a broker, or publish them to Celery with one."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Tick once, run what is due, and exit."
        )
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between ticks (default 5)."
        )
        parser.add_argument(
            "--max-ticks", type=int, default=0, help="Stop after this many ticks (0: never)."
        )

    def handle(
        self, *args, once: bool = False, interval: float = 5.0, max_ticks: int = 0, **options
    ):
        stop = {"now": False}

        def _stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        mode = "celery" if queue.broker_configured() else "embedded"
        worker = scheduler.worker_name()
        if options["verbosity"] > 0:
            self.stdout.write(f"Scheduler {worker} started ({mode}); tick every {interval:g} s.")
        ticks = 0
        while not stop["now"]:
            if not connection.in_atomic_block:  # (tests run the loop inside a transaction)
                close_old_connections()  # a long-lived loop must not hold a broken connection
            try:
                run_ids = scheduler.tick()
                if run_ids:
                    if mode == "celery":
                        queue.dispatch(run_ids)
                    else:
                        for run_id in run_ids:
                            if stop["now"]:
                                break  # the unstarted runs stay queued and are picked up next time
                            run = scheduler.run_job(run_id, worker=worker)
                            if run is not None and options["verbosity"] > 1:
                                self.stdout.write(
                                    f"{run.job.name} {run.slot:%Y-%m-%d %H:%M:%S} → {run.status}"
                                )
            except (
                Exception
            ) as exc:  # the loop must survive a database hiccup; the next tick retries
                self.stderr.write(f"tick failed: {type(exc).__name__}: {exc}")
            ticks += 1
            if once or (max_ticks and ticks >= max_ticks):
                break
            slept = 0.0
            while slept < interval and not stop["now"]:
                time.sleep(min(0.5, interval - slept))
                slept += 0.5
        if options["verbosity"] > 0:
            self.stdout.write(f"Scheduler {worker} stopped.")
