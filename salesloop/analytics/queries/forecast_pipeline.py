"""The open pipeline as it stood at a moment, weighted by probability (forecast method (b)).

A deal counts when, at ``as_of``, it existed (``created_at`` before it), was open (neither won
nor lost) and its expected close date falls in the period. The state at ``as_of`` is replayed
from the stage log (``pipeline_stagechange``) with this rule:

* a deal whose stage has not changed since ``as_of`` is taken as it is now: current stage,
  amount and per-deal probability (``Opportunity.effective_probability``: the deal's own
  probability, else the stage default);
* a deal that moved after ``as_of`` is taken at its last move before ``as_of``: that stage, the
  amount recorded with the move, and the stage's default probability (a per-deal probability
  has no history, so the current one may not be used for the past);
* a deal that moved after ``as_of`` but has no move before it did not exist yet for the log and
  is left out.

The expected close date has no history: the current one is used (the one leak a backtest of
this method has; stated in the forecast's explanation).

Weighted value = amount × probability %, in integer cents, credited by split exactly like
revenue (``actuals``), so a rep's weighted pipeline and their revenue add up the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from salesloop.analytics.queries.actuals import _SPLIT_CREDIT, ScopeFilter, _splits
from salesloop.analytics.queries.dialect import date_param

#: Only deals with an expected close date in the period can count: the stage log is read for them alone.
_CANDIDATES = "SELECT id FROM pipeline_opportunity WHERE expected_close_date >= %s AND expected_close_date <= %s"


def _open_deals_sql() -> str:
    return (
        "SELECT o.id, o.owner_id,"
        "       CAST(ROUND(CASE WHEN lt.opportunity_id IS NULL THEN o.amount * COALESCE(o.probability, st.probability)"
        "                       ELSE COALESCE(ls.amount, o.amount) * st.probability END) AS BIGINT) AS cents,"
        "       CAST(ROUND(CASE WHEN lt.opportunity_id IS NULL THEN o.amount"
        "                       ELSE COALESCE(ls.amount, o.amount) END * 100) AS BIGINT) AS full_cents "
        "FROM pipeline_opportunity o "
        "LEFT JOIN (SELECT DISTINCT opportunity_id FROM pipeline_stagechange WHERE changed_at >= %s"
        f"           AND opportunity_id IN ({_CANDIDATES})) lt"
        "       ON lt.opportunity_id = o.id "
        "LEFT JOIN (SELECT sc.opportunity_id, sc.to_stage_id, sc.amount,"
        "                  ROW_NUMBER() OVER (PARTITION BY sc.opportunity_id ORDER BY sc.changed_at DESC, sc.id DESC)"
        "                  AS rn"
        "           FROM pipeline_stagechange sc WHERE sc.changed_at < %s"
        f"           AND sc.opportunity_id IN ({_CANDIDATES})) ls"
        "       ON ls.opportunity_id = o.id AND ls.rn = 1 "
        "JOIN pipeline_stage st"
        "       ON st.id = CASE WHEN lt.opportunity_id IS NULL THEN o.stage_id ELSE ls.to_stage_id END "
        "WHERE NOT st.is_won AND NOT st.is_lost AND o.created_at < %s"
        "  AND o.expected_close_date >= %s AND o.expected_close_date <= %s"
    )


def weighted_open(
    scope: ScopeFilter, *, period_start: dt.date, period_end: dt.date, as_of: dt.datetime, by_rep: bool = False
) -> dict:
    """``{key: (weighted, unweighted, deals)}`` with key None (scope total) or rep id.

    ``weighted`` and ``unweighted`` are Decimal money; ``deals`` counts the deals credited (a
    split deal counts once per credited rep when grouped by rep, once in the total).
    """
    at = connection.ops.adapt_datetimefield_value(as_of)
    inner = _open_deals_sql()
    start, end = date_param(period_start), date_param(period_end)
    params = [at, start, end, at, start, end, at, start, end]
    credit = _SPLIT_CREDIT
    full_credit = _SPLIT_CREDIT.replace("c.cents", "c.full_cents")
    rows_sql = (
        f"SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, c.id AS deal_id, {credit} AS value,"
        f" {full_credit} AS full_value "
        f"FROM ({inner}) c LEFT JOIN {_splits('opportunity_id')} s ON s.opportunity_id = c.id"
    )
    joins, where, scope_params = scope.sql()
    lead, group = ("c.rep_id, ", " GROUP BY 1") if by_rep else ("", "")
    sql = (
        f"SELECT {lead}SUM(c.value), SUM(c.full_value), COUNT(DISTINCT c.deal_id) "
        f"FROM ({rows_sql}) c{joins}{where}{group}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*params, *scope_params])
        rows = cur.fetchall()
    out: dict = {}
    for row in rows:
        weighted, full, deals = row[-3], row[-2], row[-1]
        if not deals:
            continue
        out[row[0] if by_rep else None] = (
            (Decimal(int(weighted or 0)) / 100).quantize(Decimal("0.01")),
            (Decimal(int(full or 0)) / 100).quantize(Decimal("0.01")),
            int(deals),
        )
    return out
