"""Working days: the organisation's weekly working days corrected by holidays and make-up days.

The holiday calendar is the automation app's (``automation.Holiday``: days off and make-up working
days, 调休); this is a read-only view of it for date ranges. A ``WorkCalendar`` is loaded once for
a range (two queries) and then answered in memory, so splitting a quarter into 90 days does not
query per day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps

from salesloop.org.models import OrgSettings
from salesloop.targets.periods import Period


@dataclass
class WorkCalendar:
    weekdays: frozenset[int]
    exceptions: dict[dt.date, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, start: dt.date, end: dt.date) -> WorkCalendar:
        weekdays = frozenset(int(d) for d in (OrgSettings.current().working_days or []))
        return cls(weekdays=weekdays, exceptions=_holidays(start, end))

    @classmethod
    def for_period(cls, period: Period) -> WorkCalendar:
        return cls.load(period.start, period.end)

    def is_working(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.isoweekday() in self.weekdays

    def working_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        days = []
        day = start
        while day <= end:
            if self.is_working(day):
                days.append(day)
            day += dt.timedelta(days=1)
        return days

    def count(self, start: dt.date, end: dt.date) -> int:
        return len(self.working_days(start, end)) if end >= start else 0

    def count_in(self, period: Period) -> int:
        return self.count(period.start, period.end)


def _holidays(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """``{date: is_working}`` for the calendar's exceptions in ``[start, end]``."""
    if not apps.is_installed("salesloop.automation"):
        return {}
    from salesloop.automation.models import DayKind, Holiday

    rows = Holiday.objects.filter(date__range=(start, end)).values_list("date", "kind")
    return {day: kind == DayKind.WORKDAY for day, kind in rows}
