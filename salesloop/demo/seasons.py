"""The demo's calendar: which days business happens on, and how much.

Days are counted from the first day of the history window (index 0) to yesterday (index
``days - 1``); index ``days`` is today, the "as of" date. A day's weight multiplies the month's
season (a Q4 peak), the weekday, public holidays (the Spring Festival dip, Labour Day, National
Day) and a yearly growth trend. Sampling a day in a range is a binary search in cumulative
weights, so a million activities cost a million ``bisect`` calls, not a scan.
"""

import random
from bisect import bisect_right
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import accumulate

from salesloop.demo.profile import SPRING_FESTIVAL, DemoProfile

#: A day weighing less than this (weekends, holidays) is not a day for stage moves.
QUIET_DAY = 0.3


class Calendar:
    def __init__(self, *, as_of: date, history_days: int, profile: DemoProfile, tz: tzinfo) -> None:
        self.as_of = as_of
        self.days = history_days
        self.first_day = as_of - timedelta(days=history_days)
        self.tz = tz
        self._midnights: dict[int, datetime] = {}
        self.origin = datetime.combine(self.first_day, time(), tzinfo=tz)
        # Days until a year and a half past today (due dates, contract ends) are looked up.
        self._dates = [self.first_day + timedelta(days=i) for i in range(history_days + 550)]
        self._month_codes = [f"{d:%Y%m}" for d in self._dates]
        dates = [self.first_day + timedelta(days=i) for i in range(history_days + 1)]
        season = [self._season(d, profile) for d in dates]
        self.business = [
            s * profile.business_weekdays[d.isoweekday()]
            for s, d in zip(season, dates, strict=True)
        ]
        # Where a visit that converts falls: ordinary business × the weekday's conversion.
        self.converting = [
            b * profile.weekday_conversion[d.isoweekday()]
            for b, d in zip(self.business, dates, strict=True)
        ]
        everyday = [
            s * (1.0 if d.isoweekday() < 6 else 0.55) for s, d in zip(season, dates, strict=True)
        ]
        expo = [
            s * profile.expo_months.get(d.month, 0.4) for s, d in zip(everyday, dates, strict=True)
        ]
        # The last entry (today) is left out of the sampling curves: history ends yesterday.
        self.curves = {
            "business": list(accumulate(self.business[:-1])),
            "everyday": list(accumulate(everyday[:-1])),
            "expo": list(accumulate(expo[:-1])),
        }

    def _season(self, day: date, profile: DemoProfile) -> float:
        weight = profile.month_weights[day.month]
        weight *= 1 + profile.yearly_growth * ((day - self.first_day).days / 365)
        festival = SPRING_FESTIVAL.get(day.year)
        if festival is None:  # outside the table, a late-January festival is a fair guess
            festival = date(day.year, 1, 28)
        next_festival = SPRING_FESTIVAL.get(day.year + 1, date(day.year + 1, 1, 28))
        for first, last, factor in profile.spring_festival:
            for anchor in (festival, next_festival):
                if first <= (day - anchor).days <= last:
                    weight *= factor
        for month, first_day, last_day, factor in profile.fixed_holidays:
            if day.month == month and first_day <= day.day <= last_day:
                weight *= factor
        return weight

    # -- days and moments ------------------------------------------------------------------
    def date(self, index: int) -> date:
        if 0 <= index < len(self._dates):
            return self._dates[index]
        return self.first_day + timedelta(days=index)

    def month_code(self, index: int) -> str:
        """``YYYYMM`` of a day in the window (document numbers: SO202506-…)."""
        return self._month_codes[index]

    def index(self, day: date) -> int:
        return (day - self.first_day).days

    def midnight(self, index: int) -> datetime:
        moment = self._midnights.get(index)
        if moment is None:
            moment = datetime.combine(self.date(index), time(), tzinfo=self.tz)
            self._midnights[index] = moment
        return moment

    def moment(self, t: float) -> datetime:
        """A point in time given as fractional days since the window opened, to the second.

        Aware-datetime arithmetic in Python is wall-clock arithmetic, so adding days to the
        first midnight gives the local time of day ``t`` even across a DST change.
        """
        return self.origin + timedelta(seconds=round(t * 86_400))

    # -- sampling --------------------------------------------------------------------------
    def sample(self, rng: random.Random, lo: int, hi: int, curve: str = "business") -> int | None:
        """A day index in ``[lo, hi]`` (clamped to the history), drawn by the curve's weights."""
        lo = max(lo, 0)
        hi = min(hi, self.days - 1)
        if lo > hi:
            return None
        cum = self.curves[curve]
        base = cum[lo - 1] if lo else 0.0
        span = cum[hi] - base
        if span <= 0:
            return rng.randint(lo, hi)
        return min(bisect_right(cum, base + rng.random() * span, lo, hi), hi)

    def business_moment(self, rng: random.Random, t: float, *, after: float | None = None) -> float:
        """``t`` moved into working hours of a working day (a visit, a decision, a payment).

        A moment that falls on a weekend or a holiday moves to a working day within three days
        either side, drawn by weight, so Mondays are not crowded with the weekend's events; if the
        whole week is a holiday (the Spring Festival) it waits for the first working day after.
        """
        day = max(int(t // 1), 0)
        if day < self.days and self.business[day] < QUIET_DAY:
            lo = max(day - 3, int(after // 1) if after is not None else 0, 0)
            candidates = [
                d for d in range(lo, min(day + 4, self.days)) if self.business[d] >= QUIET_DAY
            ]
            if candidates:
                day = rng.choices(candidates, weights=[self.business[d] for d in candidates])[0]
            else:
                while day < self.days and self.business[day] < QUIET_DAY:
                    day += 1
        moment = day + rng.uniform(8.75, 18.5) / 24
        if after is not None and moment <= after:
            moment = after + rng.uniform(0.01, 0.08)
        return moment

    def converting_moment(
        self, rng: random.Random, t: float, *, after: float | None = None
    ) -> float:
        """Like ``business_moment`` for a visit that moves a deal on: it lands on a working day
        from one day before to two days after ``t``, drawn by conversion weight, so deals move
        more often mid-week (seed 000 §四.2) while cycle lengths stay what they were."""
        day = max(int(t // 1), 0)
        lo = max(day - 1, int(after // 1) if after is not None else 0, 0)
        candidates = [
            d for d in range(lo, min(day + 3, self.days)) if self.business[d] >= QUIET_DAY
        ]
        if not candidates:
            return self.business_moment(rng, t, after=after)
        day = rng.choices(candidates, weights=[self.converting[d] for d in candidates])[0]
        moment = day + rng.uniform(8.75, 18.5) / 24
        if after is not None and moment <= after:
            moment = after + rng.uniform(0.01, 0.08)
        return moment
