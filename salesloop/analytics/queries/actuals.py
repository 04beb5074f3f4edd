"""Actuals of every target metric, computed from the records in one set-based query per metric.

Each metric is a "credit rows" subquery yielding ``(rep_id, ts, value)``: who is credited, when,
and how much (money as integer **cents**, counts as integers). The outer query filters the
scope (a team subtree by the rep's current team, or a list of reps) and groups by rep, by local
day, or both. Definitions (also shown in the UI, see ``targets.metrics``):

* revenue — won deals (stage counts as won) by ``closed_at``, credited by split;
* gross_margin — margin of confirmed/delivered orders by ``order_date``, credited by split;
* new_customers — accounts whose first won deal closed in the period (one per account);
* visits — visit activities by ``occurred_at``, credited to who performed them;
* qualified_leads / proposals / negotiations — deals reaching that stage (or any later open or
  won stage) for the first time, credited to the deal's owner;
* won_deals — won deals by ``closed_at``; counts go to the primary credit holder;
* collections — payments by ``paid_at``, credited to the order's rep, else the account owner.

Split crediting, exact to the cent: a rep's credit is ``floor(cents × share_bp / 10000)`` and the
primary split (largest share, ties to the lowest user id) also gets the cents the floors left
over, so the credits of a deal always add up to its amount. A record without splits credits its
owner with 100%. Reps belong to the team they are in now (``User.team``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from salesloop.analytics.queries.dialect import as_date, bounds, cents, date_param, local_date
from salesloop.targets.metrics import Metric, Unit, spec
from salesloop.targets.periods import Period


@dataclass(frozen=True)
class StageOrders:
    """The ``order`` of the stages that define intent, proposal and negotiation (None if absent)."""

    intent: int | None
    proposal: int | None
    negotiation: int | None

    @classmethod
    def load(cls) -> StageOrders:
        from salesloop.pipeline.models import Stage
        from salesloop.targets.models import TargetSettings

        s = TargetSettings.current()
        orders = dict(
            Stage.objects.filter(
                code__in=[s.intent_stage_code, s.proposal_stage_code, s.negotiation_stage_code]
            ).values_list("code", "order")
        )
        return cls(
            orders.get(s.intent_stage_code), orders.get(s.proposal_stage_code), orders.get(s.negotiation_stage_code)
        )


_SPLIT_CREDIT = """
    CASE WHEN s.id IS NULL THEN c.cents
         ELSE (c.cents * s.bp) / 10000
              + CASE WHEN s.is_primary
                     THEN c.cents - SUM((c.cents * s.bp) / 10000) OVER (PARTITION BY c.id)
                     ELSE 0 END
    END
