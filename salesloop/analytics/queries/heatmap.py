"""Activity heatmaps (seed 000 §四.2, seed 001 数据分析): weekday × hour and weekday × rep.

A cell counts the activities performed in that local weekday/hour and how many had a positive
outcome (``POSITIVE_OUTCOMES``: interested, qualified/intent, moved to negotiation); its
conversion is positive / recorded, where "recorded" leaves out activities whose outcome was not
entered (they would read as failures). Weekdays are ISO (1 = Monday), in the current time zone.
Weekday × hour groups 15-minute UTC buckets in the database and maps them to local time in Python
(the per-row time-zone conversion was the query's whole cost on size M); weekday × rep uses the
ORM's ``ExtractIsoWeekDay``, which converts to local time on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import ExtractIsoWeekDay
from django.utils import timezone

from salesloop.analytics.queries.dialect import QuarterHourBucket, quarter_hour_start

POSITIVE_OUTCOMES = ("interested", "qualified", "negotiating")


@dataclass(frozen=True)
class Cell:
    weekday: int
    column: object  # hour (0-23) or rep id
    activities: int
    recorded: int
    positive: int

    @property
    def conversion(self) -> Decimal | None:
        if not self.recorded:
            return None
        return (Decimal(self.positive) / Decimal(self.recorded)).quantize(Decimal("0.0001"))


def activity_heatmap(
    *, visible_activities: QuerySet, start: dt.date, end: dt.date, by: str = "hour", kind: str | None = None
) -> list[Cell]:
    """Cells of ``visible_activities`` (already restricted by ``org.access``) between the local
    dates ``start`` and ``end`` (inclusive); ``by`` is ``hour`` or ``rep``."""
    if by not in ("hour", "rep"):
        raise ValueError(by)
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
    qs = visible_activities.filter(occurred_at__gte=lo, occurred_at__lt=hi)
    if kind:
        qs = qs.filter(kind=kind)
    counts = {
        "n": Count("id"),
        "recorded": Count("id", filter=~Q(outcome="")),
        "positive": Count("id", filter=Q(outcome__in=POSITIVE_OUTCOMES)),
    }
    if by == "hour":
        # Grouped by 15-minute UTC buckets in the database, mapped to local weekday × hour here
        # (exact in every time zone: see ``dialect.QuarterHourBucket``); ~35k buckets a year.
        totals: dict[tuple[int, int], list[int]] = {}
        buckets = qs.order_by().annotate(b=QuarterHourBucket("occurred_at")).values("b").annotate(**counts)
        for r in buckets:
            local = quarter_hour_start(r["b"], tz)
            cell = totals.setdefault((local.isoweekday(), local.hour), [0, 0, 0])
            cell[0] += r["n"]
            cell[1] += r["recorded"]
            cell[2] += r["positive"]
        cells = [Cell(wd, col, n, rec, pos) for (wd, col), (n, rec, pos) in totals.items()]
    else:
        rows = (
            qs.order_by()
            .annotate(wd=ExtractIsoWeekDay("occurred_at"), col=F("performed_by_id"))
            .values("wd", "col")
            .annotate(**counts)
        )
        cells = [Cell(int(r["wd"]), r["col"], r["n"], r["recorded"], r["positive"]) for r in rows]
    return sorted(cells, key=lambda c: (c.weekday, str(c.column)))
