"""Variance attribution adds up to the gap: by hand, against brute force, and by hypothesis."""

import datetime as dt
import itertools
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesloop.analytics.queries.attribution import Cell
from salesloop.targets.attribution import CellPlan, attribute, shapley_product, variance_attribution
from salesloop.targets.periods import PeriodKind, period_containing
from salesloop.targets.tests.factories import TargetFactory, visits, won_deal
from salesloop.testing.factories import AccountFactory

F = Fraction


def brute_force_shapley(plan, actual):
    """Average marginal effect over all n! orders of switching factors (the definition)."""
    n = len(plan)
    totals = [F(0)] * n
    for order in itertools.permutations(range(n)):
        current = list(plan)
        for k in order:
            before = math.prod(current)
            current[k] = actual[k]
            totals[k] += math.prod(current) - before
    return [t / math.factorial(n) for t in totals]


def test_hand_worked_three_factor_example():
    # Plan: 100 visits × 10% × 10,000 = 100,000. Actual: 80 × 12.5% × 8,000 = 80,000. Gap −20,000.
    # φ_V = ΔV·[(c0s0 + c1s1)/3 + (c0s1 + c1s0)/6] = −20 × [2000/3 + 2050/6] = −20,166.67
    # φ_c = Δc·[(V0s0 + V1s1)/3 + (V0s1 + V1s0)/6] = 0.025 × [1,640,000/3 + 1,600,000/6] = +20,333.33
    # φ_s = Δs·[(V0c0 + V1c1)/3 + (V0c1 + V1c0)/6] = −2000 × [20/3 + 20.5/6] = −20,166.67
    effects = shapley_product([F(100), F(1, 10), F(10000)], [F(80), F(1, 8), F(8000)])
    assert effects == [F(-60500, 3), F(61000, 3), F(-60500, 3)]
    assert sum(effects) == -20000


def test_one_cell_rounds_to_the_cent_and_adds_up():
    plans = {(1, "high_value"): CellPlan(F(100000), F(1, 10), F(10000))}
    actuals = {(1, "high_value"): Cell(visits=80, deal_bp=100000, revenue_cents=8_000_000)}
    effects = attribute(target_total=Decimal("100000.00"), plans=plans, actuals=actuals)
    amounts = {e.driver: e.amount for e in effects}
    # Three equal remainders of 1/3 cent: the first listed (volume) takes the missing cent.
    assert amounts == {
        "volume": Decimal("-20166.66"),
        "mix": Decimal(0),
        "conversion": Decimal("20333.33"),
        "deal_size": Decimal("-20166.67"),
        "unlogged": Decimal(0),
    }
    assert sum(amounts.values()) == Decimal("-20000.00")


def test_seed_style_example_80_percent_attained_splits_the_gap_by_tier():
    # Plan 60/30/10 of 100,000 with the same rates; high value lost half its deal size,
    # new customers got half the visits, potential on plan. Actual = 80,000 → gap −20,000.
    rate = (F(1, 10), F(1000))
    plans = {
        (1, t): CellPlan(F(share * 1000), *rate) for t, share in (("high_value", 60), ("potential", 30), ("new", 10))
    }
    actuals = {
        (1, "high_value"): Cell(visits=600, deal_bp=600_000, revenue_cents=4_500_000),  # 60 deals × 750
        (1, "potential"): Cell(visits=300, deal_bp=300_000, revenue_cents=3_000_000),
        (1, "new"): Cell(visits=50, deal_bp=50_000, revenue_cents=500_000),
    }
    effects = attribute(target_total=Decimal("100000.00"), plans=plans, actuals=actuals)
    total = sum(e.amount for e in effects)
    assert total == Decimal("80000.00") - Decimal("100000.00")
    by_tier = {}
    for e in effects:
        by_tier[e.tier] = by_tier.get(e.tier, Decimal(0)) + e.amount
    assert by_tier == {"high_value": Decimal("-15000.00"), "potential": Decimal("0.00"), "new": Decimal("-5000.00")}


def test_revenue_without_logged_visits_is_its_own_driver():
    plans = {(1, "new"): CellPlan(F(1000), F(1, 10), F(100))}
    actuals = {(1, "new"): Cell(visits=0, deal_bp=20000, revenue_cents=50_000)}
    effects = attribute(target_total=Decimal("1000.00"), plans=plans, actuals=actuals)
    amounts = {e.driver: e.amount for e in effects}
    assert amounts["unlogged"] == Decimal("500.00")
    assert sum(amounts.values()) == Decimal("-500.00")


