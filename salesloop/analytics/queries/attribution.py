"""Visits, won deals and revenue per (rep, customer tier): the cells of a variance attribution.

A customer's tier at a moment (seed 000 §一.1: high value / potential / new):

* **new** — the account had no won deal before that moment (a visit to a lead without an account
  is a new-customer visit; a deal is "new" when it is the account's first win);
* **high value** — otherwise, when its key-account tier is one of
  ``TargetSettings.high_value_key_tiers`` (default strategic and maintenance);
* **potential** — every other existing customer.

Revenue is credited exactly as in ``actuals`` (splits, cents); won deals are credited by share in
basis points (a deal split 60/40 counts 0.6 and 0.4), so a rep's revenue = deals × average size
holds for every rep, which the attribution needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from salesloop.analytics.queries.actuals import _SPLIT_CREDIT, ScopeFilter, _splits, _won_deals_cte, to_amount
from salesloop.analytics.queries.dialect import bounds, cents
from salesloop.targets.metrics import Metric
from salesloop.targets.periods import Period

_FIRST_WON = (
    "(SELECT o.account_id, MIN(o.closed_at) AS first_closed FROM pipeline_opportunity o "
    "JOIN pipeline_stage st ON st.id = o.stage_id WHERE st.is_won AND o.closed_at IS NOT NULL "
    "GROUP BY o.account_id)"
)


@dataclass
class Cell:
    visits: int = 0
    deal_bp: int = 0  # won deals in basis points of a deal (10000 = one whole deal)
    revenue_cents: int = 0


def _tier_case(moment: str, high_value_tiers: list[str]) -> tuple[str, list]:
    if high_value_tiers:
        hv = f"acc.key_account_tier IN ({', '.join(['%s'] * len(high_value_tiers))})"
    else:
        hv = "1 = 0"
    sql = (
        f"CASE WHEN acc.id IS NULL OR fw.first_closed IS NULL OR {moment} <= fw.first_closed THEN 'new' "
        f"WHEN {hv} THEN 'high_value' ELSE 'potential' END"
    )
    return sql, list(high_value_tiers)


def cells(period: Period, scope: ScopeFilter, high_value_tiers: list[str]) -> dict[tuple[int, str], Cell]:
    """``{(rep_id, tier): Cell}`` for ``period`` within ``scope`` (two queries)."""
    start, end = bounds(period)
    joins, where, scope_params = scope.sql()
    out: dict[tuple[int, str], Cell] = {}

    deal_tier, deal_params = _tier_case("c.closed_at", high_value_tiers)
    deals_sql = (
        "SELECT c.rep_id, c.tier, SUM(c.value), SUM(c.bp) FROM ("
        f"  SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, {deal_tier} AS tier,"
        f"         {_SPLIT_CREDIT} AS value, COALESCE(s.bp, 10000) AS bp"
        f"  FROM ({_won_deals_cte()}) c"
        f"  LEFT JOIN {_splits('opportunity_id')} s ON s.opportunity_id = c.id"
        "   JOIN customers_account acc ON acc.id = c.account_id"
        f"  LEFT JOIN {_FIRST_WON} fw ON fw.account_id = c.account_id"
        f") c{joins}{where} GROUP BY 1, 2"
    )
    visit_tier, visit_params = _tier_case("a.occurred_at", high_value_tiers)
    visits_sql = (
        "SELECT c.rep_id, c.tier, COUNT(*) FROM ("
        f"  SELECT COALESCE(a.performed_by_id, a.owner_id) AS rep_id, {visit_tier} AS tier"
        "   FROM activities_activity a LEFT JOIN customers_account acc ON acc.id = a.account_id"
        f"  LEFT JOIN {_FIRST_WON} fw ON fw.account_id = a.account_id"
        "   WHERE a.kind = 'visit' AND a.occurred_at >= %s AND a.occurred_at < %s"
        f") c{joins}{where} GROUP BY 1, 2"
    )
    with connection.cursor() as cur:
        cur.execute(deals_sql, [*deal_params, start, end, *scope_params])
        for rep_id, tier, value, bp in cur.fetchall():
            cell = out.setdefault((rep_id, tier), Cell())
            cell.revenue_cents += int(value or 0)
            cell.deal_bp += int(bp or 0)
        cur.execute(visits_sql, [*visit_params, start, end, *scope_params])
        for rep_id, tier, n in cur.fetchall():
            out.setdefault((rep_id, tier), Cell()).visits += int(n)
    return out


def tier_actuals(metric: str, period: Period, scope: ScopeFilter, tier: str) -> Decimal:
    """Actual of a tier target: revenue, won deals (whole deals, by share) or visits in ``tier``."""
    from salesloop.targets.models import TargetSettings

    if metric not in (Metric.REVENUE, Metric.WON_DEALS, Metric.VISITS):
        return Decimal(0)
    data = cells(period, scope, list(TargetSettings.current().high_value_key_tiers or []))
    rows = [c for (_rep, t), c in data.items() if t == tier]
    if metric == Metric.REVENUE:
        return to_amount(metric, sum(c.revenue_cents for c in rows))
    if metric == Metric.VISITS:
        return Decimal(sum(c.visits for c in rows))
    return (Decimal(sum(c.deal_bp for c in rows)) / 10000).quantize(Decimal("0.01"))


__all__ = ["Cell", "cells", "tier_actuals", "cents"]
