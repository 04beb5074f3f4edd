"""A team's measured funnel: visit → intent, stage-to-stage conversion, deal size, cycle length.

Stage conversion from level S to level T (levels are stage ``order`` values; a deal that skips a
stage still counts as having passed it) is measured on a cohort: the deals that first reached S
inside the window, and of those, how many have reached T or beyond (lost stages never count).
Deals still open are in the cohort, so a window that ends today understates slow conversions
slightly; the look-back (``TargetSettings.funnel_lookback_days``, default 180) keeps that small.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from salesloop.analytics.queries.actuals import ScopeFilter
from salesloop.analytics.queries.dialect import bounds, epoch_seconds
from salesloop.targets.periods import Period


@dataclass(frozen=True)
class StepRate:
    from_order: int
    to_order: int
    cohort: int
    converted: int

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.converted) / Decimal(self.cohort) if self.cohort else None


def stage_step(period: Period, scope: ScopeFilter, from_order: int, to_order: int) -> StepRate:
    start, end = bounds(period)
    joins, where, params = scope.sql()
    where = (where + " AND " if where else " WHERE ") + "c.reached_at >= %s AND c.reached_at < %s"
    sql = (
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.max_order >= %s THEN 1 ELSE 0 END), 0) FROM ("
        "  SELECT o.owner_id AS rep_id, r.reached_at, r.max_order FROM ("
        '    SELECT sc.opportunity_id, MIN(CASE WHEN st."order" >= %s THEN sc.changed_at END) AS reached_at,'
        '           MAX(st."order") AS max_order'
        "    FROM pipeline_stagechange sc JOIN pipeline_stage st ON st.id = sc.to_stage_id"
        "    WHERE NOT st.is_lost GROUP BY sc.opportunity_id"
        "  ) r JOIN pipeline_opportunity o ON o.id = r.opportunity_id"
        f") c{joins}{where}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [to_order, from_order, *params, start, end])
        cohort, converted = cur.fetchone()
    return StepRate(from_order, to_order, int(cohort), int(converted))


def won_cycle_days(period: Period, scope: ScopeFilter) -> tuple[Decimal | None, int]:
    """Average days from creation to close of the deals won in ``period``, and how many."""
    start, end = bounds(period)
    joins, where, params = scope.sql()
    secs = f"{epoch_seconds('o.closed_at')} - {epoch_seconds('o.created_at')}"
    sql = (
        "SELECT AVG(c.secs), COUNT(*) FROM ("
        f"  SELECT o.owner_id AS rep_id, {secs} AS secs FROM pipeline_opportunity o"
        "   JOIN pipeline_stage st ON st.id = o.stage_id"
        "   WHERE st.is_won AND o.closed_at >= %s AND o.closed_at < %s"
        f") c{joins}{where}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [start, end, *params])
        avg, n = cur.fetchone()
    if not n:
        return None, 0
    return (Decimal(str(avg)) / 86400).quantize(Decimal("0.1")), int(n)
