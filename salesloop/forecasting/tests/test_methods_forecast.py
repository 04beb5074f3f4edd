"""The four forecast methods on hand-worked data (issue #7 §4, §7).

Weighted pipeline, Team A (rep_a1, rep_a2), fiscal Q1 2026 (Jan–Mar), as of 1 Feb 2026 00:00:
  D1 rep_a1 open qualified (25%)   100 000, closes 10 Mar                 → 25 000
  D2 rep_a2 open proposal, own 80%  50 000, closes 20 Feb                 → 40 000
  D3 rep_a1 lost                   100 000, was to close 1 Mar            → never counts
  D4 rep_a1 won 20 Jan              30 000                                → won so far 30 000
  D5 rep_a1 open negotiation       100 000, closes 15 Apr (next quarter)  → 0
  D6 rep_b1 open qualified         100 000, closes 1 Mar (Team B)         → company only: 25 000
  D7 rep_a2 won 10 Feb (after as_of) 80 000; on 1 Feb it was in proposal at 60 000 (log), own
            probability 90% set later → replayed: 60 000 × 50% (stage default) = 30 000
  D8 rep_a1 created 15 Feb (after as_of)                                  → 0
Team A = 30 000 + 25 000 + 40 000 + 30 000 = 125 000; company = 150 000.
Live on 1 Mar: won 30 000 + 80 000; open D1 25 000 + D2 40 000 + D8 25 000 → 200 000.
"""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone, translation

from salesloop.forecasting import selectors, services
from salesloop.forecasting.methods import combined
from salesloop.forecasting.methods import time_series as ts
from salesloop.forecasting.models import ForecastSettings, Method, ScopeKind, Snapshot, Submission
from salesloop.forecasting.selectors import company_scope, rep_scope, team_scope
from salesloop.pipeline.models import LossReason, Opportunity, Stage, StageChange
from salesloop.targets.periods import Period
from salesloop.testing.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
Q1 = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31), "quarter")


def at(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 10, 0, tzinfo=TZ)


def midnight(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=TZ)


def deal(
    owner,
    code: str,
    amount: str,
    *,
    close: dt.date | None = None,
    created: dt.datetime,
    closed_at: dt.datetime | None = None,
    probability: str | None = None,
    **kw,
) -> Opportunity:
    opp = OpportunityFactory(
        account=AccountFactory(owner=owner),
        stage=Stage.objects.get(code=code),
        amount=Decimal(amount),
        expected_close_date=close,
        closed_at=closed_at,
        probability=Decimal(probability) if probability else None,
        **kw,
    )
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created)
    return opp


@pytest.fixture
def book(org):
    deal(org.rep_a1, "qualified", "100000", close=dt.date(2026, 3, 10), created=at(2026, 1, 5))
    deal(org.rep_a2, "proposal", "50000", close=dt.date(2026, 2, 20), created=at(2026, 1, 10), probability="80")
    deal(
        org.rep_a1,
        "lost",
        "100000",
        close=dt.date(2026, 3, 1),
        created=at(2026, 1, 5),
        closed_at=at(2026, 1, 25),
        loss_reason=LossReason.objects.first(),
    )
    deal(org.rep_a1, "won", "30000", close=dt.date(2026, 1, 20), created=at(2026, 1, 2), closed_at=at(2026, 1, 20))
    deal(org.rep_a1, "negotiation", "100000", close=dt.date(2026, 4, 15), created=at(2026, 1, 5))
    deal(org.rep_b1, "qualified", "100000", close=dt.date(2026, 3, 1), created=at(2026, 1, 5))
    d7 = deal(
        org.rep_a2,
        "won",
        "80000",
        close=dt.date(2026, 2, 28),
        created=at(2026, 1, 3),
        closed_at=at(2026, 2, 10),
        probability="90",
    )
    stages = {s.code: s for s in Stage.objects.all()}
    prev = None
    for code, when, amount in [
        ("lead", at(2026, 1, 3), "60000"),
        ("proposal", at(2026, 1, 15), "60000"),
        ("won", at(2026, 2, 10), "80000"),
    ]:
        StageChange.objects.create(
            opportunity=d7, from_stage=prev, to_stage=stages[code], changed_at=when, amount=Decimal(amount)
        )
        prev = stages[code]
    deal(org.rep_a1, "qualified", "100000", close=dt.date(2026, 3, 20), created=at(2026, 2, 15))
    return org


