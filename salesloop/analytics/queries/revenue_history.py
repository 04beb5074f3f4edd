"""Revenue by month (and by rep) as of a moment, for the time-series forecast and its backtests.

Revenue is exactly the targets' definition (``analytics.queries.actuals``, metric ``revenue``):
won deals by ``closed_at``, credited by split to the cent, reps counted in the team they are in
now. The rows come from :func:`actuals.credit_rows`, so the forecast's history and its "actual"
are the numbers the targets page shows. ``as_of`` cuts the history: only deals closed strictly
before it count, so a backtest never sees a deal closed after its snapshot date.

One ``GROUP BY`` month (and optionally rep) query; months are keyed by their first day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from salesloop.analytics.queries.actuals import ScopeFilter, StageOrders, credit_rows
from salesloop.analytics.queries.dialect import is_postgres, local_date
from salesloop.targets.metrics import Metric
from salesloop.targets.periods import Period, PeriodKind


def _month_key(day_sql: str) -> str:
    """SQL for ``year * 100 + month`` of a date expression (an integer on both databases)."""
    if is_postgres():
        return f"CAST(to_char({day_sql}, 'YYYYMM') AS INTEGER)"
    return f"CAST(strftime('%%Y%%m', {day_sql}) AS INTEGER)"


def _cut(scope: ScopeFilter, as_of: dt.datetime) -> tuple[str, str, list]:
    joins, where, params = scope.sql()
    where += (" AND " if where else " WHERE ") + "c.ts < %s"
    return joins, where, [*params, connection.ops.adapt_datetimefield_value(as_of)]


def monthly_revenue(scope: ScopeFilter, *, first_month: dt.date, as_of: dt.datetime, by_rep: bool = False) -> dict:
    """Revenue (Decimal) per month from ``first_month`` up to ``as_of`` (exclusive).

    Keys: the month's first day, or ``(rep_id, month)`` with ``by_rep``. Months without revenue
    are absent.
    """
    last_day = as_of.astimezone(dt.UTC).date() + dt.timedelta(days=1)  # the cut below is exact
    period = Period(first_month.replace(day=1), max(last_day, first_month), PeriodKind.MONTH)
    inner, params, _ts_is_date = credit_rows(Metric.REVENUE, period, StageOrders(None, None, None))
    joins, where, scope_params = _cut(scope, as_of)
    day_sql, day_params = local_date("c.ts")
    month = _month_key(day_sql)
    cols = f"c.rep_id, {month}" if by_rep else month
    group = "1, 2" if by_rep else "1"
    sql = f"SELECT {cols}, SUM(c.value) FROM ({inner}) c{joins}{where} GROUP BY {group}"
    with connection.cursor() as cur:
        cur.execute(sql, [*day_params, *params, *scope_params])
        rows = cur.fetchall()
    out: dict = {}
    for row in rows:
        key = int(row[-2])
        month_day = dt.date(key // 100, key % 100, 1)
        value = (Decimal(int(row[-1] or 0)) / 100).quantize(Decimal("0.01"))
        out[(row[0], month_day) if by_rep else month_day] = value
    return out


def revenue_between(scope: ScopeFilter, *, start: dt.date, as_of: dt.datetime, by_rep: bool = False) -> dict:
    """Revenue from local day ``start`` up to ``as_of`` (exclusive): ``{None: total}`` or
    ``{rep_id: amount}`` with ``by_rep`` (the won part of the weighted-pipeline forecast)."""
    last_day = as_of.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    period = Period(start, max(last_day, start), PeriodKind.DAY)
    inner, params, _ts_is_date = credit_rows(Metric.REVENUE, period, StageOrders(None, None, None))
    joins, where, scope_params = _cut(scope, as_of)
    lead, group = ("c.rep_id, ", " GROUP BY 1") if by_rep else ("", "")
    sql = f"SELECT {lead}SUM(c.value) FROM ({inner}) c{joins}{where}{group}"
    with connection.cursor() as cur:
        cur.execute(sql, [*params, *scope_params])
        rows = cur.fetchall()
    out: dict = {}
    for row in rows:
        out[row[0] if by_rep else None] = (Decimal(int(row[-1] or 0)) / 100).quantize(Decimal("0.01"))
    return out
