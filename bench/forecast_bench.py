"""Forecasting benchmark (issue #7 §8): forecast of all reps and teams on size M in PostgreSQL.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench .venv/bin/python bench/forecast_bench.py --runs 3

What it measures, printing small tables with the load average and the data size:

1. **All scopes at once** — ``services.forecasts_for_scopes`` for the company, every team and
   every active rep and lead × current and next fiscal month and quarter, as of now (what the
   weekly snapshot job computes): wall time p50/p95 over ``--runs`` runs, SQL queries, and the
   time spent fitting Holt-Winters models.
2. **Server time** p50/p95 and SQL queries of the API through Django's handler (``_harness``), as a
   director: ``GET /api/forecasts`` (company, current quarter), the same for one team and one rep,
   ``/history`` and ``/accuracy``.
3. Optionally (``--snapshot``) one snapshot day stored and removed again, and
   (``--backfill N``) N weeks replayed (rows are left in ``forecasting_snapshot`` so the accuracy
   page has data; ``--cleanup`` deletes every snapshot the run wrote).

The bench writes only to ``forecasting_snapshot`` and a temporary API token (deleted at the end).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import _harness  # noqa: F401  (sets up Django)
from _harness import describe_database, measure, percentile, print_table
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salesloop.forecasting import selectors, services
from salesloop.forecasting.methods import time_series
from salesloop.forecasting.models import Snapshot
from salesloop.org.models import ApiToken, Role, User
from salesloop.pipeline.models import Opportunity


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


class FitTimer:
    """Wraps ``time_series.fit_series`` to add up the time spent fitting."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.fits = 0
        self._orig = time_series.fit_series

    def __enter__(self):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return self._orig(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0
                self.fits += 1

        time_series.fit_series = timed
        return self

    def __exit__(self, *exc) -> None:
        time_series.fit_series = self._orig


def bench_bulk(runs: int) -> None:
    scopes = selectors.snapshot_scopes()
    periods = services.snapshot_periods(timezone.localdate())
    times, fit_times = [], []
    queries = 0
    for i in range(runs):
        with CaptureQueriesContext(connection) as ctx, FitTimer() as fits:
            t0 = time.perf_counter()
            out = services.forecasts_for_scopes(scopes, periods, as_of=timezone.now())
            times.append(time.perf_counter() - t0)
        fit_times.append(fits.seconds)
        if i == 0:
            queries = len(ctx.captured_queries)
            n_fits = fits.fits
    kinds = {k: sum(1 for s in scopes if s.kind == k) for k in ("company", "team", "rep")}
    print("\n## All scopes × 4 periods (forecasts_for_scopes)\n")
    print("| scopes | forecasts | p50 ms | p95 ms | SQL queries | model fits | fit time p50 ms | runs |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {kinds} | {len(out)} | {statistics.median(times) * 1000:.0f} | {percentile(times, 0.95) * 1000:.0f} "
        f"| {queries} | {n_fits} | {statistics.median(fit_times) * 1000:.0f} | {runs} |"
    )


def bench_api(runs: int) -> None:
    director = (
        User.objects.filter(role=Role.DIRECTOR, is_active=True, team__parent__isnull=True).first()
        or User.objects.filter(role=Role.ADMIN, is_active=True).first()
    )
    token, key = ApiToken.issue(user=director, name="forecast-bench")
    try:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        team = selectors.default_scope(director)
        some_team = next((s for s in selectors.visible_scopes(director) if s.kind == "team"), team)
        busiest = Opportunity.objects.values("owner_id").order_by().annotate(n=Count("id"))
        rep_id = max(busiest, key=lambda r: r["n"])["owner_id"] if busiest else director.pk
        results = [
            measure(client, "forecast: company, quarter", "/api/forecasts?scope_kind=company", runs=runs, warmup=1),
            measure(
                client,
                "forecast: one team, quarter",
                f"/api/forecasts?scope_kind=team&scope_id={some_team.id}",
                runs=runs,
                warmup=1,
            ),
            measure(
                client,
                "forecast: one rep, quarter",
                f"/api/forecasts?scope_kind=rep&scope_id={rep_id}",
                runs=runs,
                warmup=1,
            ),
            measure(
                client, "history: company, 12 months", "/api/forecasts/history?scope_kind=company", runs=runs, warmup=1
            ),
            measure(client, "accuracy: months", "/api/forecasts/accuracy?period_kind=month", runs=runs, warmup=1),
        ]
        print_table(f"API as {director} (server time, in-process)", results)
    finally:
        token.delete()


def print_accuracy() -> None:
    """MAPE and bias per method and level over the closed periods scored so far."""
    from salesloop.forecasting import accuracy

    for kind in ("month", "quarter"):
        rows = accuracy.pooled(accuracy.scores(kind))
        if not rows:
            continue
        print(f"\n## Accuracy by level, {kind}s (snapshot on or before the period's first day)\n")
        print("| level | method | periods scored | zero-revenue periods | MAPE % | bias % |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            mape = "—" if r.mape is None else f"{r.mape * 100:.1f}"
            bias = "—" if r.bias is None else f"{r.bias * 100:+.1f}"
            print(f"| {r.scope_kind} | {r.method} | {r.periods} | {r.zero_actual} | {mape} | {bias} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of the all-scopes forecast (default 3)")
    parser.add_argument("--api-runs", type=int, default=10, help="runs per API request (default 10)")
    parser.add_argument("--snapshot", action="store_true", help="also time one snapshot day (removed again)")
    parser.add_argument("--backfill", type=int, default=0, help="also replay N weeks of snapshots")
    parser.add_argument("--cleanup", action="store_true", help="delete the snapshots this run wrote")
    args = parser.parse_args()

    print(f"# Forecast bench — {describe_database()}")
    print(f"load average before: {_load()}; opportunities={Opportunity.objects.count()}")
    before = set(Snapshot.objects.values_list("taken_on", flat=True).distinct())
    bench_bulk(args.runs)
    bench_api(args.api_runs)
    today = timezone.localdate()
    if args.snapshot and today not in before:
        t0 = time.perf_counter()
        rows = services.snapshot_day(today)
        print(f"\nsnapshot day {today}: {rows} rows in {time.perf_counter() - t0:.1f} s (removed again)")
        Snapshot.objects.filter(taken_on=today).delete()
    if args.backfill:
        t0 = time.perf_counter()
        result = services.backfill(weeks=args.backfill, today=today)
        written = sum(result["days"].values())
        print(
            f"\nbackfill {args.backfill} weeks: {written} rows, {result['actuals_filled']} scope-periods with actuals, "
            f"{time.perf_counter() - t0:.1f} s"
        )
    if args.backfill or Snapshot.objects.filter(actual__isnull=False).exists():
        print_accuracy()
    if args.cleanup:
        Snapshot.objects.exclude(taken_on__in=before).delete()
    print(f"\nload average after: {_load()}")


if __name__ == "__main__":
    main()