"""


def _splits(fk: str) -> str:
    return (
        f"(SELECT id, {fk}, user_id, is_primary, {cents('percent')} AS bp "
        f"FROM targets_creditsplit WHERE {fk} IS NOT NULL)"
    )


def _won_deals_cte() -> str:
    return (
        f"SELECT o.id, o.owner_id, o.account_id, o.closed_at, {cents('o.amount')} AS cents "
        "FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id "
        "WHERE st.is_won AND o.closed_at >= %s AND o.closed_at < %s"
    )


def credit_rows(metric: str, period: Period, stages: StageOrders) -> tuple[str, list, bool] | None:
    """SQL yielding ``(rep_id, ts, value)`` for ``metric`` in ``period``; ``ts_is_date`` says
    whether ``ts`` is already a local date. None when the metric cannot be measured (a stage
    it depends on does not exist)."""
    start, end = bounds(period)
    if metric == Metric.REVENUE:
        sql = (
            f"SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, c.closed_at AS ts, {_SPLIT_CREDIT} AS value "
            f"FROM ({_won_deals_cte()}) c LEFT JOIN {_splits('opportunity_id')} s ON s.opportunity_id = c.id"
        )
        return sql, [start, end], False
    if metric == Metric.WON_DEALS:
        sql = (
            "SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, c.closed_at AS ts, 1 AS value "
            f"FROM ({_won_deals_cte()}) c "
            "LEFT JOIN targets_creditsplit s ON s.opportunity_id = c.id AND s.is_primary"
        )
        return sql, [start, end], False
    if metric == Metric.GROSS_MARGIN:
        sql = (
            f"SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, c.order_date AS ts, {_SPLIT_CREDIT} AS value "
            f"FROM (SELECT id, owner_id, order_date, {cents('margin')} AS cents FROM sales_order "
            "      WHERE status IN ('confirmed', 'delivered') AND order_date >= %s AND order_date <= %s) c "
            f"LEFT JOIN {_splits('order_id')} s ON s.order_id = c.id"
        )
        return sql, [date_param(period.start), date_param(period.end)], True
    if metric == Metric.NEW_CUSTOMERS:
        sql = (
            "SELECT rep_id, ts, 1 AS value FROM ("
            "  SELECT COALESCE(s.user_id, o.owner_id) AS rep_id, o.closed_at AS ts,"
            "         ROW_NUMBER() OVER (PARTITION BY o.account_id ORDER BY o.closed_at, o.id) AS rn"
            "  FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id"
            "  LEFT JOIN targets_creditsplit s ON s.opportunity_id = o.id AND s.is_primary"
            "  WHERE st.is_won AND o.closed_at IS NOT NULL"
            ") first_won WHERE rn = 1 AND ts >= %s AND ts < %s"
        )
        return sql, [start, end], False
    if metric == Metric.VISITS:
        sql = (
            "SELECT COALESCE(a.performed_by_id, a.owner_id) AS rep_id, a.occurred_at AS ts, 1 AS value "
            "FROM activities_activity a WHERE a.kind = 'visit' AND a.occurred_at >= %s AND a.occurred_at < %s"
        )
        return sql, [start, end], False
    if metric in (Metric.QUALIFIED_LEADS, Metric.PROPOSALS, Metric.NEGOTIATIONS):
        order = {
            Metric.QUALIFIED_LEADS: stages.intent,
            Metric.PROPOSALS: stages.proposal,
            Metric.NEGOTIATIONS: stages.negotiation,
        }[metric]
        if order is None:
            return None
        # Only deals with a stage change inside the period can first reach the stage in it: the
        # pre-filter lets the (changed_at) index cut the scan to the period's changes.
        sql = (
            "SELECT o.owner_id AS rep_id, f.ts AS ts, 1 AS value FROM ("
            "  SELECT sc.opportunity_id, MIN(sc.changed_at) AS ts FROM pipeline_stagechange sc"
            '  JOIN pipeline_stage st ON st.id = sc.to_stage_id WHERE st."order" >= %s AND NOT st.is_lost'
            "  AND sc.opportunity_id IN (SELECT p.opportunity_id FROM pipeline_stagechange p"
            "                            WHERE p.changed_at >= %s AND p.changed_at < %s)"
            "  GROUP BY sc.opportunity_id"
            ") f JOIN pipeline_opportunity o ON o.id = f.opportunity_id WHERE f.ts >= %s AND f.ts < %s"
        )
        return sql, [order, start, end, start, end], False
    if metric == Metric.COLLECTIONS:
        sql = (
            f"SELECT COALESCE(so.owner_id, acc.owner_id) AS rep_id, p.paid_at AS ts, {cents('p.amount')} AS value "
            "FROM sales_payment p JOIN sales_invoice i ON i.id = p.invoice_id "
            "LEFT JOIN sales_order so ON so.id = i.order_id JOIN customers_account acc ON acc.id = p.account_id "
            "WHERE p.paid_at >= %s AND p.paid_at < %s"
        )
        return sql, [start, end], False
    raise ValueError(f"Unknown metric {metric!r}")


@dataclass(frozen=True)
class ScopeFilter:
    """Which credited reps count: a team subtree (by materialised path), some reps, or everyone."""

    team_path: str | None = None
    rep_ids: tuple[int, ...] | None = None

    def sql(self) -> tuple[str, str, list]:
        joins, where, params = "", "", []
        if self.team_path is not None:
            joins = " JOIN org_user u ON u.id = c.rep_id JOIN org_team t ON t.id = u.team_id"
            where = " WHERE t.path LIKE %s"
            params.append(self.team_path + "%")
        if self.rep_ids is not None:
            ids = list(self.rep_ids) or [-1]
            where += (" AND " if where else " WHERE ") + f"c.rep_id IN ({', '.join(['%s'] * len(ids))})"
            params.extend(ids)
        return joins, where, params


def grouped(metric: str, period: Period, scope: ScopeFilter, *, by: str, stages: StageOrders | None = None) -> dict:
    """Units (cents or counts) of ``metric`` grouped ``by`` "rep", "day", "rep_day" or "total".

    Keys: rep id, ``date``, ``(rep id, date)`` or ``None`` for the total.
    """
    rows = credit_rows(metric, period, stages or StageOrders.load())
    if rows is None:
        return {}
    inner, params, ts_is_date = rows
    joins, where, scope_params = scope.sql()
    day_sql, day_params = ("c.ts", []) if ts_is_date else local_date("c.ts")
    select = {
        "rep": ("c.rep_id", []),
        "day": (day_sql, day_params),
        "rep_day": (f"c.rep_id, {day_sql}", day_params),
        "total": ("", []),
    }[by]
    cols, col_params = select
    lead = f"{cols}, " if cols else ""
    # Group by position: PostgreSQL does not match two bound copies of the same expression.
    group = {"rep": " GROUP BY 1", "day": " GROUP BY 1", "rep_day": " GROUP BY 1, 2", "total": ""}[by]
    sql = f"SELECT {lead}SUM(c.value) FROM ({inner}) c{joins}{where}{group}"
    with connection.cursor() as cur:
        cur.execute(sql, [*col_params, *params, *scope_params])
        result = cur.fetchall()
    out: dict = {}
    for row in result:
        value = int(row[-1] or 0)
        if by == "rep":
            out[row[0]] = value
        elif by == "day":
            out[as_date(row[0])] = value
        elif by == "rep_day":
            out[(row[0], as_date(row[1]))] = value
        else:
            out[None] = value
    return out


def to_amount(metric: str, units: int) -> Decimal:
    """Cents → Decimal money, counts → Decimal whole number."""
    if spec(metric).unit == Unit.MONEY:
        return (Decimal(units) / 100).quantize(Decimal("0.01"))
    return Decimal(units)


def actuals_by_rep(
    metric: str, period: Period, scope: ScopeFilter, *, stages: StageOrders | None = None
) -> dict[int, Decimal]:
    return {rep: to_amount(metric, v) for rep, v in grouped(metric, period, scope, by="rep", stages=stages).items()}


def daily(
    metric: str, period: Period, scope: ScopeFilter, *, stages: StageOrders | None = None
) -> dict[dt.date, Decimal]:
    return {d: to_amount(metric, v) for d, v in grouped(metric, period, scope, by="day", stages=stages).items()}
