"""The weekday × hour heatmap groups 15-minute UTC buckets and maps them to local time afterwards;
it must equal reading each activity's own local weekday and hour, in any time zone.

Given activities at random moments and on the edges that could go wrong (local midnight, quarter
hours, the hours around a DST change, a +05:45 zone), when the heatmap is computed, then every
cell equals the count of a direct per-activity reading of the rule.
"""

import datetime as dt
import random
import zoneinfo
from collections import Counter

import pytest
from django.utils import timezone

from salesloop.activities.models import Activity
from salesloop.analytics.queries.heatmap import POSITIVE_OUTCOMES, activity_heatmap
from salesloop.org import access
from salesloop.testing.factories import AccountFactory, ActivityFactory

UTC = dt.UTC
OUTCOMES = ["", "interested", "no_answer", "qualified", "negotiating"]


def moments(rng: random.Random) -> list[dt.datetime]:
    edges = [
        dt.datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),  # New York: just before DST starts
        dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 EDT
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT (first)
        dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # 01:30 EST (second)
        dt.datetime(2026, 1, 4, 16, 0, tzinfo=UTC),  # Shanghai midnight, Monday
        dt.datetime(2026, 1, 4, 15, 59, 59, tzinfo=UTC),  # Shanghai 23:59:59, Sunday
        dt.datetime(2026, 1, 5, 18, 15, tzinfo=UTC),  # Kathmandu 00:00 (+05:45)
        dt.datetime(2026, 1, 5, 18, 14, 59, tzinfo=UTC),
    ]
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    return edges + [start + dt.timedelta(seconds=rng.randrange(0, 330 * 86400)) for _ in range(60)]


def oracle(activities: list[Activity], tz) -> Counter:
    cells: Counter = Counter()
    for a in activities:
        local = a.occurred_at.astimezone(tz)
        key = (local.isoweekday(), local.hour)
        cells[(*key, "n")] += 1
        cells[(*key, "recorded")] += a.outcome != ""
        cells[(*key, "positive")] += a.outcome in POSITIVE_OUTCOMES
    return +cells


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu"])
def test_bucketed_weekday_hour_cells_equal_each_activitys_local_time(org, zone):
    rng = random.Random(zone)
    account = AccountFactory(owner=org.rep_a1)
    made = [ActivityFactory(account=account, occurred_at=when, outcome=rng.choice(OUTCOMES)) for when in moments(rng)]
    tz = zoneinfo.ZoneInfo(zone)
    with timezone.override(tz):
        cells = activity_heatmap(
            visible_activities=access.restrict(Activity.objects.all(), org.director, "read"),
            start=dt.date(2025, 12, 31),
            end=dt.date(2026, 12, 31),
        )
    got = Counter()
    for c in cells:
        got[(c.weekday, c.column, "n")] += c.activities
        got[(c.weekday, c.column, "recorded")] += c.recorded
        got[(c.weekday, c.column, "positive")] += c.positive
    assert +got == oracle(made, tz)
    assert sum(c.activities for c in cells) == len(made)
