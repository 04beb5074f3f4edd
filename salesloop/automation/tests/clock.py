"""A frozen clock that drives the real scheduler through simulated time (tests only).

``SimulatedClock.run_until(moment)`` moves the clock forward in ``step`` increments and at each
step does what ``manage.py run_scheduler`` does: tick, then run the queued runs in-process. The
job functions, schedules and database are the real ones; only time is simulated.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from salesloop.automation import scheduler
from salesloop.automation.models import JobRun, RunStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: str, time: str = "00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


class SimulatedClock:
    def __init__(
        self, start: dt.datetime, *, step: dt.timedelta = dt.timedelta(minutes=30)
    ) -> None:
        self.step = step
        self._traveller = time_machine.travel(start, tick=False)
        self.now = start

    def __enter__(self) -> SimulatedClock:
        self._coordinates = self._traveller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._traveller.stop()

    def move_to(self, moment: dt.datetime) -> None:
        """Jump without running the scheduler (to do something at an exact time)."""
        assert moment >= self.now, "the clock only moves forward"
        self._coordinates.move_to(moment)
        self.now = moment

    def tick(self) -> list[JobRun]:
        ran = []
        for run_id in scheduler.tick():
            run = scheduler.run_job(run_id, worker="simulated")
            if run is not None:
                ran.append(run)
                assert run.status == RunStatus.SUCCEEDED, f"{run.job.name} failed:\n{run.error}"
        return ran

    def run_until(self, moment: dt.datetime) -> list[JobRun]:
        """Advance to ``moment`` step by step, ticking at every step and at ``moment`` itself."""
        ran = self.tick()
        while self.now < moment:
            self.move_to(min(self.now + self.step, moment))
            ran += self.tick()
        return ran


def now() -> dt.datetime:
    return timezone.now()
