"""RFM values, quintile scores and segments of every account, computed in the database.

One recompute is four statements in one transaction, whatever the number of accounts:

1. ``CREATE TEMP TABLE custops_rfm_new AS`` (then ``ANALYZE`` it) — per account: first and last
   order, frequency and monetary value in the window (and the window before, for growth), the
   three quintile scores, the rule segment and the R×F segment, with window functions and CASE;
2. ``INSERT INTO custops_segmentchange … SELECT`` — every account whose segment differs from the
   stored one (or that has none yet), with the direction of the move;
3. ``INSERT INTO custops_accountrfm … SELECT … ON CONFLICT DO UPDATE`` — the new current state;
4. ``DROP TABLE`` the temporary table.

Definitions (docs/custops.md has the worked examples):

* Orders count when confirmed or delivered, in the organisation's currency (no FX conversion),
  dated up to and including ``as_of``.
* Recency R = days from the last order (all time) to ``as_of``; frequency F = orders in the
  window ``(as_of − window_days, as_of]``; monetary M = their totals (or the payments received
  in the window, when the policy says so). Money is summed in integer cents: exact on SQLite too.
* Quintile score of a value among the accounts with at least one order:
  ``1 + ⌊5 × (RANK() − 1) / N⌋`` with RANK ordered from worst to best. Tie policy: equal values
  always get the same score — the score of the first of them, i.e. 1 + ⌊5 × share of accounts
  strictly worse⌋ — so identical customers are never split by row order, scores depend only on the
  values, and a mass of one-time buyers all get F = 1 (scores are then not evenly filled: that is
  the data speaking, not a bug).
* Rule segment: the ``no_purchase`` row for an account without any order; otherwise the first
  active rule (by precedence) whose bounds all hold (bounds inclusive); otherwise the
  ``fallback`` row.
* R×F segment: the active grid row whose R and F score ranges contain the account's scores;
  empty for accounts without orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from salesloop.analytics.queries.dialect import cents, is_postgres

_TEMP = "custops_rfm_new"
_COUNTED_STATUSES = ("confirmed", "delivered")


@dataclass(frozen=True)
class RuleSpec:
    code: str
    kind: str  # rule / no_purchase / fallback
    recency_min_days: int | None
    recency_max_days: int | None
    frequency_min: int | None
    frequency_max: int | None
    monetary_min: Decimal | None
    monetary_max: Decimal | None
    value_rank: int


@dataclass(frozen=True)
class GridSpec:
    code: str
    r_min: int
    r_max: int
    f_min: int
    f_max: int
    value_rank: int


@dataclass(frozen=True)
class RfmRequest:
    as_of: dt.date
    run_id: int
    window_days: int
    currency: str
    monetary_from_payments: bool
    rules: list[RuleSpec]  # in precedence order, active only
    grid: list[GridSpec]


@dataclass(frozen=True)
class RfmOutcome:
    accounts: int
    rule_changes: int
    grid_changes: int


def _date(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


def _days_between(later_param: str, earlier_col: str) -> str:
    """Whole days from ``earlier_col`` (a date column) to the date parameter ``later_param``."""
    if is_postgres():
        return f"(CAST({later_param} AS DATE) - {earlier_col})"
    return f"CAST(julianday({later_param}) - julianday({earlier_col}) AS INTEGER)"


def _rule_condition(rule: RuleSpec, as_of: dt.date, params: list) -> str:
    """SQL that is true when an account (with orders) satisfies every bound of ``rule``."""
    parts = []
    if rule.recency_max_days is not None:  # R <= max  ⇔  last order on or after as_of − max
        parts.append("n.last_order_date >= %s")
        params.append(_date(as_of - dt.timedelta(days=rule.recency_max_days)))
    if rule.recency_min_days is not None:  # R >= min  ⇔  last order on or before as_of − min
        parts.append("n.last_order_date <= %s")
        params.append(_date(as_of - dt.timedelta(days=rule.recency_min_days)))
    if rule.frequency_min is not None:
        parts.append("n.frequency >= %s")
        params.append(rule.frequency_min)
    if rule.frequency_max is not None:
        parts.append("n.frequency <= %s")
        params.append(rule.frequency_max)
    if rule.monetary_min is not None:
        parts.append("n.monetary_cents >= %s")
        params.append(int(Decimal(rule.monetary_min) * 100))
    if rule.monetary_max is not None:
        parts.append("n.monetary_cents <= %s")
        params.append(int(Decimal(rule.monetary_max) * 100))
    return " AND ".join(parts) or "1 = 1"


def _rule_case(req: RfmRequest, params: list) -> str:
    by_kind = {r.kind: r for r in req.rules if r.kind != "rule"}
    whens = ["WHEN n.last_order_date IS NULL THEN %s"]
    params.append(by_kind["no_purchase"].code)
    for rule in req.rules:
        if rule.kind == "rule":
            whens.append(f"WHEN {_rule_condition(rule, req.as_of, params)} THEN %s")
            params.append(rule.code)
    params.append(by_kind["fallback"].code)
    return "CASE " + " ".join(whens) + " ELSE %s END"


def _grid_case(req: RfmRequest, params: list) -> str:
    whens = []
    for cell in req.grid:
        whens.append("WHEN n.r_score BETWEEN %s AND %s AND n.f_score BETWEEN %s AND %s THEN %s")
        params += [cell.r_min, cell.r_max, cell.f_min, cell.f_max, cell.code]
    return "CASE WHEN n.r_score IS NULL THEN '' " + " ".join(whens) + " ELSE '' END"


def _rank_case(column: str, ranks: dict[str, int], params: list) -> str:
    """The value rank of the segment code in ``column`` (0 for a code no longer defined)."""
    whens = []
    for code, rank in ranks.items():
        whens.append(f"WHEN {column} = %s THEN %s")
        params += [code, rank]
    return "CASE " + " ".join(whens) + " ELSE 0 END"


def _monetary_sources(req: RfmRequest, params: list) -> str:
    """CTEs ``per_account`` (orders) and ``money`` (monetary value per account, in cents)."""
    window_start = req.as_of - dt.timedelta(days=req.window_days)
    previous_start = window_start - dt.timedelta(days=req.window_days)
    sql = f"""
        per_account AS (
            SELECT o.account_id,
                   MIN(o.order_date) AS first_order_date,
                   MAX(o.order_date) AS last_order_date,
                   SUM(CASE WHEN o.order_date > %s THEN 1 ELSE 0 END) AS frequency,
                   SUM(CASE WHEN o.order_date > %s THEN {cents("o.total")} ELSE 0 END)
                       AS order_cents,
                   SUM(CASE WHEN o.order_date > %s AND o.order_date <= %s
                            THEN {cents("o.total")} ELSE 0 END) AS previous_order_cents
            FROM sales_order o
            WHERE o.status IN (%s, %s) AND o.currency = %s AND o.order_date <= %s
            GROUP BY o.account_id
        )"""
    params += [
        _date(window_start),
        _date(window_start),
        _date(previous_start),
        _date(window_start),
        *_COUNTED_STATUSES,
        req.currency,
        _date(req.as_of),
    ]
    if not req.monetary_from_payments:
        return (
            sql
            + """,
        money AS (
            SELECT account_id, order_cents AS monetary_cents, previous_order_cents AS previous_cents
            FROM per_account
        )"""
        )
    from django.utils import timezone

    def day_start(day: dt.date):
        aware = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        return connection.ops.adapt_datetimefield_value(aware)

    params += [
        day_start(window_start + dt.timedelta(days=1)),
        day_start(previous_start + dt.timedelta(days=1)),
        day_start(window_start + dt.timedelta(days=1)),
        day_start(previous_start + dt.timedelta(days=1)),
        day_start(req.as_of + dt.timedelta(days=1)),
        req.currency,
    ]
    return (
        sql
        + f""",
        money AS (
            SELECT p.account_id,
                   SUM(CASE WHEN p.paid_at >= %s THEN {cents("p.amount")} ELSE 0 END)
                       AS monetary_cents,
                   SUM(CASE WHEN p.paid_at >= %s AND p.paid_at < %s
                            THEN {cents("p.amount")} ELSE 0 END) AS previous_cents
            FROM sales_payment p
            WHERE p.paid_at >= %s AND p.paid_at < %s AND p.currency = %s
            GROUP BY p.account_id
        )"""
    )


def _create_scores_sql(req: RfmRequest) -> tuple[str, list]:
    params: list = []
    ctes = _monetary_sources(req, params)
    # The scored population is the accounts with at least one order; RANK orders from worst to
    # best, so equal values share the lowest rank of their group (the documented tie policy).
    scored = """
        scored AS (
            SELECT pa.account_id, pa.first_order_date, pa.last_order_date, pa.frequency,
                   COALESCE(m.monetary_cents, 0) AS monetary_cents,
                   COALESCE(m.previous_cents, 0) AS previous_cents,
                   1 + (5 * (RANK() OVER (ORDER BY pa.last_order_date) - 1))
                       / COUNT(*) OVER () AS r_score,
                   1 + (5 * (RANK() OVER (ORDER BY pa.frequency) - 1))
                       / COUNT(*) OVER () AS f_score,
                   1 + (5 * (RANK() OVER (ORDER BY COALESCE(m.monetary_cents, 0)) - 1))
                       / COUNT(*) OVER () AS m_score
            FROM per_account pa
            LEFT JOIN money m ON m.account_id = pa.account_id
        ),
        n AS (
            SELECT a.id AS account_id, s.first_order_date, s.last_order_date,
                   COALESCE(s.frequency, 0) AS frequency,
                   COALESCE(s.monetary_cents, 0) AS monetary_cents,
                   COALESCE(s.previous_cents, 0) AS previous_cents,
                   s.r_score, s.f_score, s.m_score
            FROM customers_account a
            LEFT JOIN scored s ON s.account_id = a.id
        )"""
    select_params: list = []
    rule_case = _rule_case(req, select_params)
    grid_case = _grid_case(req, select_params)
    sql = f"""
        CREATE TEMP TABLE {_TEMP} AS
        WITH {ctes.strip()},
        {scored.strip()}
        SELECT n.account_id, n.first_order_date, n.last_order_date, n.frequency,
               n.monetary_cents, n.previous_cents, n.r_score, n.f_score, n.m_score,
               {rule_case} AS rule_segment,
               {grid_case} AS grid_segment
        FROM n"""
    return sql, params + select_params


def _changes_sql(req: RfmRequest, scheme: str) -> tuple[str, list]:
    column = "rule_segment" if scheme == "rule" else "grid_segment"
    if scheme == "rule":
        ranks = {r.code: r.value_rank for r in req.rules}
    else:
        ranks = {g.code: g.value_rank for g in req.grid}
    params: list = [req.run_id, scheme, _date(req.as_of)]
    new_rank = _rank_case(f"n.{column}", ranks, params)
    old_rank = _rank_case(f"c.{column}", ranks, params)
    first_time = (
        "c.account_id IS NULL" if scheme == "rule" else f"c.account_id IS NULL AND n.{column} <> ''"
    )
    sql = f"""
        INSERT INTO custops_segmentchange
            (account_id, run_id, scheme, from_code, to_code, direction, changed_on)
        SELECT account_id, run_id, scheme, from_code, to_code,
               CASE WHEN is_first = 1 THEN 0
                    WHEN new_rank > old_rank THEN 1
                    WHEN new_rank < old_rank THEN -1
                    ELSE 0 END,
               changed_on
        FROM (
            SELECT n.account_id, %s AS run_id, %s AS scheme, %s AS changed_on,
                   COALESCE(c.{column}, '') AS from_code, n.{column} AS to_code,
                   CASE WHEN c.account_id IS NULL THEN 1 ELSE 0 END AS is_first,
                   {new_rank} AS new_rank, {old_rank} AS old_rank
            FROM {_TEMP} n
            LEFT JOIN custops_accountrfm c ON c.account_id = n.account_id
            WHERE ({first_time}) OR (c.account_id IS NOT NULL AND c.{column} <> n.{column})
        ) moves"""
    return sql, params


def _upsert_sql(req: RfmRequest) -> tuple[str, list]:
    as_of = _date(req.as_of)
    params = [req.run_id, as_of, as_of, req.currency]
    sql = f"""
        INSERT INTO custops_accountrfm (
            account_id, run_id, as_of, first_order_date, last_order_date, recency_days, frequency,
            monetary, previous_monetary, currency, recency_score, frequency_score, monetary_score,
            rule_segment, grid_segment)
        SELECT n.account_id, %s, %s, n.first_order_date, n.last_order_date,
               CASE WHEN n.last_order_date IS NULL THEN NULL
                    ELSE {_days_between("%s", "n.last_order_date")} END,
               n.frequency, n.monetary_cents / 100.0, n.previous_cents / 100.0, %s,
               n.r_score, n.f_score, n.m_score, n.rule_segment, n.grid_segment
        FROM {_TEMP} n
        WHERE 1 = 1
        ON CONFLICT (account_id) DO UPDATE SET
            run_id = excluded.run_id, as_of = excluded.as_of,
            first_order_date = excluded.first_order_date,
            last_order_date = excluded.last_order_date,
            recency_days = excluded.recency_days, frequency = excluded.frequency,
            monetary = excluded.monetary, previous_monetary = excluded.previous_monetary,
            currency = excluded.currency, recency_score = excluded.recency_score,
            frequency_score = excluded.frequency_score, monetary_score = excluded.monetary_score,
            rule_segment = excluded.rule_segment, grid_segment = excluded.grid_segment"""
    return sql, params


def recompute(req: RfmRequest) -> RfmOutcome:
    """Run the four statements; the caller holds the transaction (``services`` is atomic)."""
    kinds = [r.kind for r in req.rules]
    if kinds.count("no_purchase") != 1 or kinds.count("fallback") != 1:
        raise ValueError(
            "exactly one active no_purchase row and one active fallback row are required"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_TEMP}")
        sql, params = _create_scores_sql(req)
        cursor.execute(sql, params)
        # A temporary table is never analysed automatically; without statistics PostgreSQL
        # plans the joins below as if it had one row (nested loops over every account).
        cursor.execute(f"ANALYZE {_TEMP}")
        sql, params = _changes_sql(req, "rule")
        cursor.execute(sql, params)
        rule_changes = cursor.rowcount
        sql, params = _changes_sql(req, "grid")
        cursor.execute(sql, params)
        grid_changes = cursor.rowcount
        sql, params = _upsert_sql(req)
        cursor.execute(sql, params)
        cursor.execute(f"SELECT COUNT(*) FROM {_TEMP}")
        accounts = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {_TEMP}")
    return RfmOutcome(accounts=accounts, rule_changes=rule_changes, grid_changes=grid_changes)
