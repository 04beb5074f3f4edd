"""Forecasts for a scope and period (four methods side by side), weekly snapshots, actuals.

``as_of`` everywhere: a forecast uses only what was known strictly before that moment (revenue
closed before it, the pipeline replayed to it, submissions made before it), so a snapshot replayed
for a past week (``forecast_backfill_snapshots``) is the number the job would have stored then.
A snapshot taken on day D uses ``as_of`` = local midnight starting D: the days before D.

The weekly job (:func:`snapshots_take`, run daily by the scheduler) stores one row per scope
(company, every team, every active rep and group lead) × period (current and next fiscal month,
current and next fiscal quarter) × method that has a number, on ``ForecastSettings.snapshot_weekday``
only, once per day; every day it fills ``Snapshot.actual`` of periods that have ended. The actual
is revenue as the targets page counts it (``analytics.queries.actuals``).

Snapshots are computed in bulk: revenue history, won revenue and the weighted pipeline are one
grouped-by-rep query each, summed per scope in Python (a scope's number is the sum over the reps
in it, exactly as the scoped query counts it), then one model fit per scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.analytics.queries import actuals as actuals_q
from salesloop.analytics.queries import forecast_pipeline, revenue_history
from salesloop.analytics.queries.actuals import ScopeFilter
from salesloop.forecasting import accuracy, selectors
from salesloop.forecasting.methods import combined, pipeline, time_series
from salesloop.forecasting.methods import commit as commit_method
from salesloop.forecasting.methods.base import MethodResult, money
from salesloop.forecasting.models import ForecastSettings, Method, PeriodKind, ScopeKind, Snapshot
from salesloop.forecasting.selectors import ForecastScope
from salesloop.org.models import OrgSettings, Team, User
from salesloop.targets.metrics import Metric
from salesloop.targets.periods import Period

ZERO = Decimal("0.00")
METHOD_ORDER = [Method.TIME_SERIES, Method.SEASONAL_NAIVE, Method.PIPELINE, Method.COMMIT, Method.COMBINED]


@dataclass
class Forecast:
    """All methods for one scope and period as of a moment, with the actual so far."""

    scope: ForecastScope
    period: Period
    as_of: dt.datetime
    currency: str
    results: dict[str, MethodResult]
    actual_so_far: Decimal
    closed: bool  # the period has ended at as_of: actual_so_far is the actual

    def ordered(self) -> list[MethodResult]:
        return [self.results[m] for m in METHOD_ORDER if m in self.results]


@dataclass
class _ScopeData:
    """The additive inputs of one scope (sums over its reps)."""

    revenue: dict[dt.date, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    won: dict[Period, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    open: dict[Period, list] = field(default_factory=lambda: defaultdict(lambda: [ZERO, ZERO, 0]))


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def _period_end_bound(period: Period) -> dt.datetime:
    return period.bounds()[1]


def _horizon(as_of: dt.datetime, periods: list[Period]) -> tuple[dt.date, int]:
    as_of_month = timezone.localdate(as_of).replace(day=1)
    last = max(p.end for p in periods)
    months = (last.year - as_of_month.year) * 12 + last.month - as_of_month.month + 1
    return as_of_month, max(months, 1)


def _history_start(as_of: dt.datetime, settings: ForecastSettings) -> dt.date:
    return time_series.add_months(timezone.localdate(as_of).replace(day=1), -settings.history_months)


def _assemble(
    scope: ForecastScope,
    period: Period,
    *,
    as_of: dt.datetime,
    fit: time_series.SeriesFit,
    won: Decimal,
    open_: tuple[Decimal, Decimal, int],
    track: dict[str, tuple[float, int]],
    viewer: User | None,
    settings: ForecastSettings,
    currency: str,
    commit_result: MethodResult | None = None,
) -> dict[str, MethodResult]:
    ts, naive = time_series.results_for(fit, period, currency)
    results = {Method.TIME_SERIES: ts, Method.SEASONAL_NAIVE: naive}
    weighted, unweighted, deals = open_
    results[Method.PIPELINE] = pipeline.result(
        won=won, weighted=weighted, unweighted=unweighted, deals=deals, currency=currency
    )
    results[Method.COMMIT] = commit_result or commit_method.result(
        scope_kind=scope.kind,
        scope_id=scope.id,
        period_start=period.start,
        period_end=period.end,
        viewer=viewer,
        as_of=as_of,
        currency=currency,
    )
    results[Method.COMBINED] = combined.result(results, settings=settings, track=track, currency=currency)
    return results


def forecast(
    scope: ForecastScope, period: Period, *, as_of: dt.datetime | None = None, viewer: User | None = None
) -> Forecast:
    """Every method's forecast of ``scope`` for ``period`` as of ``as_of`` (default: now).

    Access is checked by the caller (``selectors.scope_for``); ``viewer`` only decides which
    managers' adjustments the commit roll-up applies.
    """
    as_of = as_of or timezone.now()
    settings = ForecastSettings.current()
    currency = OrgSettings.current().currency
    flt = scope.filter
    as_of_month, horizon = _horizon(as_of, [period])
    history = revenue_history.monthly_revenue(flt, first_month=_history_start(as_of, settings), as_of=as_of)
    fit = time_series.fit_series(
        history,
        as_of_month=as_of_month,
        horizon=horizon,
        season_length=settings.season_length,
        history_months=settings.history_months,
    )
    cut = min(as_of, _period_end_bound(period))
    won = revenue_history.revenue_between(flt, start=period.start, as_of=cut).get(None, ZERO)
    open_ = forecast_pipeline.weighted_open(flt, period_start=period.start, period_end=period.end, as_of=as_of).get(
        None, (ZERO, ZERO, 0)
    )
    track = accuracy.track_record(scope.kind, scope.id, period.kind)
    results = _assemble(
        scope,
        period,
        as_of=as_of,
        fit=fit,
        won=won,
        open_=open_,
        track=track,
        viewer=viewer,
        settings=settings,
        currency=currency,
    )
    return Forecast(scope, period, as_of, currency, results, money(won), as_of >= _period_end_bound(period))


# Bulk: every scope at once ----------------------------------------------------------------------


def _members(scopes: list[ForecastScope]) -> dict[int, list[str]]:
    """rep id → keys of the scopes their numbers count in (company always; teams by current team)."""
    paths = dict(User.objects.values_list("pk", "team__path"))
    teams = [s for s in scopes if s.kind == ScopeKind.TEAM]
    reps = {s.id for s in scopes if s.kind == ScopeKind.REP}
    out: dict[int, list[str]] = {}
    for pk, path in paths.items():
        keys = ["company:0"]
        if path:
            keys.extend(t.key for t in teams if path.startswith(t.team_path))
        if pk in reps:
            keys.append(f"rep:{pk}")
        out[pk] = keys
    return out


def forecasts_for_scopes(
    scopes: list[ForecastScope], periods: list[Period], *, as_of: dt.datetime, viewer: User | None = None
) -> list[Forecast]:
    """The forecasts of many scopes and periods as of one moment, with grouped-by-rep queries."""
    settings = ForecastSettings.current()
    currency = OrgSettings.current().currency
    everyone = ScopeFilter()
    members = _members(scopes)
    data: dict[str, _ScopeData] = {s.key: _ScopeData() for s in scopes}

    def spread(rep_id: int, apply) -> None:
        for key in members.get(rep_id, ["company:0"]):
            if key in data:
                apply(data[key])

    history = revenue_history.monthly_revenue(
        everyone, first_month=_history_start(as_of, settings), as_of=as_of, by_rep=True
    )
    for (rep_id, month), value in history.items():
        spread(rep_id, lambda d, m=month, v=value: d.revenue.__setitem__(m, d.revenue[m] + v))
    for period in periods:
        cut = min(as_of, _period_end_bound(period))
        for rep_id, value in revenue_history.revenue_between(
            everyone, start=period.start, as_of=cut, by_rep=True
        ).items():
            spread(rep_id, lambda d, p=period, v=value: d.won.__setitem__(p, d.won[p] + v))
        for rep_id, (w, full, n) in forecast_pipeline.weighted_open(
            everyone, period_start=period.start, period_end=period.end, as_of=as_of, by_rep=True
        ).items():

            def add(d: _ScopeData, p=period, w=w, full=full, n=n) -> None:
                cur = d.open[p]
                d.open[p] = [cur[0] + w, cur[1] + full, cur[2] + n]

            spread(rep_id, add)

    tracks: dict[str, dict[tuple, dict[str, tuple[float, int]]]] = {}
    for kind in {p.kind for p in periods}:
        per_scope: dict[tuple, dict[str, tuple[float, int]]] = defaultdict(dict)
        for s in accuracy.scores(kind):
            if s.mape is not None:
                per_scope[(s.scope_kind, s.scope_id)][s.method] = (s.mape, s.periods)
        tracks[kind] = per_scope

    commits: dict[Period, dict[str, MethodResult] | None] = {}
    if viewer is None:  # the viewer-less roll-up is the same for every scope: compute it once
        for period in periods:
            commits[period] = commit_method.results_by_scope(
                scopes=scopes,
                members=members,
                period_start=period.start,
                period_end=period.end,
                as_of=as_of,
                currency=currency,
            )

    as_of_month, horizon = _horizon(as_of, periods)
    out: list[Forecast] = []
    for scope in scopes:
        d = data[scope.key]
        fit = time_series.fit_series(
            dict(d.revenue),
            as_of_month=as_of_month,
            horizon=horizon,
            season_length=settings.season_length,
            history_months=settings.history_months,
        )
        for period in periods:
            results = _assemble(
                scope,
                period,
                as_of=as_of,
                fit=fit,
                won=d.won[period],
                open_=tuple(d.open[period]),
                track=tracks[period.kind].get((scope.kind, scope.id), {}),
                viewer=viewer,
                settings=settings,
                currency=currency,
                commit_result=(commits.get(period) or {}).get(scope.key),
            )
            out.append(Forecast(scope, period, as_of, currency, results, money(d.won[period]), False))
    return out


# Snapshots --------------------------------------------------------------------------------------


def snapshot_periods(day: dt.date) -> list[Period]:
    """Current and next fiscal month, current and next fiscal quarter of ``day``."""
    fiscal = selectors.fiscal_start_month()
    months = selectors.periods_around(PeriodKind.MONTH, day, before=0, after=1, fiscal_start=fiscal)
    quarters = selectors.periods_around(PeriodKind.QUARTER, day, before=0, after=1, fiscal_start=fiscal)
    return [*months, *quarters]


def snapshot_day(day: dt.date, *, replace: bool = False) -> int:
    """Store every scope's forecasts as of local midnight starting ``day``; returns rows written.
    Idempotent: a day that already has snapshots is left alone unless ``replace``."""
    with transaction.atomic():
        existing = Snapshot.objects.filter(taken_on=day)
        if existing.exists():
            if not replace:
                return 0
            existing.delete()
        forecasts = forecasts_for_scopes(selectors.snapshot_scopes(), snapshot_periods(day), as_of=local_midnight(day))
        rows = [
            Snapshot(
                taken_on=day,
                scope_kind=f.scope.kind,
                scope_id=f.scope.id,
                period_start=f.period.start,
                period_end=f.period.end,
                period_kind=f.period.kind,
                method=r.method,
                amount=r.amount,
                currency=r.currency,
            )
            for f in forecasts
            for r in f.ordered()
            if r.amount is not None
        ]
        Snapshot.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def actuals_fill(today: dt.date) -> int:
    """Fill ``Snapshot.actual`` of every period that ended before ``today``; returns scopes × periods
    filled. One grouped-by-rep revenue query per period, summed per scope."""
    open_rows = (
        Snapshot.objects.filter(actual__isnull=True, period_end__lt=today)
        .values_list("scope_kind", "scope_id", "period_start", "period_end", "period_kind")
        .distinct()
    )
    by_period: dict[tuple, set[tuple]] = defaultdict(set)
    for kind, sid, start, end, pkind in open_rows:
        by_period[(start, end, pkind)].add((kind, sid))
    if not by_period:
        return 0
    team_paths = dict(Team.objects.values_list("pk", "path"))
    user_paths = dict(User.objects.values_list("pk", "team__path"))
    filled = 0
    for (start, end, pkind), wanted in by_period.items():
        per_rep = actuals_q.actuals_by_rep(Metric.REVENUE, Period(start, end, pkind), ScopeFilter())
        for kind, sid in wanted:
            if kind == ScopeKind.COMPANY:
                value = sum(per_rep.values(), ZERO)
            elif kind == ScopeKind.TEAM:
                path = team_paths.get(sid)
                if path is None:
                    continue  # the team is gone: nothing to measure against
                value = sum((v for r, v in per_rep.items() if (user_paths.get(r) or "").startswith(path)), ZERO)
            else:
                value = per_rep.get(sid, ZERO)
            Snapshot.objects.filter(
                scope_kind=kind, scope_id=sid, period_start=start, period_end=end, actual__isnull=True
            ).update(actual=value)
            filled += 1
    return filled


def snapshots_take(*, now: dt.datetime) -> dict:
    """The scheduler's daily job: snapshots on the snapshot weekday (once per day), and the
    actuals of periods that have ended (every day)."""
    settings = ForecastSettings.current()
    today = timezone.localdate(now)
    taken = 0
    if today.weekday() == settings.snapshot_weekday:
        taken = snapshot_day(today)
    filled = actuals_fill(today)
    return {
        "day": today.isoformat(),
        "snapshot_day": today.weekday() == settings.snapshot_weekday,
        "snapshots": taken,
        "actuals_filled": filled,
    }


def backfill(*, weeks: int, today: dt.date, replace: bool = False) -> dict:
    """Replay the snapshots of the past ``weeks`` snapshot days (oldest first), as of each day,
    then fill the actuals of the periods that have ended since."""
    settings = ForecastSettings.current()
    back = (today.weekday() - settings.snapshot_weekday) % 7
    latest = today - dt.timedelta(days=back)
    days = [latest - dt.timedelta(weeks=k) for k in range(weeks, -1, -1)]
    written = {d.isoformat(): snapshot_day(d, replace=replace) for d in days}
    return {"days": written, "actuals_filled": actuals_fill(today)}


def method_label(method: str) -> str:
    return str(Method(method).label)


def describe_period(period: Period) -> str:
    return _("%(code)s (%(start)s – %(end)s)") % {
        "code": selectors.period_code(period),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
