"""Accuracy (MAPE and bias) over snapshots against a hand computation.

rep_a1, time series, monthly:
  Jan 2026 actual 100: snapshots 22 Dec → 80, 29 Dec → 90 (the last on or before 1 Jan: scored),
                       5 Jan → 100 (taken after the period began: ignored)
  Feb 2026 actual 200: 26 Jan → 260
  Mar 2026 actual   0: 23 Feb → 50 (no percentage error: counted as zero_actual)
  Apr 2026 still open: 30 Mar → 70 (not scored)
  → APE 0.1, 0.3: MAPE 0.2; signed −0.1, +0.3: bias +0.1
rep_a2, time series: Jan actual 50, 29 Dec → 25: APE 0.5, bias −0.5
Rep level pooled: MAPE (0.1 + 0.3 + 0.5) / 3 = 0.3, bias (−0.1 + 0.3 − 0.5) / 3 = −0.1
"""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.forecasting import accuracy
from salesloop.forecasting.models import ForecastSettings, Method, ScopeKind, Snapshot

pytestmark = pytest.mark.django_db
D = dt.date


def snap(rep, taken, start, end, amount, actual, method=Method.TIME_SERIES):
    Snapshot.objects.create(
        taken_on=taken,
        scope_kind=ScopeKind.REP,
        scope_id=rep.pk,
        period_start=start,
        period_end=end,
        period_kind="month",
        method=method,
        amount=Decimal(amount),
        actual=None if actual is None else Decimal(actual),
    )


@pytest.fixture
def snaps(org):
    jan, feb, mar, apr = (
        (D(2026, 1, 1), D(2026, 1, 31)),
        (D(2026, 2, 1), D(2026, 2, 28)),
        (D(2026, 3, 1), D(2026, 3, 31)),
        (D(2026, 4, 1), D(2026, 4, 30)),
    )
    snap(org.rep_a1, D(2025, 12, 22), *jan, "80", "100")
    snap(org.rep_a1, D(2025, 12, 29), *jan, "90", "100")
    snap(org.rep_a1, D(2026, 1, 5), *jan, "100", "100")
    snap(org.rep_a1, D(2026, 1, 26), *feb, "260", "200")
    snap(org.rep_a1, D(2026, 2, 23), *mar, "50", "0")
    snap(org.rep_a1, D(2026, 3, 30), *apr, "70", None)
    snap(org.rep_a2, D(2025, 12, 29), *jan, "25", "50")
    snap(org.rep_a2, D(2025, 12, 29), *jan, "60", "50", method=Method.PIPELINE)
    return org


def test_mape_and_bias_per_rep_match_the_hand_computation(snaps):
    by = {(s.method, s.scope_id): s for s in accuracy.scores("month")}
    a1 = by[(Method.TIME_SERIES, snaps.rep_a1.pk)]
    assert (a1.periods, a1.zero_actual) == (2, 1)
    assert a1.mape == pytest.approx(0.2)
    assert a1.bias == pytest.approx(0.1)
    a2 = by[(Method.TIME_SERIES, snaps.rep_a2.pk)]
    assert a2.mape == pytest.approx(0.5) and a2.bias == pytest.approx(-0.5)
    assert by[(Method.PIPELINE, snaps.rep_a2.pk)].bias == pytest.approx(0.2)


def test_level_figures_pool_every_scored_snapshot(snaps):
    level = {(s.method, s.scope_kind): s for s in accuracy.pooled(accuracy.scores("month"))}
    rep = level[(Method.TIME_SERIES, ScopeKind.REP)]
    assert rep.periods == 3
    assert rep.mape == pytest.approx(0.3)
    assert rep.bias == pytest.approx(-0.1)


def test_the_horizon_setting_moves_which_snapshot_is_scored(snaps):
    settings = ForecastSettings.current()
    settings.accuracy_lead_days = 7
    settings.save()
    a1 = {(s.method, s.scope_id): s for s in accuracy.scores("month")}[(Method.TIME_SERIES, snaps.rep_a1.pk)]
    # Jan: the 22 Dec snapshot (80 → APE 0.2); Feb: none taken by 25 Jan; Mar: 23 Feb is after 22 Feb
    assert (a1.periods, a1.zero_actual) == (1, 0)
    assert a1.mape == pytest.approx(0.2) and a1.bias == pytest.approx(-0.2)


def test_track_record_and_lines_for_one_scope(snaps):
    track = accuracy.track_record(ScopeKind.REP, snaps.rep_a1.pk, "month")
    assert track == {Method.TIME_SERIES: (pytest.approx(0.2), 2)}
    lines = accuracy.scored_snapshots("month", scope_kind=ScopeKind.REP, scope_id=snaps.rep_a1.pk)
    assert [(s.period_start, s.amount, s.actual) for s in lines] == [
        (D(2026, 1, 1), Decimal("90"), Decimal("100")),
        (D(2026, 2, 1), Decimal("260"), Decimal("200")),
        (D(2026, 3, 1), Decimal("50"), Decimal("0")),
    ]
    assert accuracy.scores("quarter") == []
