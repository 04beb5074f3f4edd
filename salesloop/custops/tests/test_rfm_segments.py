"""Rule segments and quintile scores, worked by hand at the boundaries (issue #6 item 8).

Scoring date 2025-06-30, window 365 days (orders dated 2024-07-01 … 2025-06-30 count for F and M).
"""

import datetime as dt
import random
from decimal import Decimal

import pytest

from salesloop.custops.models import AccountRfm, RuleSegment, SegmentChange
from salesloop.custops.services import scoring_run_create
from salesloop.custops.tests.factories import orders
from salesloop.testing.factories import AccountFactory

AS_OF = dt.date(2025, 6, 30)


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def segment_of(account) -> str:
    return AccountRfm.objects.get(account=account).rule_segment


@pytest.fixture
def rep(org):
    return org.rep_a1


def test_exactly_30_days_three_orders_and_50000_is_high_value(rep):
    account = AccountFactory(owner=rep)
    orders(
        account,
        (days_ago(200), "20000.00"),
        (days_ago(100), "15000.00"),
        (days_ago(30), "15000.00"),
    )

    scoring_run_create(as_of=AS_OF)

    rfm = AccountRfm.objects.get(account=account)
    assert (rfm.recency_days, rfm.frequency, rfm.monetary) == (30, 3, Decimal("50000.00"))
    assert rfm.rule_segment == "high_value"


def test_31_days_is_no_longer_high_value_and_falls_in_the_gap(rep):
    account = AccountFactory(owner=rep)
    orders(
        account,
        (days_ago(200), "20000.00"),
        (days_ago(100), "15000.00"),
        (days_ago(31), "15000.00"),
    )

    scoring_run_create(as_of=AS_OF)

    assert segment_of(account) == "other"  # F = 3 is not potential (1–2) and R > 30


def test_one_cent_under_50000_with_three_recent_orders_is_in_no_rule(rep):
    account = AccountFactory(owner=rep)
    orders(
        account, (days_ago(20), "20000.00"), (days_ago(15), "15000.00"), (days_ago(10), "14999.99")
    )

    scoring_run_create(as_of=AS_OF)

    assert segment_of(account) == "other"


def test_cents_add_up_exactly_to_the_50000_boundary(rep):
    """Three thirds of 50,000 must not sum to 49,999.999… on SQLite's floating point."""
    account = AccountFactory(owner=rep)
    orders(
        account, (days_ago(20), "16666.67"), (days_ago(15), "16666.67"), (days_ago(10), "16666.66")
    )

    scoring_run_create(as_of=AS_OF)

    assert segment_of(account) == "high_value"


def test_two_orders_worth_50000_within_90_days_is_potential(rep):
    account = AccountFactory(owner=rep)
    orders(account, (days_ago(90), "25000.00"), (days_ago(60), "25000.00"))

    scoring_run_create(as_of=AS_OF)

    assert segment_of(account) == "potential"


def test_potential_needs_at_least_10000(rep):
    just_in, just_out = AccountFactory(owner=rep), AccountFactory(owner=rep)
    orders(just_in, (days_ago(5), "10000.00"))
    orders(just_out, (days_ago(5), "9999.99"))

    scoring_run_create(as_of=AS_OF)

    assert (segment_of(just_in), segment_of(just_out)) == ("potential", "other")


def test_dormant_starts_at_exactly_180_days(rep):
    at_180, at_179 = AccountFactory(owner=rep), AccountFactory(owner=rep)
    orders(at_180, (days_ago(180), "10000.00"))
    orders(at_179, (days_ago(179), "10000.00"))

    scoring_run_create(as_of=AS_OF)

    assert (segment_of(at_180), segment_of(at_179)) == ("dormant", "other")


def test_orders_only_before_the_window_count_as_dormant_with_f_and_m_zero(rep):
    account = AccountFactory(owner=rep)
    orders(account, (days_ago(400), "80000.00"), (days_ago(380), "80000.00"))

    scoring_run_create(as_of=AS_OF)

    rfm = AccountRfm.objects.get(account=account)
    assert (rfm.recency_days, rfm.frequency, rfm.monetary) == (380, 0, Decimal("0.00"))
    assert rfm.rule_segment == "dormant"


def test_account_without_orders_goes_to_no_purchase_and_has_no_scores(rep):
    account = AccountFactory(owner=rep)
    other = AccountFactory(owner=rep)
    orders(other, (days_ago(3), "100.00"))

    scoring_run_create(as_of=AS_OF)

    rfm = AccountRfm.objects.get(account=account)
    assert rfm.rule_segment == "no_purchase"
    assert (rfm.recency_score, rfm.frequency_score, rfm.monetary_score, rfm.grid_segment) == (
        None,
        None,
        None,
        "",
    )