def test_weighted_pipeline_is_won_so_far_plus_open_deals_times_probability_as_of(book):
    team = services.forecast(team_scope(book.team_a), Q1, as_of=midnight(2026, 2, 1))
    pipe = team.results[Method.PIPELINE]
    assert pipe.amount == Decimal("125000.00")
    assert pipe.inputs["won_so_far"] == "30000.00"
    assert pipe.inputs["open_deals"] == 3
    assert pipe.inputs["open_amount"] == "210000.00"
    assert team.actual_so_far == Decimal("30000.00")
    company = services.forecast(company_scope(), Q1, as_of=midnight(2026, 2, 1))
    assert company.results[Method.PIPELINE].amount == Decimal("150000.00")


def test_weighted_pipeline_live_uses_deals_as_they_are_now(book):
    live = services.forecast(team_scope(book.team_a), Q1, as_of=midnight(2026, 3, 1))
    assert live.results[Method.PIPELINE].amount == Decimal("200000.00")
    assert live.actual_so_far == Decimal("110000.00")
    rep = services.forecast(rep_scope(book.rep_a2), Q1, as_of=midnight(2026, 3, 1))
    assert rep.results[Method.PIPELINE].amount == Decimal("80000.00") + Decimal("40000.00")


def test_bulk_snapshot_numbers_equal_the_single_scope_forecast(book):
    from salesloop.forecasting.models import Adjustment

    sub = Submission.objects.create(
        owner=book.rep_a1,
        period_start=Q1.start,
        period_end=Q1.end,
        amount=Decimal("90000"),
        submitted_at=at(2026, 1, 10),
    )
    Submission.objects.create(
        owner=book.rep_a2,
        period_start=Q1.start,
        period_end=Q1.end,
        amount=Decimal("40000"),
        submitted_at=at(2026, 1, 11),
    )
    Adjustment.objects.create(
        submission=sub,
        adjusted_by=book.manager_a,
        amount=Decimal("70000"),
        reason="too optimistic",
        adjusted_at=at(2026, 1, 12),
    )
    scopes = [
        company_scope(),
        team_scope(book.team_a),
        team_scope(book.group_a1),
        team_scope(book.team_b),
        rep_scope(book.rep_a2),
        rep_scope(book.rep_a1),
    ]
    bulk = services.forecasts_for_scopes(scopes, [Q1], as_of=midnight(2026, 2, 1))
    commits = {f.scope.key: f.results[Method.COMMIT].amount for f in bulk}
    assert commits[team_scope(book.team_a).key] == Decimal("110000.00")  # 70 000 adjusted + 40 000
    assert commits[team_scope(book.team_b).key] is None
    for f in bulk:
        single = services.forecast(f.scope, Q1, as_of=midnight(2026, 2, 1))
        for method in (Method.PIPELINE, Method.TIME_SERIES, Method.SEASONAL_NAIVE, Method.COMMIT, Method.COMBINED):
            assert f.results[method].amount == single.results[method].amount, (f.scope, method)


def test_commit_method_rolls_up_the_latest_submissions_before_as_of(book):
    def submit(owner, amount, when):
        return Submission.objects.create(
            owner=owner, period_start=Q1.start, period_end=Q1.end, amount=Decimal(amount), submitted_at=when
        )

    submit(book.rep_a1, "90000", at(2026, 1, 10))
    submit(book.rep_a1, "95000", at(2026, 1, 20))  # resubmission: the latest counts
    submit(book.rep_a2, "70000", at(2026, 2, 5))  # after the as_of below
    before = services.forecast(team_scope(book.team_a), Q1, as_of=midnight(2026, 2, 1))
    assert before.results[Method.COMMIT].amount == Decimal("95000.00")
    assert before.results[Method.COMMIT].inputs["reps_submitted"] == 1
    later = services.forecast(team_scope(book.team_a), Q1, as_of=midnight(2026, 2, 10))
    assert later.results[Method.COMMIT].amount == Decimal("165000.00")
    nobody = services.forecast(team_scope(book.team_b), Q1, as_of=midnight(2026, 2, 10))
    assert nobody.results[Method.COMMIT].amount is None


