"""Calendar periods (year, quarter, month, week, day) as closed date ranges in local time.

Years and quarters follow the organisation's fiscal year (``OrgSettings.fiscal_year_start_month``);
weeks run Monday to Sunday (ISO). When a period is split into a finer kind, the pieces are
clipped to the parent: a month split into weeks gives partial first and last weeks, so the
pieces always cover the parent exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    YEAR = "year", _("Year")
    QUARTER = "quarter", _("Quarter")
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")
    DAY = "day", _("Day")


#: Coarse to fine; a period may be split into any finer kind.
ORDER = [PeriodKind.YEAR, PeriodKind.QUARTER, PeriodKind.MONTH, PeriodKind.WEEK, PeriodKind.DAY]


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    kind: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware datetimes at local midnight, for filtering timestamps."""
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min).replace(tzinfo=tz)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
        return start, end

    def label(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return f"FY{self.start.year}" if self.start.month != 1 else str(self.start.year)
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.isoformat()} – {self.end.isoformat()}"
        if self.kind == PeriodKind.MONTH and self.start.day == 1:
            return self.start.strftime("%Y-%m")
        if self.kind == PeriodKind.DAY:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_containing(kind: str, day: dt.date, *, fiscal_start_month: int = 1) -> Period:
    """The period of ``kind`` that contains ``day``."""
    if kind == PeriodKind.DAY:
        return Period(day, day, kind)
    if kind == PeriodKind.WEEK:
        start = day - dt.timedelta(days=day.isoweekday() - 1)
        return Period(start, start + dt.timedelta(days=6), kind)
    month_start = dt.date(day.year, day.month, 1)
    if kind == PeriodKind.MONTH:
        return Period(month_start, _add_months(month_start, 1) - dt.timedelta(days=1), kind)
    offset = (day.month - fiscal_start_month) % 12
    year_start = _add_months(month_start, -offset)
    if kind == PeriodKind.YEAR:
        return Period(year_start, _add_months(year_start, 12) - dt.timedelta(days=1), kind)
    if kind == PeriodKind.QUARTER:
        start = _add_months(year_start, (offset // 3) * 3)
        return Period(start, _add_months(start, 3) - dt.timedelta(days=1), kind)
    raise ValueError(f"Unknown period kind {kind!r}")


def split_period(period: Period, kind: str, *, fiscal_start_month: int = 1) -> list[Period]:
    """``period`` cut into consecutive pieces of a finer ``kind``, clipped to its bounds."""
    if ORDER.index(kind) <= ORDER.index(period.kind):
        raise ValueError(f"Cannot split a {period.kind} into {kind}s")
    pieces: list[Period] = []
    day = period.start
    while day <= period.end:
        piece = period_containing(kind, day, fiscal_start_month=fiscal_start_month)
        pieces.append(Period(max(piece.start, period.start), min(piece.end, period.end), kind))
        day = piece.end + dt.timedelta(days=1)
    return pieces


def finer_kinds(kind: str) -> list[str]:
    return [k.value for k in ORDER[ORDER.index(kind) + 1 :]]


def previous_period(period: Period, *, fiscal_start_month: int = 1) -> Period:
    """The period of the same kind just before ``period`` (same length for clipped pieces)."""
    day = period.start - dt.timedelta(days=1)
    if (
        period.kind in (PeriodKind.DAY, PeriodKind.WEEK)
        or period.start != period_containing(period.kind, period.start, fiscal_start_month=fiscal_start_month).start
    ):
        return Period(period.start - dt.timedelta(days=period.days), day, period.kind)
    return period_containing(period.kind, day, fiscal_start_month=fiscal_start_month)
