"""Weekly snapshots: only on the snapshot weekday, once a day, actuals filled when the period
ends, and the backfill replays each week as of that week (reuses the hand-worked book)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from salesloop.forecasting import services
from salesloop.forecasting.models import ForecastSettings, Method, ScopeKind, Snapshot
from salesloop.forecasting.selectors import team_scope
from salesloop.forecasting.tests.test_methods_forecast import Q1, TZ, book, midnight  # noqa: F401

pytestmark = pytest.mark.django_db


def test_snapshots_are_taken_on_the_weekday_only_and_once_per_day(book):  # noqa: F811
    assert ForecastSettings.current().snapshot_weekday == 0
    tuesday = services.snapshots_take(now=dt.datetime(2026, 2, 3, 6, 0, tzinfo=TZ))
    assert tuesday["snapshots"] == 0 and not Snapshot.objects.exists()
    monday = services.snapshots_take(now=dt.datetime(2026, 2, 2, 6, 0, tzinfo=TZ))
    assert monday["snapshots"] > 0
    count = Snapshot.objects.count()
    assert services.snapshots_take(now=dt.datetime(2026, 2, 2, 18, 0, tzinfo=TZ))["snapshots"] == 0
    assert Snapshot.objects.count() == count
    periods = set(Snapshot.objects.values_list("period_start", "period_end", "period_kind"))
    assert periods == {
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28), "month"),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), "month"),
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31), "quarter"),
        (dt.date(2026, 4, 1), dt.date(2026, 6, 30), "quarter"),
    }
    row = Snapshot.objects.get(
        scope_kind=ScopeKind.TEAM,
        scope_id=book.team_a.pk,
        period_kind="quarter",
        period_start=Q1.start,
        method=Method.PIPELINE,
    )
    assert row.amount == Decimal("125000.00")  # as of 2 Feb 00:00, as hand-worked for 1 Feb
    assert set(Snapshot.objects.values_list("scope_kind", flat=True)) == {"company", "team", "rep"}


def test_actuals_are_filled_once_the_period_has_ended(book):  # noqa: F811
    services.snapshot_day(dt.date(2026, 1, 26))
    assert services.snapshots_take(now=dt.datetime(2026, 1, 31, 6, 0, tzinfo=TZ))["actuals_filled"] == 0
    result = services.snapshots_take(now=dt.datetime(2026, 2, 1, 6, 0, tzinfo=TZ))
    assert result["actuals_filled"] > 0
    jan = Snapshot.objects.filter(period_kind="month", period_start=dt.date(2026, 1, 1))
    assert not jan.filter(actual__isnull=True).exists()
    assert {r.actual for r in jan.filter(scope_kind=ScopeKind.TEAM, scope_id=book.team_a.pk)} == {Decimal("30000.00")}
    assert {r.actual for r in jan.filter(scope_kind=ScopeKind.TEAM, scope_id=book.team_b.pk)} == {Decimal("0.00")}
    assert {r.actual for r in jan.filter(scope_kind=ScopeKind.COMPANY)} == {Decimal("30000.00")}
    assert not Snapshot.objects.filter(period_kind="quarter", actual__isnull=False).exists()


def test_backfill_replays_each_week_as_of_that_day(book):  # noqa: F811
    result = services.backfill(weeks=2, today=dt.date(2026, 2, 12))
    assert list(result["days"]) == ["2026-01-26", "2026-02-02", "2026-02-09"]
    for day in (dt.date(2026, 1, 26), dt.date(2026, 2, 9)):
        expected = services.forecast(team_scope(book.team_a), Q1, as_of=services.local_midnight(day))
        for method in (Method.PIPELINE, Method.TIME_SERIES, Method.COMBINED):
            stored = Snapshot.objects.filter(
                taken_on=day,
                scope_kind=ScopeKind.TEAM,
                scope_id=book.team_a.pk,
                period_kind="quarter",
                period_start=Q1.start,
                method=method,
            )
            assert [s.amount for s in stored] == [a for a in [expected.results[method].amount] if a is not None]
    # 26 Jan: no complete month with revenue yet → no time-series row; 9 Feb: January's 30 000
    assert not Snapshot.objects.filter(
        taken_on=dt.date(2026, 1, 26), method=Method.TIME_SERIES, scope_kind=ScopeKind.TEAM, scope_id=book.team_a.pk
    ).exists()
    assert Snapshot.objects.filter(
        taken_on=dt.date(2026, 2, 9), method=Method.TIME_SERIES, scope_kind=ScopeKind.TEAM, scope_id=book.team_a.pk
    ).exists()
    # D7 (won 10 Feb) is still replayed as an open proposal on 9 Feb: 60 000 × 50%
    feb9 = Snapshot.objects.get(
        taken_on=dt.date(2026, 2, 9),
        scope_kind=ScopeKind.TEAM,
        scope_id=book.team_a.pk,
        period_kind="quarter",
        period_start=Q1.start,
        method=Method.PIPELINE,
    )
    assert feb9.amount == Decimal("125000.00")
    assert services.backfill(weeks=2, today=dt.date(2026, 2, 12))["days"] == {
        "2026-01-26": 0,
        "2026-02-02": 0,
        "2026-02-09": 0,
    }


def test_backfill_command(book, capsys):  # noqa: F811
    with time_machine.travel(dt.datetime(2026, 2, 12, 9, 0, tzinfo=TZ), tick=False):
        call_command("forecast_backfill_snapshots", "--weeks", "1")
    out = capsys.readouterr().out
    assert "2026-02-02" in out and "2026-02-09" in out
    assert set(Snapshot.objects.values_list("taken_on", flat=True)) == {dt.date(2026, 2, 2), dt.date(2026, 2, 9)}
