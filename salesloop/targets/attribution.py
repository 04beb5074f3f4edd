"""Variance attribution: why revenue missed (or beat) its target, in parts that add up exactly.

Model. Revenue is a sum over cells ``i`` = (rep, customer tier) of

    R_i = V × m_i × c_i × s_i

with V the scope's visits, m_i = V_i / V the cell's share of the visits (mix across reps and
tiers), c_i = won deals / visits (conversion) and s_i = revenue / won deals (average deal size).
The plan is the same product with the target: the scope's revenue target T is spread over reps
(their approved revenue targets, else capacity weights) and tiers (tier-target children, else the
tier shares, seed default 60/30/10), and the planned conversion and deal size of each tier are the
team's measured ones over ``funnel_lookback_days`` before the period (the reverse funnel's rates),
so the planned visits are V_i = T_i / (c_i × s_i) and the plan adds up to T exactly.

Decomposition. Each cell's change from plan to actual is split between its four factors by the
**Shapley value** of the product (the average, over every order of switching factors from plan to
actual, of each factor's marginal effect). The Shapley decomposition has no residual: the four
effects add up exactly to the cell's change, so all effects add up exactly to actual − target.
Sources: L. S. Shapley, "A value for n-person games", Contributions to the Theory of Games II
(1953) 307–317; J. Albrecht, D. François, K. Schoors, "A Shapley decomposition of carbon emissions
without residuals", Energy Policy 30 (2002) 727–736; A. F. Shorrocks, "Decomposition procedures
for distributional analysis: a unified framework based on the Shapley value", Journal of Economic
Inequality 11 (2013) 99–126. Arithmetic is exact (``Fraction``); the effects are then rounded to
the cent with the largest-remainder rule of ``targets.decomposition``, in two levels (each cell's
total change first, then its drivers to that total), so the rounded parts add up to the gap to the
cent, every cell, tier and rep total is within a cent of its exact value (exact when that is whole
cents), and every part is within 1.2 cents of its exact value.

Cells with no information keep the plan's value for the factor that cannot be measured (no won
deals: the deal size is the plan's; no visits: the conversion is the plan's). Revenue won in a
cell without any logged visit cannot be a product of visits; it is reported as its own driver,
"won without logged visits", rather than hidden.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import combinations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesloop.analytics.queries.attribution import Cell, cells
from salesloop.core.errors import FieldErrors
from salesloop.org.models import Team, User
from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.decomposition import rep_parts, round_to_total
from salesloop.targets.metrics import Metric
from salesloop.targets.models import Target, TargetSettings, TargetStatus, Tier
from salesloop.targets.periods import Period, PeriodKind

FACTORS = ["volume", "mix", "conversion", "deal_size"]
DRIVERS = [*FACTORS, "unlogged"]
DRIVER_LABELS = {
    "volume": gettext_lazy("Visits (activity volume)"),
    "mix": gettext_lazy("Visit mix across reps and tiers"),
    "conversion": gettext_lazy("Conversion (deals per visit)"),
    "deal_size": gettext_lazy("Average deal size"),
    "unlogged": gettext_lazy("Won without logged visits"),
}


def shapley_product(plan: list[Fraction], actual: list[Fraction]) -> list[Fraction]:
    """Shapley effects of switching each factor of a product from ``plan`` to ``actual``.

    φ_k = Σ_{S ⊆ N∖{k}} |S|! (n−|S|−1)! / n! · [f(S ∪ {k}) − f(S)], with f(S) the product taking
    the factors in S at actual and the rest at plan. Σ_k φ_k = Π actual − Π plan exactly.
    """
    n = len(plan)
    others_cache: dict[frozenset, Fraction] = {}

    def f(switched: frozenset) -> Fraction:
        if switched not in others_cache:
            value = Fraction(1)
            for j in range(n):
                value *= actual[j] if j in switched else plan[j]
            others_cache[switched] = value
        return others_cache[switched]

    effects = []
    for k in range(n):
        rest = [j for j in range(n) if j != k]
        total = Fraction(0)
        for size in range(n):
            weight = Fraction(math.factorial(size) * math.factorial(n - size - 1), math.factorial(n))
            for subset in combinations(rest, size):
                s = frozenset(subset)
                total += weight * (f(s | {k}) - f(s))
        effects.append(total)
    return effects


@dataclass
class CellPlan:
    target: Fraction
    conversion: Fraction
    deal_size: Fraction


@dataclass
class Effect:
    rep_id: int
    tier: str
    driver: str
    exact: Fraction
    amount: Decimal = Decimal(0)


@dataclass
class Attribution:
    scope_label: str
    period: Period
    target: Decimal
    actual: Decimal
    effects: list[Effect]
    baseline: dict[str, dict[str, str]]
    baseline_period: Period
    rep_names: dict[int, str] = field(default_factory=dict)

    @property
    def gap(self) -> Decimal:
        return self.actual - self.target

    @property
    def attainment_pct(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.actual * 100 / self.target).quantize(Decimal("0.1"))

    def _sum_by(self, key) -> dict:
        out: dict = {}
        for e in self.effects:
            out[key(e)] = out.get(key(e), Decimal(0)) + e.amount
        return out

    @property
    def by_driver(self) -> dict[str, Decimal]:
        sums = self._sum_by(lambda e: e.driver)
        return {d: sums.get(d, Decimal(0)) for d in DRIVERS}

    @property
    def by_tier_driver(self) -> dict[tuple[str, str], Decimal]:
        return self._sum_by(lambda e: (e.tier, e.driver))

    @property
    def by_rep(self) -> dict[int, Decimal]:
        return self._sum_by(lambda e: e.rep_id)

    def share_pct(self, amount: Decimal) -> Decimal | None:
        if not self.gap:
            return None
        return (amount * 100 / self.gap).quantize(Decimal("0.1")) + 0  # + 0 turns -0.0 into 0.0

    def headline(self, limit: int = 3) -> list[dict]:
        """The biggest (tier, driver) parts in the direction of the gap, with their share of it."""
        sign = -1 if self.gap < 0 else 1
        parts = sorted(self.by_tier_driver.items(), key=lambda kv: (-(kv[1] * sign), kv[0]))
        out = []
        for (tier, driver), amount in parts[:limit]:
            if amount * sign <= 0:
                break
            out.append(
                {
                    "tier": tier,
                    "tier_label": str(Tier(tier).label),
                    "driver": driver,
                    "driver_label": str(DRIVER_LABELS[driver]),
                    "amount": amount,
                    "share_pct": self.share_pct(amount),
                }
            )
        return out

    def waterfall(self) -> list[dict]:
        """Target, then each (tier, driver) step, then actual — for the waterfall chart."""
        steps = [{"label": str(_("Target")), "amount": self.target, "kind": "absolute"}]
        for tier in Tier.values:
            for driver in DRIVERS:
                amount = self.by_tier_driver.get((tier, driver), Decimal(0))
                if amount:
                    label = f"{Tier(tier).label} · {DRIVER_LABELS[driver]}"
                    steps.append({"label": label, "amount": amount, "kind": "relative"})
        steps.append({"label": str(_("Actual")), "amount": self.actual, "kind": "total"})
        return steps


def attribute(
    *,
    target_total: Decimal,
    plans: dict[tuple[int, str], CellPlan],
    actuals: dict[tuple[int, str], Cell],
) -> list[Effect]:
    """Exact Shapley effects for every cell, rounded to the cent so they add up to the gap.

    ``plans`` targets must add up to ``target_total``; actual revenue is in cents in ``actuals``.
    """
    if sum((p.target for p in plans.values()), Fraction(0)) != Fraction(target_total):
        raise ValueError("cell plans must add up to the target")
    keys = sorted(set(plans) | set(actuals), key=lambda k: (Tier.values.index(k[1]), k[0]))
    zero_plan = CellPlan(Fraction(0), Fraction(0), Fraction(0))
    planned_visits = {}
    for k in keys:
        p = plans.get(k, zero_plan)
        planned_visits[k] = p.target / (p.conversion * p.deal_size) if p.target else Fraction(0)
    v_plan = sum(planned_visits.values(), Fraction(0))
    v_actual = sum((actuals[k].visits for k in keys if k in actuals), 0)
    effects: list[Effect] = []
    for k in keys:
        p = plans.get(k, zero_plan)
        a = actuals.get(k, Cell())
        revenue = Fraction(a.revenue_cents, 100)
        deals = Fraction(a.deal_bp, 10000)
        m_plan = planned_visits[k] / v_plan if v_plan else Fraction(0)
        conv = deals / a.visits if a.visits else p.conversion
        size = revenue / deals if deals else p.deal_size
        unlogged = Fraction(0)
        if a.visits == 0 and revenue:
            unlogged = revenue  # cannot be visits × conversion × size: report it apart
        m_actual = Fraction(a.visits, v_actual) if v_actual else m_plan
        plan_f = [v_plan, m_plan, p.conversion, p.deal_size]
        actual_f = [Fraction(v_actual), m_actual, conv, size]
        for driver, value in zip(FACTORS, shapley_product(plan_f, actual_f), strict=True):
            effects.append(Effect(k[0], k[1], driver, value))
        effects.append(Effect(k[0], k[1], "unlogged", unlogged))
    actual_total = sum((Fraction(actuals[k].revenue_cents, 100) for k in actuals), Fraction(0))
    gap_cents = (actual_total - Fraction(target_total)) * 100
    assert gap_cents.denominator == 1, "target and actuals are whole cents"
    assert sum((e.exact for e in effects), Fraction(0)) * 100 == gap_cents, "Shapley effects must add up"
    # Two-level largest remainder: first each cell's total change, then the cell's drivers to it,
    # so a cell (and so a tier or a rep) whose exact change is whole cents keeps it exactly.
    per_cell = len(DRIVERS)
    groups = [effects[i : i + per_cell] for i in range(0, len(effects), per_cell)]
    cell_exact = [sum((e.exact for e in g), Fraction(0)) * 100 for g in groups]
    cell_cents = round_to_total(cell_exact, gap_cents.numerator)
    for g, exact, target_cents in zip(groups, cell_exact, cell_cents, strict=True):
        shift = (target_cents - exact) / len(g)
        rounded = round_to_total([e.exact * 100 + shift for e in g], target_cents)
        for e, c in zip(g, rounded, strict=True):
            e.amount = Decimal(c) / 100
    return effects


# Assembling the plan from the records ---------------------------------------------------------


def _tier_rates(data: dict[tuple[int, str], Cell]) -> dict[str, tuple[Fraction, Fraction] | None]:
    out: dict[str, tuple[Fraction, Fraction] | None] = {}
    pooled = Cell()
    for tier in Tier.values:
        agg = Cell()
        for (_rep, t), c in data.items():
            if t == tier:
                agg.visits += c.visits
                agg.deal_bp += c.deal_bp
                agg.revenue_cents += c.revenue_cents
        pooled.visits += agg.visits
        pooled.deal_bp += agg.deal_bp
        pooled.revenue_cents += agg.revenue_cents
        out[tier] = _rates(agg)
    out["_pooled"] = _rates(pooled)
    return out


def _rates(c: Cell) -> tuple[Fraction, Fraction] | None:
    if not c.visits or not c.deal_bp or not c.revenue_cents:
        return None
    deals = Fraction(c.deal_bp, 10000)
    return deals / c.visits, Fraction(c.revenue_cents, 100) / deals


def variance_attribution(
    *, user: User, scope: Team | User, period: Period, as_of: dt.date | None = None
) -> Attribution:
    """Attribute the gap between the approved revenue target of ``scope`` and its actual."""
    from salesloop.analytics.queries.actuals import ScopeFilter
    from salesloop.targets.selectors import TargetScope, check_scope

    tscope = TargetScope.of(scope)
    check_scope(user, tscope)
    target = Target.objects.filter(
        metric=Metric.REVENUE,
        period_start=period.start,
        period_end=period.end,
        scope_key=tscope.key,
        tier="",
        status=TargetStatus.APPROVED,
    ).first()
    if target is None:
        raise FieldErrors(
            {"period": [_("There is no approved revenue target for %(s)s in this period.") % {"s": tscope.label}]}
        )
    settings = TargetSettings.current()
    hv = list(settings.high_value_key_tiers or [])
    team = tscope.team or tscope.rep.team
    actual_cells = cells(period, tscope.filter(), hv)

    # Baseline rates: the team's, over the look-back window before the period; pooled if a tier
    # has none; the whole company's if the team has none.
    base_end = period.start - dt.timedelta(days=1)
    base_period = Period(base_end - dt.timedelta(days=settings.funnel_lookback_days - 1), base_end, PeriodKind.DAY)
    rates = _tier_rates(cells(base_period, ScopeFilter(team_path=team.path) if team else ScopeFilter(), hv))
    if rates["_pooled"] is None:
        rates = _tier_rates(cells(base_period, ScopeFilter(), hv))
    if rates["_pooled"] is None:
        raise FieldErrors({"period": [_("No won deals with visits before this period: no baseline to compare.")]})
    tier_rates = {t: rates[t] or rates["_pooled"] for t in Tier.values}

    # Rep weights: their approved revenue targets, else capacity weights; tier weights: the
    # tier children of the target, else the tier shares.
    if tscope.rep is not None:
        rep_w = {tscope.rep.pk: Fraction(1)}
        names = {tscope.rep.pk: str(tscope.rep)}
    else:
        rep_targets = dict(
            Target.objects.filter(
                metric=Metric.REVENUE,
                period_start=period.start,
                period_end=period.end,
                tier="",
                status=TargetStatus.APPROVED,
                rep__isnull=False,
                team__path__startswith=team.path,
            ).values_list("rep_id", "amount")
        )
        if sum(rep_targets.values(), Decimal(0)) > 0:
            rep_w = {k: Fraction(v) for k, v in rep_targets.items()}
        else:
            parts = rep_parts(team, period, WorkCalendar.for_period(period), settings.seniority_weights)
            rep_w = {p.rep.pk: p.weight for p in parts}
        names = dict(
            User.objects.filter(pk__in=set(rep_w) | {k[0] for k in actual_cells}).values_list("pk", "username")
        )
    tier_children = dict(target.children.filter(split_axis="tiers").values_list("tier", "amount"))
    if sum(tier_children.values(), Decimal(0)) > 0:
        tier_w = {t: Fraction(tier_children.get(t, 0)) for t in Tier.values}
    else:
        tier_w = {t: Fraction(Decimal(str(settings.tier_shares.get(t, 0)))) for t in Tier.values}
    rw_sum, tw_sum = sum(rep_w.values(), Fraction(0)), sum(tier_w.values(), Fraction(0))
    if not rw_sum or not tw_sum:
        raise FieldErrors({"period": [_("No weights to spread the target over reps and tiers.")]})
    total = Fraction(target.amount)
    plans = {
        (rep, tier): CellPlan(total * rw / rw_sum * tw / tw_sum, *tier_rates[tier])
        for rep, rw in rep_w.items()
        for tier, tw in tier_w.items()
    }
    effects = attribute(target_total=target.amount, plans=plans, actuals=actual_cells)
    actual = (Decimal(sum(c.revenue_cents for c in actual_cells.values())) / 100).quantize(Decimal("0.01"))
    baseline = {
        t: {"conversion_pct": f"{float(r[0] * 100):.2f}", "avg_deal": f"{float(r[1]):.2f}"}
        for t, r in tier_rates.items()
    }
    return Attribution(tscope.label, period, target.amount, actual, effects, baseline, base_period, names)
