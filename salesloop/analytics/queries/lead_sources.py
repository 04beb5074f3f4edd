"""Lead-source and campaign effectiveness (issue #7 §3, seed 001 数据分析在销售管理中的应用).

The unit is the **lead cohort**: the visible leads *created* in the local dates ``start``..``end``
(inclusive). Grouped by the lead's ``source`` (``by="source"``) or by its ``(source, campaign)``
pair (``by="campaign"``; ``customers.Lead`` carries a free-text ``campaign``, blank when none).

* **Converted** — cohort leads with at least one opportunity created from them
  (``pipeline_opportunity.lead_id``) before ``as_of``; **conversion rate** = converted / leads.
* **Won deals / revenue** — the cohort's opportunities that are in a won stage and closed before
  ``as_of`` (whenever after the lead's creation), and the sum of their amounts in integer cents
  (the ``actuals`` revenue definition, restricted to deals that came from a cohort lead). A recent
  cohort has had less time to close: compare cohorts of equal age.
* **Cost** — ``intel.CampaignCost`` rows overlapping the period, **prorated by days**: an entry
  covering ``D`` days (``period_start``..``period_end`` inclusive) of which ``O`` fall inside
  ``start``..``end`` counts ``amount × O / D``, rounded half-up to the cent per entry (integer
  arithmetic: ``(2·cents·O + D) div (2·D)``). By source, every entry of a source counts (its
  campaign entries and its source-wide entries); by campaign, an entry counts for its exact
  ``(source, campaign)`` pair, so a source-wide entry (blank campaign) lands on the row of that
  source's leads without a campaign.
* **Cost per lead** = cost / leads, **cost per won deal** = cost / won deals, **ROI** =
  (revenue − cost) / cost; each is empty when its divisor is zero.

Visibility: the leads are an ``IN (subquery)`` of the caller's restricted lead queryset; the deals
counted are those converted from those leads (aggregates only — no deal is listed). Costs are
organisation-wide money: the caller decides whether to show them (see ``intel.services_analytics``).
One query for leads and deals, one for costs; the same SQL on SQLite and PostgreSQL except the
day number of a date (:func:`_day_number`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from salesloop.analytics.queries.dialect import cents, date_param, is_postgres

GROUPINGS = ("source", "campaign")


@dataclass(frozen=True)
class SourceRow:
    """One source (``key = (source,)``) or campaign (``key = (source, campaign)``)."""

    key: tuple[str, ...]
    leads: int
    converted: int
    won_deals: int
    revenue_cents: int
    cost_cents: int

    @property
    def revenue(self) -> Decimal:
        return _money(self.revenue_cents)

    @property
    def cost(self) -> Decimal:
        return _money(self.cost_cents)

    @property
    def conversion_rate(self) -> Decimal | None:
        return _ratio(self.converted, self.leads)

    @property
    def cost_per_lead(self) -> Decimal | None:
        return None if not self.leads else _money(Decimal(self.cost_cents) / self.leads)

    @property
    def cost_per_won_deal(self) -> Decimal | None:
        return None if not self.won_deals else _money(Decimal(self.cost_cents) / self.won_deals)

    @property
    def roi(self) -> Decimal | None:
        if not self.cost_cents:
            return None
        return _ratio(self.revenue_cents - self.cost_cents, self.cost_cents)


def _money(value_cents) -> Decimal:
    return (Decimal(value_cents) / 100).quantize(Decimal("0.01"))


def _ratio(num: int, den: int) -> Decimal | None:
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001")) if den else None


def _day_number(expr: str) -> str:
    """Days since 1970-01-01 of the DATE column ``expr`` (integer), for day-count arithmetic."""
    if is_postgres():
        return f"({expr} - DATE '1970-01-01')"
    return f"CAST(julianday({expr}) - 2440587.5 AS INTEGER)"


def _ts(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def lead_source_effectiveness(
    *,
    visible_leads: QuerySet,
    start: dt.date,
    end: dt.date,
    by: str = "source",
    as_of: dt.datetime | None = None,
    with_costs: bool = True,
) -> list[SourceRow]:
    """Rows of the lead cohort of ``start``..``end`` grouped ``by`` source or campaign, ranked by
    revenue, then leads. With ``with_costs=False`` cost is zero and cost-only rows are left out."""
    if by not in GROUPINGS:
        raise ValueError(by)
    as_of = as_of or timezone.now()
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
    n = 1 if by == "source" else 2
    lead_keys = "l.source" if n == 1 else "l.source, l.campaign"
    vis_sql, vis_params = visible_leads.order_by().values("id").query.sql_with_params()
    # The deals of each lead are summed first (only deals that came from a lead), then joined to
    # the cohort: one pass over each table, no per-lead grouping of the lead table itself.
    lead_sql = (
        f"SELECT {lead_keys}, COUNT(*), SUM(CASE WHEN x.lead_id IS NULL THEN 0 ELSE 1 END),"
        " SUM(COALESCE(x.won, 0)), SUM(COALESCE(x.revenue, 0))"
        " FROM customers_lead l LEFT JOIN ("
        " SELECT o.lead_id AS lead_id,"
        " SUM(CASE WHEN st.is_won AND o.closed_at < %s THEN 1 ELSE 0 END) AS won,"
        f" SUM(CASE WHEN st.is_won AND o.closed_at < %s THEN {cents('o.amount')} ELSE 0 END) AS revenue"
        " FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id"
        " WHERE o.lead_id IS NOT NULL AND o.created_at < %s GROUP BY o.lead_id"
        ") x ON x.lead_id = l.id"
        f" WHERE l.created_at >= %s AND l.created_at < %s AND l.id IN ({vis_sql})"
        f" GROUP BY {', '.join(str(i + 1) for i in range(n))}"
    )
    with connection.cursor() as cur:
        cur.execute(lead_sql, [_ts(as_of), _ts(as_of), _ts(as_of), _ts(lo), _ts(hi), *vis_params])
        lead_rows = cur.fetchall()
    rows: dict[tuple, list[int]] = {}
    for r in lead_rows:
        rows[tuple(r[:n])] = [int(r[n] or 0), int(r[n + 1] or 0), int(r[n + 2] or 0), int(r[n + 3] or 0), 0]
    if with_costs:
        for key, cost in campaign_costs(start=start, end=end, by=by).items():
            rows.setdefault(key, [0, 0, 0, 0, 0])[4] += cost
    out = [SourceRow(k, *v) for k, v in rows.items()]
    out.sort(key=lambda s: (-s.revenue_cents, -s.leads, s.key))
    return out


def campaign_costs(*, start: dt.date, end: dt.date, by: str = "source") -> dict[tuple[str, ...], int]:
    """Prorated cost in cents per source or ``(source, campaign)`` of the entries overlapping
    ``start``..``end`` (rule in the module docstring)."""
    if by not in GROUPINGS:
        raise ValueError(by)
    keys = "c.source" if by == "source" else "c.source, c.campaign"
    n = 1 if by == "source" else 2
    lo_day, hi_day = _day_number("%s"), _day_number("%s")
    cs, ce = _day_number("c.period_start"), _day_number("c.period_end")
    # Overlap of [cs, ce] and [lo, hi] in whole days: min(ce, hi) − max(cs, lo) + 1.
    overlap = (
        f"(CASE WHEN {ce} < {hi_day} THEN {ce} ELSE {hi_day} END)"
        f" - (CASE WHEN {cs} > {lo_day} THEN {cs} ELSE {lo_day} END) + 1"
    )
    span = f"({ce} - {cs} + 1)"
    sql = (
        f"SELECT {keys}, SUM((2 * {cents('c.amount')} * ({overlap}) + {span}) / (2 * {span}))"
        " FROM intel_campaigncost c WHERE c.period_start <= %s AND c.period_end >= %s"
        f" GROUP BY {', '.join(str(i + 1) for i in range(n))}"
    )
    s, e = date_param(start), date_param(end)
    with connection.cursor() as cur:
        cur.execute(sql, [e, e, s, s, e, s])
        return {tuple(r[:n]): int(r[n] or 0) for r in cur.fetchall()}


def totals(rows: list[SourceRow]) -> SourceRow:
    return SourceRow(
        key=(),
        leads=sum(r.leads for r in rows),
        converted=sum(r.converted for r in rows),
        won_deals=sum(r.won_deals for r in rows),
        revenue_cents=sum(r.revenue_cents for r in rows),
        cost_cents=sum(r.cost_cents for r in rows),
    )
