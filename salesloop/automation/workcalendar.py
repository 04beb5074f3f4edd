"""The organisation's working calendar: which days are worked and which hours count for SLAs.

Working days are ``OrgSettings.working_days`` (ISO weekdays) minus holidays plus make-up
working days (调休), all in ``OrgSettings.time_zone``; working hours are
``AutomationSettings.workday_start``–``workday_end``. Two SLA units follow (seed 000 §三.2):

* working hours: the clock only runs inside working hours on working days
  (Friday 17:00 + 4 h = Monday 12:00 with a 09:00–18:00 day);
* working days: the deadline is the end of the N-th working day after the start's day
  ("first touch within 72 h" = 3 working days: a lead from Friday is due Wednesday 18:00).

The calendar is loaded once per sweep (three small queries) and is then pure computation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

#: A calendar without a single working day in this many days is refused, not looped over.
_SEARCH_DAYS = 400


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    working_weekdays: frozenset[int]
    days_off: frozenset[dt.date]
    extra_workdays: frozenset[dt.date]
    day_start: dt.time
    day_end: dt.time

    @classmethod
    def load(cls) -> WorkCalendar:
        from salesloop.automation.models import AutomationSettings, DayKind, Holiday
        from salesloop.org.models import OrgSettings

        org = OrgSettings.current()
        conf = AutomationSettings.current()
        off, extra = set(), set()
        for day, kind in Holiday.objects.values_list("date", "kind"):
            (extra if kind == DayKind.WORKDAY else off).add(day)
        return cls(
            tz=ZoneInfo(org.time_zone),
            working_weekdays=frozenset(int(d) for d in org.working_days),
            days_off=frozenset(off),
            extra_workdays=frozenset(extra),
            day_start=conf.workday_start,
            day_end=conf.workday_end,
        )

    # Days ------------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.days_off:
            return False
        return day.isoweekday() in self.working_weekdays

    def today(self, now: dt.datetime | None = None) -> dt.date:
        return self.local(now or timezone.now()).date()

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def next_working_day(self, day: dt.date, *, include: bool = True) -> dt.date:
        current = day if include else day + dt.timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(current):
                return current
            current += dt.timedelta(days=1)
        raise ValueError("The working calendar has no working day in the next 400 days.")

    def previous_working_day(self, day: dt.date, *, include: bool = True) -> dt.date:
        current = day if include else day - dt.timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(current):
                return current
            current -= dt.timedelta(days=1)
        raise ValueError("The working calendar has no working day in the previous 400 days.")

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """End of the ``days``-th working day after the day the clock starts (0: that day's end).

        The clock starts on ``start``'s day if that is a working day not yet over; an event at
        the weekend or after hours is handled as if it came at the next opening. So with
        "within 3 working days" a lead from Friday 16:00 is due Wednesday 18:00 and one from
        Friday 20:00 or Saturday is due Thursday 18:00.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        local = self.local(start)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= self.day_end:
            day = self.next_working_day(day, include=False)
        for _ in range(days):
            day = self.next_working_day(day, include=False)
        return self.at(day, self.day_end)

    # Hours -----------------------------------------------------------------------------------

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """``start`` moved by ``hours`` of working time (negative moves back), in the org's zone."""
        if hours == 0:
            return start
        remaining = dt.timedelta(hours=abs(hours))
        current = self.local(start)
        forward = hours > 0
        for _ in range(_SEARCH_DAYS * 2):
            day = current.date()
            if self.is_working_day(day):
                opens, closes = self.at(day, self.day_start), self.at(day, self.day_end)
                if forward:
                    begin = max(current, opens)
                    if begin < closes:
                        available = closes - begin
                        if remaining <= available:
                            return begin + remaining
                        remaining -= available
                else:
                    end = min(current, closes)
                    if end > opens:
                        available = end - opens
                        if remaining <= available:
                            return end - remaining
                        remaining -= available
            if forward:
                current = self.at(day + dt.timedelta(days=1), dt.time(0, 0))
            else:
                current = self.at(day - dt.timedelta(days=1), dt.time(23, 59, 59, 999999))
        raise ValueError("The working calendar has no working hours in range.")

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        if end < start:
            return -self.working_hours_between(end, start)
        total = dt.timedelta(0)
        day = self.local(start).date()
        last = self.local(end).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self.at(day, self.day_start), self.at(day, self.day_end)
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600

    def add(self, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
        """The deadline ``amount`` ``unit`` (working_hours or working_days) after ``start``."""
        if unit == "working_hours":
            return self.add_working_hours(start, amount)
        return self.add_working_days(start, amount)
