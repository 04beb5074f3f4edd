"""Pace: is the actual where it should be by now, given how much of the period has gone?

Time is measured in **working days** (``WorkCalendar``): ``elapsed`` counts the working days of
the period before ``as_of`` (today is not over, so it is not yet owed), ``total`` those of the
whole period. Then (seed 000 §一.2, thresholds as data in ``TargetSettings``):

* expected by now  = target × elapsed / total
* pace ratio       = actual / expected
* status           = on track (ratio ≥ at-risk line, default 100%), at risk (≥ behind line,
  default 80%), behind (below it); before the first working day is over everything is on track
* run rate         = actual / elapsed × total — where the period ends at the current speed
* needed per day   = (target − actual) / working days left (today included)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.periods import Period


class PaceStatus(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BEHIND = "behind", _("Behind")
    DONE = "done", _("Target reached")
    NO_TARGET = "no_target", _("No target")


@dataclass(frozen=True)
class Pace:
    target: Decimal | None
    actual: Decimal
    elapsed_days: int
    total_days: int
    expected: Decimal | None
    attainment_pct: Decimal | None
    pace_pct: Decimal | None
    run_rate: Decimal | None
    remaining: Decimal | None
    needed_per_day: Decimal | None
    status: str

    @property
    def time_elapsed_pct(self) -> Decimal:
        if not self.total_days:
            return Decimal(0)
        return _pct(Decimal(self.elapsed_days), Decimal(self.total_days))


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def pace_for(
    *,
    target: Decimal | None,
    actual: Decimal,
    period: Period,
    as_of: dt.date,
    calendar: WorkCalendar,
    at_risk_pct: Decimal,
    behind_pct: Decimal,
    places: str = "0.01",
) -> Pace:
    total = calendar.count_in(period)
    last_done = min(as_of - dt.timedelta(days=1), period.end)
    elapsed = calendar.count(period.start, last_done) if last_done >= period.start else 0
    left = calendar.count(max(as_of, period.start), period.end) if as_of <= period.end else 0
    if target is None:
        return Pace(None, actual, elapsed, total, None, None, None, None, None, None, PaceStatus.NO_TARGET)
    expected = _q(target * elapsed / total, places) if total else target
    attainment = _pct(actual, target) if target else None
    run_rate = _q(actual * total / elapsed, places) if elapsed else None
    remaining = max(target - actual, Decimal(0))
    needed = _q(remaining / left, places) if left else None
    if actual >= target:
        status, pace_pct = PaceStatus.DONE, (_pct(actual, expected) if expected else None)
    elif not elapsed or not target:
        status, pace_pct = PaceStatus.ON_TRACK, None
    else:
        # Exact cross-multiplied comparisons: actual / (target × elapsed / total) ≥ line / 100.
        pace_pct = _pct(actual * total, target * elapsed)
        if actual * total * 100 >= target * elapsed * at_risk_pct:
            status = PaceStatus.ON_TRACK
        elif actual * total * 100 >= target * elapsed * behind_pct:
            status = PaceStatus.AT_RISK
        else:
            status = PaceStatus.BEHIND
    return Pace(target, actual, elapsed, total, expected, attainment, pace_pct, run_rate, remaining, needed, status)
