"""The registry of target metrics: what each one counts, its unit, KPI class, period and owner.

The KPI classes follow seed 001 典型销售数据体系 (result / process / efficiency / quality /
financial indicators, each with a review period and an owner). Only *additive* metrics can be
targets that decompose (children sum to the parent); ratios such as conversion rate or average
deal size are derived in tracking from these sums and never decomposed.

How each metric is computed from the records lives in ``salesloop.analytics.queries.actuals``.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    REVENUE = "revenue", _("Revenue (won deals)")
    GROSS_MARGIN = "gross_margin", _("Gross margin")
    NEW_CUSTOMERS = "new_customers", _("New customers")
    VISITS = "visits", _("Visits")
    QUALIFIED_LEADS = "qualified_leads", _("Qualified leads (intents)")
    PROPOSALS = "proposals", _("Proposals")
    NEGOTIATIONS = "negotiations", _("Negotiations")
    WON_DEALS = "won_deals", _("Deals won")
    COLLECTIONS = "collections", _("Collections")


class Unit(models.TextChoices):
    MONEY = "money", _("Money")
    COUNT = "count", _("Count")


class KpiClass(models.TextChoices):
    RESULT = "result", _("Result")
    PROCESS = "process", _("Process")
    EFFICIENCY = "efficiency", _("Efficiency")
    QUALITY = "quality", _("Quality")
    FINANCIAL = "financial", _("Financial")


@dataclass(frozen=True)
class MetricSpec:
    code: str
    unit: str
    kpi_class: str
    review_periods: tuple[str, ...]
    owner: object  # a lazy translated label: who answers for it (seed 001)
    source: object  # a lazy translated one-line definition shown in the UI

    @property
    def quantum(self) -> Decimal:
        """The smallest indivisible amount: one cent (fen) for money, one for counts."""
        return Decimal("0.01") if self.unit == Unit.MONEY else Decimal(1)


_MANAGER = _("Sales manager")
_SUPERVISOR = _("Sales supervisor")
_FINANCE = _("Finance manager")

METRICS: dict[str, MetricSpec] = {
    m.code: m
    for m in [
        MetricSpec(
            Metric.REVENUE,
            Unit.MONEY,
            KpiClass.RESULT,
            ("month", "quarter", "year"),
            _MANAGER,
            _("Amount of deals won, by close date, credited by split."),
        ),
        MetricSpec(
            Metric.NEW_CUSTOMERS,
            Unit.COUNT,
            KpiClass.RESULT,
            ("month", "quarter", "year"),
            _MANAGER,
            _("Accounts whose first won deal closed in the period."),
        ),
        MetricSpec(
            Metric.VISITS,
            Unit.COUNT,
            KpiClass.PROCESS,
            ("day", "week"),
            _SUPERVISOR,
            _("Visit activities, by who performed them."),
        ),
        MetricSpec(
            Metric.QUALIFIED_LEADS,
            Unit.COUNT,
            KpiClass.PROCESS,
            ("day", "week"),
            _SUPERVISOR,
            _("Deals entering the intent stage for the first time."),
        ),
        MetricSpec(
            Metric.PROPOSALS,
            Unit.COUNT,
            KpiClass.PROCESS,
            ("day", "week"),
            _SUPERVISOR,
            _("Deals entering the proposal stage for the first time."),
        ),
        MetricSpec(
            Metric.NEGOTIATIONS,
            Unit.COUNT,
            KpiClass.PROCESS,
            ("day", "week"),
            _SUPERVISOR,
            _("Deals entering the negotiation stage for the first time."),
        ),
        MetricSpec(
            Metric.WON_DEALS,
            Unit.COUNT,
            KpiClass.EFFICIENCY,
            ("month", "quarter"),
            _MANAGER,
            _("Deals won, by close date, counted for the primary credit holder."),
        ),
        MetricSpec(
            Metric.GROSS_MARGIN,
            Unit.MONEY,
            KpiClass.FINANCIAL,
            ("month", "quarter"),
            _FINANCE,
            _("Margin of confirmed and delivered orders, by order date, credited by split."),
        ),
        MetricSpec(
            Metric.COLLECTIONS,
            Unit.MONEY,
            KpiClass.FINANCIAL,
            ("month", "quarter"),
            _FINANCE,
            _("Payments received, credited to the order's rep (else the account owner)."),
        ),
    ]
}


def spec(metric: str) -> MetricSpec:
    return METRICS[metric]
