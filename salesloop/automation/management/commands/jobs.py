"""``manage.py jobs``: scheduled jobs with last/next run and failures; run or retry from the shell.

manage.py jobs                    # the table
manage.py jobs --failures         # recent failed runs with their tracebacks
manage.py jobs run rules_sweep    # queue a run now (the scheduler or a worker picks it up)
manage.py jobs run rules_sweep --here   # ... or run it in this process and print the result
manage.py jobs retry 42           # queue failed run 42 again
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from salesloop.automation import queue, scheduler
from salesloop.automation.models import JobFailure, JobRun, RunStatus, ScheduledJob
from salesloop.org.models import User

_ROW = "{job:<26} {schedule:<24} {last:<20} {status:<10} {took:>8}  {next:<20} {fail:>8}"


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


class Command(BaseCommand):
    help = "List scheduled jobs (last/next run, failures); run a job now or retry a failed run."

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["list", "run", "retry"], default="list")
        parser.add_argument("target", nargs="?", help="Job name (run) or run id (retry).")
        parser.add_argument(
            "--failures", action="store_true", help="Show recent failures with tracebacks."
        )
        parser.add_argument("--limit", type=int, default=10)
        parser.add_argument(
            "--here", action="store_true", help="With run: execute in this process now."
        )

    def handle(
        self, *args, action="list", target=None, failures=False, limit=10, here=False, **options
    ):
        if action == "run":
            return self._run(target, here)
        if action == "retry":
            return self._retry(target)
        if failures:
            return self._failures(limit)
        return self._list()

    def _list(self):
        from salesloop.automation.selectors import jobs_overview

        admin = User(is_superuser=True, is_active=True)
        mode = "celery" if queue.broker_configured() else "embedded"
        self.stdout.write(f"mode: {mode}")
        header = _ROW.format(
            job="job",
            schedule="schedule",
            last="last run",
            status="status",
            took="took",
            next="next run",
            fail="fail 24h",
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in jobs_overview(user=admin):
            job = row.job
            if job.kind == "interval":
                schedule = f"every {job.every_seconds}s"
            else:
                schedule = f"{job.at_time:%H:%M}" + (
                    " working days" if job.working_days_only else " daily"
                )
            if not job.is_active:
                schedule += " (off)"
            last = row.last_run
            took = f"{last.duration.total_seconds():.2f}s" if last and last.duration else "-"
            self.stdout.write(
                _ROW.format(
                    job=job.name,
                    schedule=schedule,
                    last=_when(last.started_at or last.slot) if last else "-",
                    status=last.status if last else "-",
                    took=took,
                    next=_when(job.next_run_at),
                    fail=row.failures_24h,
                )
            )

    def _failures(self, limit: int):
        shown = 0
        for failure in JobFailure.objects.select_related("run__job").order_by("-at", "-pk")[:limit]:
            shown += 1
            run = failure.run
            self.stdout.write(
                self.style.ERROR(
                    f"run {run.pk} {run.job.name} slot {_when(run.slot)} attempt {failure.attempt} "
                    f"at {_when(failure.at)} (run now: {run.status})"
                )
            )
            self.stdout.write(failure.traceback.rstrip())
            self.stdout.write("")
        if not shown:
            self.stdout.write("No failures.")

    def _run(self, name, here: bool):
        job = ScheduledJob.objects.filter(name=name).first()
        if job is None:
            names = ", ".join(ScheduledJob.objects.values_list("name", flat=True))
            raise CommandError(f"Unknown job {name!r}; jobs: {names}")
        run = scheduler.run_now(job=job)
        if not here:
            self.stdout.write(f"Queued run {run.pk} of {job.name}.")
            return
        done = scheduler.run_job(run.pk)
        if done is None:
            raise CommandError(f"Run {run.pk} was taken by another scheduler.")
        self.stdout.write(f"{job.name}: {done.status} {done.result}")
        if done.status != RunStatus.SUCCEEDED:
            self.stdout.write(done.error)
            raise CommandError(f"Run {run.pk} failed.")

    def _retry(self, target):
        try:
            run = JobRun.objects.get(pk=int(target or ""))
        except (ValueError, JobRun.DoesNotExist):
            raise CommandError(f"Unknown run id {target!r}.") from None
        if not scheduler.retry_run(run=run):
            raise CommandError(f"Run {run.pk} is {run.status}; only failed runs can be retried.")
        self.stdout.write(f"Run {run.pk} queued again.")