@settings(max_examples=60, deadline=None)
@given(
    plan=st.lists(st.fractions(min_value=0, max_value=1000, max_denominator=50), min_size=4, max_size=4),
    actual=st.lists(st.fractions(min_value=0, max_value=1000, max_denominator=50), min_size=4, max_size=4),
)
def test_closed_form_shapley_equals_the_permutation_definition(plan, actual):
    assert shapley_product(plan, actual) == brute_force_shapley(plan, actual)
    assert sum(shapley_product(plan, actual)) == math.prod(actual) - math.prod(plan)


cell_st = st.builds(
    lambda v, d, r: Cell(visits=v, deal_bp=d, revenue_cents=r if d else 0),
    st.integers(0, 500),
    st.integers(0, 200_000),
    st.integers(0, 10**9),
)


@settings(max_examples=80, deadline=None)
@given(
    target_cents=st.integers(1, 10**10),
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=6),
    conv=st.fractions(min_value=F(1, 1000), max_value=1, max_denominator=1000),
    size=st.fractions(min_value=1, max_value=10**6, max_denominator=100),
    actual_cells=st.lists(cell_st, min_size=0, max_size=8),
)
def test_rounded_effects_always_add_up_to_the_gap_to_the_cent(target_cents, weights, conv, size, actual_cells):
    tiers = ["high_value", "potential", "new"]
    keys = [(i // 3 + 1, tiers[i % 3]) for i in range(len(weights))]
    total = F(target_cents, 100)
    wsum = sum(weights)
    plans = {k: CellPlan(total * w / wsum, conv, size) for k, w in zip(keys, weights, strict=True)}
    actuals = {(i // 3 + 1, tiers[i % 3]): c for i, c in enumerate(actual_cells)}
    effects = attribute(target_total=Decimal(target_cents) / 100, plans=plans, actuals=actuals)
    gap = Decimal(sum(c.revenue_cents for c in actuals.values()) - target_cents) / 100
    assert sum(e.amount for e in effects) == gap
    assert sum(e.exact for e in effects) == F(sum(c.revenue_cents for c in actuals.values()) - target_cents, 100)
    assert all(abs(F(e.amount) - e.exact) < F(12, 1000) for e in effects)


def test_variance_attribution_on_records_adds_up_and_names_the_biggest_causes(org):
    july = period_containing(PeriodKind.MONTH, dt.date(2025, 7, 1))
    hv = AccountFactory(owner=org.rep_a1, key_account_tier="strategic")
    old = AccountFactory(owner=org.rep_a1)
    # Baseline (Q2): earlier wins make hv and old existing customers; 10% conversion, 10,000 a deal.
    for acc in (hv, old):
        won_deal(owner=org.rep_a1, amount="10000.00", closed=_at(dt.date(2025, 4, 2)), account=acc)
        visits(owner=org.rep_a1, n=10, on=dt.date(2025, 4, 1), account=acc)
    for i in range(4):
        acc = AccountFactory(owner=org.rep_a1)
        won_deal(owner=org.rep_a1, amount="10000.00", closed=_at(dt.date(2025, 5, 2 + i)), account=acc)
        visits(owner=org.rep_a1, n=10, on=dt.date(2025, 5, 1), account=acc)
    TargetFactory(
        period_kind="month", period_start=july.start, rep=org.rep_a1, team=org.group_a1, amount=Decimal("100000.00")
    )
    # July: strategic account, 30 visits, 2 deals of 15,000; others quiet.
    visits(owner=org.rep_a1, n=30, on=dt.date(2025, 7, 8), account=hv)
    won_deal(owner=org.rep_a1, amount="15000.00", closed=_at(dt.date(2025, 7, 20)), account=hv)
    won_deal(owner=org.rep_a1, amount="15000.00", closed=_at(dt.date(2025, 7, 21)), account=hv)
    result = variance_attribution(user=org.lead_a1, scope=org.rep_a1, period=july)
    assert (result.target, result.actual, result.gap) == (
        Decimal("100000.00"),
        Decimal("30000.00"),
        Decimal("-70000.00"),
    )
    assert sum(e.amount for e in result.effects) == result.gap
    assert sum(result.by_driver.values()) == result.gap
    assert result.headline()[0]["share_pct"] > 0
    steps = result.waterfall()
    assert steps[0]["amount"] + sum(s["amount"] for s in steps[1:-1]) == steps[-1]["amount"]


def test_attribution_needs_a_revenue_target(org):
    from salesloop.core.errors import FieldErrors

    with pytest.raises(FieldErrors):
        variance_attribution(user=org.lead_a1, scope=org.rep_a1, period=period_containing("month", dt.date(2025, 7, 1)))


def _at(day):
    from salesloop.targets.tests.factories import local

    return local(day)