def test_cancelled_draft_future_and_foreign_currency_orders_are_ignored(rep):
    account = AccountFactory(owner=rep)
    orders(account, (days_ago(10), "60000.00"))
    orders(account, (days_ago(9), "60000.00"), status="cancelled")
    orders(account, (days_ago(8), "60000.00"), status="draft")
    orders(account, (days_ago(7), "60000.00"), currency="USD")
    orders(account, (AS_OF + dt.timedelta(days=1), "60000.00"))

    scoring_run_create(as_of=AS_OF)

    rfm = AccountRfm.objects.get(account=account)
    assert (rfm.frequency, rfm.monetary, rfm.last_order_date) == (
        1,
        Decimal("60000.00"),
        days_ago(10),
    )


def test_overlapping_rules_are_resolved_by_precedence(rep):
    account = AccountFactory(owner=rep)
    orders(account, (days_ago(5), "20000.00"))
    RuleSegment.objects.create(
        code="vip_recent",
        name="近期客户",
        kind="rule",
        precedence=15,
        recency_max_days=10,
        value_rank=35,
    )
    RuleSegment.objects.create(
        code="before_all",
        name="最先",
        kind="rule",
        precedence=5,
        recency_max_days=10,
        frequency_min=2,
        value_rank=50,
    )

    scoring_run_create(as_of=AS_OF)

    # potential (20) and vip_recent (15) both match; the lower precedence number wins.
    assert segment_of(account) == "vip_recent"


def test_identical_customers_get_identical_scores_whatever_their_row_order(rep):
    """Ten buyers: F = 1,1,1,1,1,1,2,2,3,5. Score = 1 + ⌊5 × (rank − 1) / 10⌋ with ties at the
    lowest rank: F=1 → rank 1 → 1; F=2 → rank 7 → 4; F=3 → rank 9 → 5; F=5 → rank 10 → 5."""
    frequencies = [1, 1, 1, 1, 1, 1, 2, 2, 3, 5]
    random.Random(7).shuffle(frequencies)
    accounts = {}
    for i, f in enumerate(frequencies):
        account = AccountFactory(owner=rep)
        orders(account, *[(days_ago(10 + k), "1000.00") for k in range(f)])
        accounts[account.pk] = (f, i)

    scoring_run_create(as_of=AS_OF)

    scores = {}
    for row in AccountRfm.objects.filter(account_id__in=accounts):
        scores.setdefault(accounts[row.account_id][0], set()).add(row.frequency_score)
    assert scores == {1: {1}, 2: {4}, 3: {5}, 5: {5}}


def test_recency_and_monetary_scores_rank_worst_to_best(rep):
    """Five buyers with distinct last orders and values: each quintile has one of them."""
    made = []
    for i in range(5):
        account = AccountFactory(owner=rep)
        orders(account, (days_ago(100 - 20 * i), f"{1000 * (i + 1)}.00"))
        made.append(account)

    scoring_run_create(as_of=AS_OF)

    rows = {r.account_id: r for r in AccountRfm.objects.filter(account__in=made)}
    assert [rows[a.pk].recency_score for a in made] == [1, 2, 3, 4, 5]
    assert [rows[a.pk].monetary_score for a in made] == [1, 2, 3, 4, 5]
    assert [rows[a.pk].grid_segment for a in made] == [
        "hibernating",
        "hibernating",
        "about_to_sleep",
        "promising",
        "new_customers",
    ]


def test_a_move_is_recorded_once_with_its_direction(rep):
    account = AccountFactory(owner=rep)
    orders(account, (days_ago(60), "20000.00"))
    scoring_run_create(as_of=AS_OF)
    assert segment_of(account) == "potential"

    orders(account, (days_ago(20), "20000.00"), (days_ago(10), "20000.00"))
    scoring_run_create(as_of=AS_OF)
    scoring_run_create(as_of=AS_OF)  # nothing moved since: nothing recorded

    moves = SegmentChange.objects.filter(account=account, scheme="rule").order_by("id")
    assert [(m.from_code, m.to_code, m.direction) for m in moves] == [
        ("", "potential", 0),
        ("potential", "high_value", 1),
    ]


def test_a_fall_is_recorded_as_down(rep):
    account = AccountFactory(owner=rep)
    orders(
        account,
        (days_ago(200), "20000.00"),
        (days_ago(150), "20000.00"),
        (days_ago(25), "20000.00"),
    )
    scoring_run_create(as_of=AS_OF)
    assert segment_of(account) == "high_value"

    scoring_run_create(as_of=AS_OF + dt.timedelta(days=10))

    move = SegmentChange.objects.filter(account=account, scheme="rule").latest("id")
    assert (move.from_code, move.to_code, move.direction) == ("high_value", "other", -1)