def test_combined_renormalises_fixed_weights_over_the_methods_with_a_number(book):
    settings = ForecastSettings.current()
    settings.weight_time_series, settings.weight_pipeline, settings.weight_commit = (
        Decimal("0.2"),
        Decimal("0.3"),
        Decimal("0.5"),
    )
    settings.save()
    Submission.objects.create(
        owner=book.rep_a1,
        period_start=Q1.start,
        period_end=Q1.end,
        amount=Decimal("100000"),
        submitted_at=at(2026, 1, 10),
    )
    f = services.forecast(team_scope(book.team_a), Q1, as_of=midnight(2026, 2, 1))
    # Time series: one month of history (January 30 000) → the monthly mean, so the quarter is
    # January's actual + 2 × 30 000 = 90 000. Pipeline 125 000 (above), commit 100 000.
    assert f.results[Method.TIME_SERIES].amount == Decimal("90000.00")
    assert f.results[Method.TIME_SERIES].inputs["model"] == "mean"
    # 0.2 × 90 000 + 0.3 × 125 000 + 0.5 × 100 000
    assert f.results[Method.COMBINED].amount == Decimal("105500.00")
    assert f.results[Method.COMBINED].inputs["weighting"] == "fixed"


def test_combined_by_hand_fixed_and_accuracy_weights():
    from salesloop.forecasting.methods.base import MethodResult

    settings = ForecastSettings(
        weight_time_series=Decimal("0.25"),
        weight_pipeline=Decimal("0.25"),
        weight_commit=Decimal("0.5"),
        accuracy_min_periods=2,
        combine_by_accuracy=True,
    )
    results = {
        Method.TIME_SERIES: MethodResult(Method.TIME_SERIES, Decimal("100"), "CNY", ""),
        Method.PIPELINE: MethodResult(Method.PIPELINE, Decimal("200"), "CNY", ""),
        Method.COMMIT: MethodResult(Method.COMMIT, None, "CNY", ""),
    }
    fixed = combined.result(results, settings=settings, track={}, currency="CNY")
    assert fixed.amount == Decimal("150.00")  # 0.25/0.5 × 100 + 0.25/0.5 × 200
    assert fixed.inputs["weighting"] == "fixed"
    # MAPE 10% and 40%: weights 1/0.1 : 1/0.4 = 10 : 2.5 → 0.8 / 0.2 → 0.8 × 100 + 0.2 × 200 = 120
    track = {Method.TIME_SERIES: (0.10, 3), Method.PIPELINE: (0.40, 2)}
    acc = combined.result(results, settings=settings, track=track, currency="CNY")
    assert acc.amount == Decimal("120.00")
    assert acc.inputs["weighting"] == "accuracy"
    assert acc.inputs["fixed_amount"] == "150.00"
    short = combined.result(
        results, settings=settings, track={Method.TIME_SERIES: (0.1, 3), Method.PIPELINE: (0.4, 1)}, currency="CNY"
    )
    assert short.amount == Decimal("150.00") and short.inputs["weighting"] == "fixed"


# Backtest: a known seasonal pattern ----------------------------------------------------------------

SEASON = [0.6, 0.7, 1.0, 1.0, 1.1, 1.2, 0.8, 0.8, 1.0, 1.1, 1.2, 1.5]


def test_holt_winters_beats_seasonal_naive_on_a_growing_seasonal_series_from_won_deals(org):
    """Four years of monthly revenue (won deals in the test DB): 1.5%/month growth × a known
    season × ±8% noise (seeded). Fit on the first three years, forecast the fourth as of 1 Jan."""
    rng = np.random.default_rng(7)
    won = Stage.objects.get(code="won")
    account = AccountFactory(owner=org.rep_a1)
    truth = {}
    for t in range(48):
        month = ts.add_months(dt.date(2022, 1, 1), t)
        value = round(100000 * 1.015**t * SEASON[t % 12] * (1 + rng.normal(0, 0.08)), 2)
        truth[month] = value
        for part, day in ((0.4, 5), (0.6, 18)):  # two deals a month
            OpportunityFactory(
                account=account,
                stage=won,
                amount=Decimal(str(round(value * part, 2))),
                closed_at=at(month.year, month.month, day),
            )
    f = services.forecast(
        rep_scope(org.rep_a1), Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "year"), as_of=midnight(2025, 1, 1)
    )
    hw = f.results[Method.TIME_SERIES]
    naive = f.results[Method.SEASONAL_NAIVE]
    assert hw.inputs["model"] == "holt_winters" and hw.inputs["history_months"] == 36
    months = [ts.add_months(dt.date(2025, 1, 1), i) for i in range(12)]
    actual = np.array([truth[m] for m in months])
    hw_m = np.array([float(hw.inputs["monthly"][m.isoformat()]) for m in months])
    naive_m = np.array([float(naive.inputs["monthly"][m.isoformat()]) for m in months])
    # the naive forecast is last year's month, to the cent (split deals add back exactly)
    assert naive_m == pytest.approx([truth[ts.add_months(m, -12)] for m in months], abs=0.02)
    hw_mape = float(np.mean(np.abs(hw_m - actual) / actual))
    naive_mape = float(np.mean(np.abs(naive_m - actual) / actual))
    assert hw_mape < naive_mape
    assert hw_mape < 0.12
    assert np.corrcoef(hw_m, SEASON)[0, 1] > 0.9  # the forecast follows the known seasonal shape


