"""The rounding rule and the weights: children add up exactly, by hand and by hypothesis."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.decomposition import (
    DecompositionError,
    allocate,
    period_parts,
    round_to_total,
    tier_parts,
)
from salesloop.targets.periods import Period, PeriodKind, period_containing, split_period

CENT = Decimal("0.01")
WEEKDAYS = WorkCalendar(weekdays=frozenset({1, 2, 3, 4, 5}))


def test_seed_example_one_million_over_four_equal_groups_is_250k_each():
    assert allocate(Decimal("1000000.00"), [1, 1, 1, 1], CENT) == [Decimal("250000.00")] * 4


def test_one_hundred_over_three_gives_the_odd_cent_to_the_first_of_equal_remainders():
    # quotas 33.333… each: floors 33.33 × 3 = 99.99; one cent left; ties → first listed.
    assert allocate(Decimal("100.00"), [1, 1, 1], CENT) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


def test_largest_remainder_wins_the_missing_unit_not_the_largest_weight():
    # 10 visits by 0.55/0.45/... : quotas 5.5, 2.7, 1.8 → floors 5, 2, 1 (8) → +1 to .8 and .7
    assert allocate(Decimal(10), [Fraction(55), Fraction(27), Fraction(18)], Decimal(1)) == [
        Decimal(5),
        Decimal(3),
        Decimal(2),
    ]


def test_seed_tier_shares_split_a_quarter_60_30_10():
    parts = tier_parts({"high_value": "60", "potential": "30", "new": "10"})
    amounts = allocate(Decimal("1000000.00"), [p.weight for p in parts], CENT)
    assert [p.tier for p in parts] == ["high_value", "potential", "new"]
    assert amounts == [Decimal("600000.00"), Decimal("300000.00"), Decimal("100000.00")]


def test_zero_weights_everywhere_is_refused_with_a_reason():
    with pytest.raises(DecompositionError):
        allocate(Decimal("10.00"), [0, 0], CENT)


def test_a_total_that_is_not_whole_units_is_refused():
    with pytest.raises(DecompositionError):
        allocate(Decimal("10.5"), [1, 1], Decimal(1))


@settings(max_examples=300, deadline=None)
@given(
    total_cents=st.integers(min_value=0, max_value=10**13),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40).filter(any),
)
def test_money_children_sum_to_the_parent_to_the_cent(total_cents, weights):
    total = Decimal(total_cents) / 100
    parts = allocate(total, weights, CENT)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        quota = Fraction(total_cents * w, weight_sum)
        assert abs(Fraction(part * 100) - quota) < 1  # within one cent of the exact share
        if w == 0:
            assert part == 0


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10**6),
    weights=st.lists(st.fractions(min_value=0, max_value=1000, max_denominator=997), min_size=1, max_size=30).filter(
        any
    ),
)
def test_count_children_are_whole_and_sum_exactly(total, weights):
    parts = allocate(Decimal(total), weights, Decimal(1))
    assert sum(parts) == total
    assert all(p == p.to_integral_value() and p >= 0 for p in parts)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=1, max_value=25), total=st.integers(min_value=0, max_value=10**7))
def test_equal_weights_differ_by_at_most_one_unit_and_the_extra_units_go_first(n, total):
    parts = allocate(Decimal(total), [1] * n, Decimal(1))
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


@settings(max_examples=200, deadline=None)
@given(
    quotas=st.lists(st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=1000), min_size=1, max_size=20)
)
def test_signed_quotas_round_to_their_integer_total(quotas):
    # Attribution effects can be negative: shift the last quota so the total is an integer.
    total = sum(quotas, Fraction(0))
    quotas[-1] += Fraction(round(total)) - total
    result = round_to_total(quotas, round(total))
    assert sum(result) == round(total)
    assert all(abs(r - q) < 1 for r, q in zip(result, quotas, strict=True))


def test_quarter_split_into_months_by_working_days():
    q3 = period_containing(PeriodKind.QUARTER, dt.date(2025, 7, 15))
    parts = period_parts(q3, PeriodKind.MONTH, WEEKDAYS)
    # July 2025: 23 weekdays, August 21, September 22 → 66
    assert [p.weight for p in parts] == [23, 21, 22]
    amounts = allocate(Decimal("660000.00"), [p.weight for p in parts], CENT)
    assert amounts == [Decimal("230000.00"), Decimal("210000.00"), Decimal("220000.00")]


def test_holidays_and_make_up_days_change_the_working_day_weights():
    cal = WorkCalendar(
        weekdays=frozenset({1, 2, 3, 4, 5}),
        exceptions={dt.date(2025, 10, 1): False, dt.date(2025, 10, 2): False, dt.date(2025, 10, 11): True},
    )
    oct_ = period_containing(PeriodKind.MONTH, dt.date(2025, 10, 1))
    weeks = period_parts(oct_, PeriodKind.WEEK, cal)
    # Week of Sep 29 clipped to Oct 1–5: Wed–Fri minus two holidays = 1; Oct 6–12: 5 + Sat make-up day.
    assert [p.weight for p in weeks][:2] == [1, 6]
    assert sum(p.weight for p in weeks) == cal.count_in(oct_)


def test_a_seasonal_profile_spreads_each_month_over_its_working_days():
    weights = ["1"] * 12
    weights[6] = "2"  # July counts double
    q3 = period_containing(PeriodKind.QUARTER, dt.date(2025, 7, 1))
    months = period_parts(q3, PeriodKind.MONTH, WEEKDAYS, month_weights=weights)
    assert [p.weight for p in months] == [2, 1, 1]
    days = period_parts(
        period_containing(PeriodKind.MONTH, dt.date(2025, 7, 1)), PeriodKind.DAY, WEEKDAYS, month_weights=weights
    )
    assert sum(p.weight for p in days) == 2
    assert days[4].weight == 0  # Saturday 5 July


def test_split_periods_cover_the_parent_exactly_once():
    year = period_containing(PeriodKind.YEAR, dt.date(2025, 5, 5), fiscal_start_month=4)
    assert (year.start, year.end) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    for kind in (PeriodKind.QUARTER, PeriodKind.MONTH, PeriodKind.WEEK, PeriodKind.DAY):
        pieces = split_period(year, kind, fiscal_start_month=4)
        assert pieces[0].start == year.start and pieces[-1].end == year.end
        assert all(b.start == a.end + dt.timedelta(days=1) for a, b in zip(pieces, pieces[1:], strict=False))
    assert len(split_period(year, PeriodKind.QUARTER, fiscal_start_month=4)) == 4


def test_a_period_cannot_be_split_into_a_coarser_kind():
    with pytest.raises(ValueError):
        split_period(Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31), PeriodKind.MONTH), PeriodKind.QUARTER)
