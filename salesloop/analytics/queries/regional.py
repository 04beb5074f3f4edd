"""Regional distribution (issue #7 §3, seed 000 §四.2): customers, revenue and win rate by place.

Definitions, for local dates ``start``..``end`` (inclusive) in the current time zone:

* **Place** is the account's *current* ``region`` / ``province`` / ``city`` (a deal belongs to the
  place of its account; a city is keyed with its province, since city names repeat). Accounts
  without a value are grouped under the empty string ("not set").
* **Accounts** — visible accounts created before the end of the period (the book in that place).
* **Buying accounts** — distinct accounts with at least one won deal closed in the period.
* **Revenue** — the ``actuals`` definition (``analytics.queries.actuals``): the amount of won deals
  (stage counts as won) whose ``closed_at`` falls in the period. ``actuals`` splits a deal's
  amount between reps with exact cents; the splits of a deal always add up to its amount, so the
  revenue of a place is the sum of its won deals' amounts. Money is integer cents in the
  organisation currency (amounts are summed as entered, as ``actuals`` does).
* **Won / lost** — deals closed in the period in a won / lost stage; **win rate** = won / (won +
  lost); **average deal size** = revenue / won.

Visibility: accounts are an ``IN (subquery)`` of the caller's restricted account queryset, deals
of the restricted opportunity queryset (``org.access.restrict``), as ``funnel`` does. One
set-based query (``UNION ALL`` of the account and deal aggregates, summed by place), the same SQL
text on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from salesloop.analytics.queries.dialect import cents

#: Level → the account columns that key a place at that level.
LEVELS: dict[str, tuple[str, ...]] = {
    "region": ("region",),
    "province": ("province",),
    "city": ("province", "city"),
}


@dataclass(frozen=True)
class PlaceRow:
    """One place's numbers. ``key`` holds the level's columns (``(province, city)`` for cities)."""

    key: tuple[str, ...]
    accounts: int
    buying_accounts: int
    won: int
    lost: int
    revenue_cents: int

    @property
    def label(self) -> str:
        return " / ".join(k for k in self.key if k) or ""

    @property
    def revenue(self) -> Decimal:
        return (Decimal(self.revenue_cents) / 100).quantize(Decimal("0.01"))

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won + self.lost
        return (Decimal(self.won) / Decimal(closed)).quantize(Decimal("0.0001")) if closed else None

    @property
    def avg_deal_size(self) -> Decimal | None:
        if not self.won:
            return None
        return (Decimal(self.revenue_cents) / 100 / self.won).quantize(Decimal("0.01"))


def _bounds(start: dt.date, end: dt.date) -> tuple:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
    return connection.ops.adapt_datetimefield_value(lo), connection.ops.adapt_datetimefield_value(hi)


def regional_distribution(
    *,
    visible_accounts: QuerySet,
    visible_opportunities: QuerySet,
    start: dt.date,
    end: dt.date,
    level: str = "province",
) -> list[PlaceRow]:
    """Places at ``level`` (a key of :data:`LEVELS`) ranked by revenue, then accounts."""
    if level not in LEVELS:
        raise ValueError(level)
    cols = LEVELS[level]
    keys = ", ".join(f"COALESCE(a.{c}, '') AS k{i}" for i, c in enumerate(cols))
    outer_keys = ", ".join(f"p.k{i}" for i in range(len(cols)))
    group = ", ".join(str(i + 1) for i in range(len(cols)))
    acc_sql, acc_params = visible_accounts.order_by().values("id").query.sql_with_params()
    opp_sql, opp_params = visible_opportunities.order_by().values("id").query.sql_with_params()
    lo, hi = _bounds(start, end)
    sql = (
        f"SELECT {outer_keys}, SUM(p.accounts), SUM(p.buyers), SUM(p.won), SUM(p.lost), SUM(p.revenue) FROM ("
        f" SELECT {keys}, COUNT(*) AS accounts, 0 AS buyers, 0 AS won, 0 AS lost, 0 AS revenue"
        f" FROM customers_account a WHERE a.created_at < %s AND a.id IN ({acc_sql}) GROUP BY {group}"
        " UNION ALL"
        # Deals are summed per account first, so "buying accounts" is a plain sum (no DISTINCT:
        # PostgreSQL would sort every closed deal for it).
        f" SELECT {keys}, 0, SUM(CASE WHEN x.won > 0 THEN 1 ELSE 0 END), SUM(x.won), SUM(x.lost), SUM(x.revenue)"
        " FROM (SELECT o.account_id AS account_id, SUM(CASE WHEN st.is_won THEN 1 ELSE 0 END) AS won,"
        " SUM(CASE WHEN st.is_lost THEN 1 ELSE 0 END) AS lost,"
        f" SUM(CASE WHEN st.is_won THEN {cents('o.amount')} ELSE 0 END) AS revenue"
        " FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id"
        " WHERE (st.is_won OR st.is_lost) AND o.closed_at >= %s AND o.closed_at < %s"
        f" AND o.id IN ({opp_sql}) GROUP BY o.account_id) x"
        f" JOIN customers_account a ON a.id = x.account_id GROUP BY {group}"
        f") p GROUP BY {group}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [hi, *acc_params, lo, hi, *opp_params])
        rows = cur.fetchall()
    n = len(cols)
    out = [
        PlaceRow(
            key=tuple(r[:n]),
            accounts=int(r[n] or 0),
            buying_accounts=int(r[n + 1] or 0),
            won=int(r[n + 2] or 0),
            lost=int(r[n + 3] or 0),
            revenue_cents=int(r[n + 4] or 0),
        )
        for r in rows
    ]
    out.sort(key=lambda p: (-p.revenue_cents, -p.accounts, p.key))
    return out


def totals(rows: list[PlaceRow]) -> PlaceRow:
    """The sum over all places (every account and deal is in exactly one place)."""
    return PlaceRow(
        key=(),
        accounts=sum(r.accounts for r in rows),
        buying_accounts=sum(r.buying_accounts for r in rows),
        won=sum(r.won for r in rows),
        lost=sum(r.lost for r in rows),
        revenue_cents=sum(r.revenue_cents for r in rows),
    )
