"""Forecast accuracy: how far each method's call was from what happened, as SQL over snapshots.

Which snapshot is scored: for each scope, period and method, the **last snapshot taken on or
before the period's first day minus** ``ForecastSettings.accuracy_lead_days`` (default 0: the call
as it stood when the period began, before any of its revenue was known). Periods whose actual is
not filled yet (still open) are not scored.

Per scored snapshot with forecast F and actual A > 0:

* absolute percentage error |F − A| / A → MAPE is its mean (Hyndman & Koehler 2006, "Another
  look at measures of forecast accuracy");
* signed percentage error (F − A) / A → bias is its mean (positive: the method over-calls).

Periods with A = 0 have no percentage error; they are counted (``zero_actual``) but not scored.
Level figures (company / team / rep) pool every scored snapshot of the level: they are means over
snapshots, not means of per-scope means.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from salesloop.analytics.queries.dialect import as_date, date_param, is_postgres
from salesloop.forecasting.models import ForecastSettings, Snapshot


@dataclass(frozen=True)
class Score:
    """Accuracy of one method for one scope (``scope_id`` None: the whole level or the company)."""

    method: str
    scope_kind: str
    scope_id: int | None
    periods: int  # scored periods (actual > 0)
    zero_actual: int  # closed periods with no revenue: not scored
    abs_error_sum: float
    signed_error_sum: float

    @property
    def mape(self) -> float | None:
        return self.abs_error_sum / self.periods if self.periods else None

    @property
    def bias(self) -> float | None:
        return self.signed_error_sum / self.periods if self.periods else None


@dataclass(frozen=True)
class ScoredSnapshot:
    scope_kind: str
    scope_id: int | None
    period_start: dt.date
    period_end: dt.date
    method: str
    taken_on: dt.date
    amount: Decimal
    actual: Decimal | None


def _cutoff_sql() -> tuple[str, object]:
    lead = ForecastSettings.current().accuracy_lead_days
    if is_postgres():
        return "s.period_start - CAST(%s AS INTEGER)", lead
    return "date(s.period_start, %s)", f"-{int(lead)} days"


def _ranked_sql(
    period_kind: str, *, scope_kind: str | None, scope_id: int | None, closed_only: bool, since: dt.date | None
) -> tuple[str, list]:
    cutoff, cutoff_param = _cutoff_sql()
    where = ["s.period_kind = %s", f"s.taken_on <= {cutoff}"]
    params: list = [period_kind, cutoff_param]
    if closed_only:
        where.append("s.actual IS NOT NULL")
    if scope_kind is not None:
        where.append("s.scope_kind = %s")
        params.append(scope_kind)
        if scope_id is None:
            where.append("s.scope_id IS NULL")
        else:
            where.append("s.scope_id = %s")
            params.append(scope_id)
    if since is not None:
        where.append("s.period_start >= %s")
        params.append(date_param(since))
    sql = (
        "SELECT s.scope_kind, s.scope_id, s.period_start, s.period_end, s.method, s.taken_on, s.amount, s.actual,"
        "       ROW_NUMBER() OVER (PARTITION BY s.scope_kind, s.scope_id, s.period_start, s.period_end, s.method"
        "                          ORDER BY s.taken_on DESC) AS rn "
        f"FROM {Snapshot._meta.db_table} s WHERE " + " AND ".join(where)
    )
    return sql, params


def scores(
    period_kind: str, *, scope_kind: str | None = None, scope_id: int | None = None, since: dt.date | None = None
) -> list[Score]:
    """Accuracy per method and scope over the closed periods of ``period_kind`` (one query)."""
    ranked, params = _ranked_sql(period_kind, scope_kind=scope_kind, scope_id=scope_id, closed_only=True, since=since)
    sql = (
        "SELECT r.method, r.scope_kind, r.scope_id,"
        "       SUM(CASE WHEN r.actual > 0 THEN 1 ELSE 0 END),"
        "       SUM(CASE WHEN r.actual > 0 THEN 0 ELSE 1 END),"
        "       SUM(CASE WHEN r.actual > 0 THEN ABS(r.amount - r.actual) * 1.0 / r.actual ELSE 0 END),"
        "       SUM(CASE WHEN r.actual > 0 THEN (r.amount - r.actual) * 1.0 / r.actual ELSE 0 END) "
        f"FROM ({ranked}) r WHERE r.rn = 1 GROUP BY r.method, r.scope_kind, r.scope_id"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return [
        Score(method, kind, sid, int(n or 0), int(z or 0), float(a or 0), float(b or 0))
        for method, kind, sid, n, z, a, b in rows
    ]


def pooled(items: list[Score], *, by_level: bool = True) -> list[Score]:
    """Per-scope scores pooled per (method, level), or per method with ``by_level=False``."""
    acc: dict[tuple, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for s in items:
        key = (s.method, s.scope_kind if by_level else "")
        a = acc[key]
        a[0] += s.periods
        a[1] += s.zero_actual
        a[2] += s.abs_error_sum
        a[3] += s.signed_error_sum
    return [Score(m, k, None, int(a[0]), int(a[1]), a[2], a[3]) for (m, k), a in sorted(acc.items())]


def track_record(scope_kind: str, scope_id: int | None, period_kind: str) -> dict[str, tuple[float, int]]:
    """method → (MAPE, scored periods) of one scope: what the accuracy-weighted combination uses."""
    return {
        s.method: (s.mape, s.periods)
        for s in scores(period_kind, scope_kind=scope_kind, scope_id=scope_id)
        if s.mape is not None
    }


def scored_snapshots(
    period_kind: str, *, scope_kind: str, scope_id: int | None, since: dt.date | None = None, closed_only: bool = True
) -> list[ScoredSnapshot]:
    """The snapshots accuracy scores for one scope (forecast-vs-actual lines), oldest period first."""
    ranked, params = _ranked_sql(
        period_kind, scope_kind=scope_kind, scope_id=scope_id, closed_only=closed_only, since=since
    )
    sql = (
        "SELECT r.scope_kind, r.scope_id, r.period_start, r.period_end, r.method, r.taken_on, r.amount, r.actual "
        f"FROM ({ranked}) r WHERE r.rn = 1 ORDER BY r.period_start, r.method"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return [
        ScoredSnapshot(
            kind,
            sid,
            as_date(start),
            as_date(end),
            method,
            as_date(taken),
            Decimal(str(amount)),
            Decimal(str(actual)) if actual is not None else None,
        )
        for kind, sid, start, end, method, taken, amount, actual in rows
    ]


# Reports (the API's and the pages' reads) -------------------------------------------------------


@dataclass(frozen=True)
class HistoryPoint:
    period: object  # targets.periods.Period
    actual: Decimal
    closed: bool
    forecasts: dict[str, Decimal]  # method → the scored snapshot's amount


def history(scope, period_kind: str, *, periods: int, now: dt.datetime) -> list[HistoryPoint]:
    """Forecast-vs-actual lines of one scope: the last ``periods`` periods and the current one.

    Actual = revenue of the period (so far, for the current one), one GROUP BY month query;
    each method's point is the snapshot accuracy scores (the rule in the module docstring).
    """
    from django.utils import timezone

    from salesloop.analytics.queries.revenue_history import monthly_revenue
    from salesloop.forecasting.selectors import periods_around

    today = timezone.localdate(now)
    spans = periods_around(period_kind, today, before=periods, after=0)
    revenue = monthly_revenue(scope.filter, first_month=spans[0].start, as_of=now)
    snaps = scored_snapshots(
        period_kind, scope_kind=scope.kind, scope_id=scope.id, since=spans[0].start, closed_only=False
    )
    by_period: dict[dt.date, dict[str, Decimal]] = defaultdict(dict)
    for s in snaps:
        by_period[s.period_start][s.method] = s.amount
    out = []
    for p in spans:
        actual = sum((v for m, v in revenue.items() if p.start <= m <= p.end), Decimal("0.00"))
        out.append(HistoryPoint(p, actual, p.end < today, by_period.get(p.start, {})))
    return out


@dataclass(frozen=True)
class Report:
    levels: list[Score]  # pooled per (method, level) over the scopes the viewer sees
    scopes: list[Score]  # per (method, scope)
    best: dict[str, str]  # level → method with the lowest MAPE


def report(period_kind: str, *, visible: set[tuple[str, int | None]] | None, since: dt.date | None = None) -> Report:
    """Accuracy per level and per scope, limited to ``visible`` (None: everything)."""
    rows = [s for s in scores(period_kind, since=since) if visible is None or (s.scope_kind, s.scope_id) in visible]
    levels = pooled(rows)
    best: dict[str, str] = {}
    for level in {s.scope_kind for s in levels}:
        ranked = sorted((s for s in levels if s.scope_kind == level and s.mape is not None), key=lambda s: s.mape)
        if ranked:
            best[level] = ranked[0].method
    order = {"company": 0, "team": 1, "rep": 2}
    rows.sort(key=lambda s: (order.get(s.scope_kind, 9), s.scope_id or 0, s.method))
    levels.sort(key=lambda s: (order.get(s.scope_kind, 9), s.method))
    return Report(levels, rows, best)
