"""Profile of won deals — the "ideal customer profile" (issue #7 §3, seed 001 智能销售).

Over the deals **closed** (won or lost stage, ``closed_at``) in the local dates ``start``..``end``:
for each value of each dimension — the account's ``industry``, ``size``, ``region`` and the
deal's ``source`` (the lead's source, else the account's source channel, as in ``funnel``) —

* **won / lost / closed** counts and **revenue** (amounts of the won deals, integer cents, the
  ``actuals`` definition restricted to the visible deals);
* **share of won** = won in the segment / all won; **win rate** = won / closed;
* **lift** = segment win rate / overall win rate (1.0 = average; 1.5 = wins half again as often);
* a 95% **Wilson score interval** of the win rate (E. B. Wilson, "Probable inference, the law of
  succession, and statistical inference", JASA 22 (1927) 209–212), so a segment with three
  closed deals is not read as a profile: a segment is marked *above* (or *below*) the overall
  rate only when its whole interval lies above (or below) it.

Empty values are kept as the empty string ("not set"). Visibility: an ``IN (subquery)`` of the
caller's deal queryset. One query (a ``UNION ALL`` per dimension over one CTE of closed deals),
the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from salesloop.analytics.queries.dialect import cents

#: Dimension → SQL expression over the CTE ``d`` (deal joined with account and lead).
DIMENSIONS: dict[str, str] = {
    "industry": "d.industry",
    "size": "d.size",
    "region": "d.region",
    "source": "d.source",
}

#: Two-sided 95% normal quantile for the Wilson interval (a statistical convention, not a
#: business number).
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Segment:
    dimension: str
    value: str
    won: int
    lost: int
    revenue_cents: int
    total_won: int
    overall_rate: Decimal | None

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def revenue(self) -> Decimal:
        return (Decimal(self.revenue_cents) / 100).quantize(Decimal("0.01"))

    @property
    def win_rate(self) -> Decimal | None:
        return (Decimal(self.won) / Decimal(self.closed)).quantize(Decimal("0.0001")) if self.closed else None

    @property
    def share_of_won(self) -> Decimal | None:
        return (Decimal(self.won) / Decimal(self.total_won)).quantize(Decimal("0.0001")) if self.total_won else None

    @property
    def lift(self) -> Decimal | None:
        if self.win_rate is None or not self.overall_rate:
            return None
        return (Decimal(self.won) / Decimal(self.closed) / self.overall_rate).quantize(Decimal("0.01"))

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.won, self.closed)

    @property
    def verdict(self) -> str:
        """``above`` / ``below`` the overall win rate with 95% confidence, else ``""``."""
        if self.interval is None or self.overall_rate is None:
            return ""
        lo, hi = self.interval
        if lo > float(self.overall_rate):
            return "above"
        if hi < float(self.overall_rate):
            return "below"
        return ""


@dataclass(frozen=True)
class WonProfile:
    start: dt.date
    end: dt.date
    won: int
    lost: int
    revenue_cents: int
    segments: list[Segment]

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won + self.lost
        return (Decimal(self.won) / Decimal(closed)).quantize(Decimal("0.0001")) if closed else None

    def by(self, dimension: str) -> list[Segment]:
        return [s for s in self.segments if s.dimension == dimension]


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a binomial proportion (Wilson 1927), ``None`` for ``n = 0``."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def won_deal_profile(*, visible_opportunities: QuerySet, start: dt.date, end: dt.date) -> WonProfile:
    """Segments of the visible deals closed in ``start``..``end``, each dimension ranked by won
    deals, then revenue."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
    vis_sql, vis_params = visible_opportunities.order_by().values("id").query.sql_with_params()
    deals = (
        "WITH d AS (SELECT a.industry AS industry, a.size AS size, a.region AS region,"
        " COALESCE(NULLIF(l.source, ''), a.source_channel) AS source,"
        " CASE WHEN st.is_won THEN 1 ELSE 0 END AS won, CASE WHEN st.is_lost THEN 1 ELSE 0 END AS lost,"
        f" CASE WHEN st.is_won THEN {cents('o.amount')} ELSE 0 END AS revenue"
        " FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id"
        " JOIN customers_account a ON a.id = o.account_id LEFT JOIN customers_lead l ON l.id = o.lead_id"
        " WHERE (st.is_won OR st.is_lost) AND o.closed_at >= %s AND o.closed_at < %s"
        f" AND o.id IN ({vis_sql}))"
    )
    parts = [
        f"SELECT '{name}', COALESCE({expr}, ''), SUM(d.won), SUM(d.lost), SUM(d.revenue) FROM d GROUP BY 2"
        for name, expr in DIMENSIONS.items()
    ]
    sql = deals + " " + " UNION ALL ".join(parts)
    with connection.cursor() as cur:
        cur.execute(
            sql,
            [connection.ops.adapt_datetimefield_value(lo), connection.ops.adapt_datetimefield_value(hi), *vis_params],
        )
        rows = cur.fetchall()
    # Every deal has exactly one value per dimension, so any dimension's sum is the total.
    first = [r for r in rows if r[0] == "industry"]
    won = sum(int(r[2] or 0) for r in first)
    lost = sum(int(r[3] or 0) for r in first)
    revenue = sum(int(r[4] or 0) for r in first)
    overall = (Decimal(won) / Decimal(won + lost)) if won + lost else None
    segments = [
        Segment(str(r[0]), str(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0), won, overall) for r in rows
    ]
    order = list(DIMENSIONS)
    segments.sort(key=lambda s: (order.index(s.dimension), -s.won, -s.revenue_cents, s.value))
    return WonProfile(start=start, end=end, won=won, lost=lost, revenue_cents=revenue, segments=segments)