def test_short_history_falls_back_and_says_so(org):
    won = Stage.objects.get(code="won")
    account = AccountFactory(owner=org.rep_a1)
    for m in range(1, 7):
        OpportunityFactory(account=account, stage=won, amount=Decimal("1000"), closed_at=at(2025, m, 10))
    with translation.override("en"):  # the note is a translated sentence
        f = services.forecast(
            rep_scope(org.rep_a1),
            Period(dt.date(2025, 7, 1), dt.date(2025, 7, 31), "month"),
            as_of=midnight(2025, 7, 1),
        )
        hw = f.results[Method.TIME_SERIES]
        assert hw.inputs["model"] == "simple" and "6 months" in str(hw.note)
    assert hw.amount == Decimal("1000.00")
    assert f.results[Method.SEASONAL_NAIVE].amount is None  # no July one season earlier


def test_no_history_gives_no_time_series_number(org):
    f = services.forecast(rep_scope(org.rep_b1), Q1, as_of=midnight(2026, 2, 1))
    assert f.results[Method.TIME_SERIES].amount is None
    assert f.results[Method.PIPELINE].amount == Decimal("0.00")


def test_periods_parse_fiscal_quarters(org):
    from salesloop.org.models import OrgSettings

    s = OrgSettings.current()
    s.fiscal_year_start_month = 4
    s.save()
    p = selectors.parse_period("2026-Q1", today=dt.date(2026, 1, 1))
    assert (p.start, p.end) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert selectors.period_code(p) == "2026-Q1"
    q4 = selectors.parse_period("2025-Q4", today=dt.date(2026, 1, 1))
    assert (q4.start, q4.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert selectors.period_code(q4) == "2025-Q4"
    assert selectors.parse_period("2026-02", today=dt.date(2026, 1, 1)).end == dt.date(2026, 2, 28)


def test_snapshot_scope_kinds_cover_company_teams_and_reps(org):
    kinds = {s.kind for s in selectors.snapshot_scopes()}
    assert kinds == {ScopeKind.COMPANY, ScopeKind.TEAM, ScopeKind.REP}
    assert not Snapshot.objects.exists()


def test_nothing_after_as_of_changes_a_forecast_made_as_of(book):
    as_of = midnight(2026, 2, 1)
    before = services.forecast(team_scope(book.team_a), Q1, as_of=as_of)
    # after as_of: a deal won, a new open deal, a submission, a lost deal's stage move
    deal(book.rep_a1, "won", "500000", close=dt.date(2026, 2, 3), created=at(2026, 1, 6), closed_at=at(2026, 2, 3))
    deal(book.rep_a2, "negotiation", "300000", close=dt.date(2026, 3, 3), created=at(2026, 2, 2))
    Submission.objects.create(
        owner=book.rep_a1,
        period_start=Q1.start,
        period_end=Q1.end,
        amount=Decimal("1000000"),
        submitted_at=at(2026, 2, 2),
    )
    after = services.forecast(team_scope(book.team_a), Q1, as_of=as_of)
    assert {m: r.amount for m, r in after.results.items()} == {m: r.amount for m, r in before.results.items()}
    assert after.actual_so_far == before.actual_so_far
    live = services.forecast(team_scope(book.team_a), Q1, as_of=midnight(2026, 2, 5))
    assert live.actual_so_far == before.actual_so_far + Decimal("500000.00")
