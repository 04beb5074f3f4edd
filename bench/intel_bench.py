"""Pipeline-intelligence benchmark: funnel (whole company, one year) and activity heatmap.

Run against the size-M PostgreSQL database (``salesloop_bench``; the ``intel`` migrations must be
applied: ``DATABASE_URL=... manage.py migrate intel``):

    .venv/bin/python bench/intel_bench.py [--runs 10]

1. Server time (p50/p95) and SQL query count of ``GET /api/intel/funnel`` and
   ``GET /api/intel/heatmap`` as the director, through Django's handler (``_harness``).
2. The same two analyses in DuckDB over an export of the same tables made in the same run
   (Parquet-free: rows are fetched once and loaded into an in-memory DuckDB), and the ratio.
   DuckDB runs the funnel's cohort SQL (company dimension, no visibility filter — the director
   sees everything, so the sets are equal) and the weekday × hour count with timestamps shifted
   to UTC+8 (Asia/Shanghai has no DST; DuckDB's ICU time zones are not available offline).
   The results of both engines are compared before any time is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import _harness  # noqa: F401  (sets up Django)
from _harness import measure, percentile, print_table
from django.db import connection
from django.test import Client
from django.utils import timezone

from salesloop.org.models import ApiToken, Role, User


def _export(duck) -> dict[str, int]:
    tables = {
        "pipeline_stage": 'SELECT id, "order", is_active, is_lost, is_won FROM pipeline_stage',
        "pipeline_stagechange": "SELECT opportunity_id, to_stage_id, changed_at FROM pipeline_stagechange",
        "activities_activity": "SELECT id, occurred_at, outcome FROM activities_activity",
    }
    sizes = {}
    with connection.cursor() as cur:
        for name, sql in tables.items():
            cur.execute(sql)
            rows = cur.fetchall()
            cols = [d[0] for d in cur.description]
            import pandas as pd

            frame = pd.DataFrame(rows, columns=cols)
            for col in ("changed_at", "occurred_at"):
                if col in frame:
                    frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_localize(None)
            duck.register(f"{name}_df", frame)
            duck.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
            sizes[name] = len(rows)
    return sizes


DUCK_FUNNEL = """
WITH lv AS (SELECT DISTINCT "order" AS lvl FROM pipeline_stage WHERE is_active AND NOT is_lost),
reach AS (SELECT sc.opportunity_id AS opp, lv.lvl AS lvl, MIN(sc.changed_at) AS reached_at
  FROM pipeline_stagechange sc JOIN pipeline_stage st ON st.id = sc.to_stage_id
  JOIN lv ON lv.lvl <= st."order" WHERE NOT st.is_lost AND sc.changed_at < ? GROUP BY 1, 2),
cohort AS (SELECT opp, lvl, reached_at FROM reach WHERE reached_at >= ? AND reached_at < ?)
SELECT c.lvl, t.lvl, COUNT(*) FROM cohort c JOIN reach t ON t.opp = c.opp AND t.lvl > c.lvl
GROUP BY 1, 2 ORDER BY 1, 2
"""

DUCK_HEATMAP = """
SELECT isodow(occurred_at + INTERVAL 8 HOUR) AS wd, hour(occurred_at + INTERVAL 8 HOUR) AS hr,
  COUNT(*), COUNT(*) FILTER (WHERE outcome <> ''),
  COUNT(*) FILTER (WHERE outcome IN ('interested', 'qualified', 'negotiating'))
FROM activities_activity WHERE occurred_at >= ? AND occurred_at < ? GROUP BY 1, 2 ORDER BY 1, 2
"""


def _timed(fn, runs: int) -> tuple[float, float, object]:
    fn()
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, percentile(times, 0.95) * 1000, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--skip-server", action="store_true", help="DuckDB side and the comparison only")
    args = parser.parse_args()

    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    _token, key = ApiToken.issue(user=director, name="intel-bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    end = timezone.localdate()
    start = end - dt.timedelta(days=364)
    funnel_url = f"/api/intel/funnel?start={start}&end={end}"
    heat_url = f"/api/intel/heatmap?start={start}&end={end}"
    results = []
    if not args.skip_server:
        results = [
            measure(client, "funnel, company, 1 year", funnel_url, runs=args.runs, warmup=1),
            measure(client, "heatmap weekday × hour, 1 year", heat_url, runs=args.runs, warmup=1),
        ]
        print_table("Server time (PostgreSQL, director)", results)

    import duckdb

    duck = duckdb.connect()
    t0 = time.perf_counter()
    sizes = _export(duck)
    print(f"\nexported {sizes} in {time.perf_counter() - t0:.1f}s")

    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz).astimezone(dt.UTC).replace(tzinfo=None)
    hi = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min)
        .replace(tzinfo=tz)
        .astimezone(dt.UTC)
        .replace(tzinfo=None)
    )
    now = timezone.now().astimezone(dt.UTC).replace(tzinfo=None)
    f50, f95, duck_funnel = _timed(lambda: duck.execute(DUCK_FUNNEL, [now, lo, hi]).fetchall(), args.runs)
    h50, h95, duck_heat = _timed(lambda: duck.execute(DUCK_HEATMAP, [lo, hi]).fetchall(), args.runs)

    api_funnel = client.get(funnel_url).json()
    orders = {s["code"]: s["order"] for s in api_funnel["stages"]}
    ours = sorted((orders[s["from_stage"]], orders[s["to_stage"]], s["converted"]) for s in api_funnel["steps"])
    theirs = {(a, b): n for a, b, n in duck_funnel}
    mismatch = [(a, b, n, theirs.get((a, b), 0)) for a, b, n in ours if theirs.get((a, b), 0) != n]
    api_heat = client.get(heat_url).json()["cells"]
    heat_ours = sorted((c["weekday"], c["column"], c["activities"], c["recorded"], c["positive"]) for c in api_heat)
    heat_same = heat_ours == sorted(tuple(int(x) for x in row) for row in duck_heat)
    print(f"\nfunnel steps equal: {not mismatch} {mismatch[:3]}; heatmap cells equal: {heat_same}")
    print(f"DuckDB funnel p50 {f50:.1f} ms p95 {f95:.1f} ms; heatmap p50 {h50:.1f} ms p95 {h95:.1f} ms")

    if not results:
        return
    print("\n## PostgreSQL (server time) vs DuckDB (query time, same data)\n")
    print("| analysis | PG p50 ms | PG p95 ms | DuckDB p50 ms | DuckDB p95 ms | PG/DuckDB (p50) |")
    print("|---|---|---|---|---|---|")
    for r, (d50, d95) in zip(results, [(f50, f95), (h50, h95)], strict=True):
        print(f"| {r.name} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {d50:.1f} | {d95:.1f} | {r.p50_ms / d50:.1f} |")


if __name__ == "__main__":
    main()
