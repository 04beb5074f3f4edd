"""Pipeline-intelligence benchmark (issue #7 §8): funnel (whole company, one year) and activity
heatmaps on size M in PostgreSQL, against DuckDB over an export of the same tables.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench .venv/bin/python bench/intel_bench.py --runs 7

(the database is loaded by ``bench/demo_load.py``; on an older load run ``manage.py migrate intel``
and ``manage.py intel_stage_reach`` first — the bench also catches the table up itself).

What it measures, in one run, printing a small table:

1. **Before**: the funnel as it was before the first-reach table and the weekday × hour heatmap
   as it was before the 15-minute buckets (the modules at ``--before-rev``, default their newest
   commit without the change), each run once; and the current funnel with ``precomputed=False``
   (reach recomputed from every stage change), run once.
2. **Server time** p50/p95 over ``--runs`` runs (after one warm-up) and SQL queries per request of
   ``GET /api/intel/funnel`` (company, one year) and ``GET /api/intel/heatmap`` (by hour, by rep),
   as the director, through Django's handler (``_harness``); plus ``funnel_review()`` itself.
3. **DuckDB**: the tables are exported with ``COPY ... TO STDOUT (FORMAT csv)`` into
   ``var/bench/intel_export/`` (not committed) and loaded into an in-memory DuckDB; the same
   funnel (cohorts and conversions, leaks by loss reason, time in stage, win rate and cycle —
   computed from scratch, DuckDB gets no pre-aggregated table) and the same heatmaps run there.
   Timestamps are exported in UTC and shifted by the current zone's fixed offset (Asia/Shanghai
   has no DST; checked) for weekday/hour. Every DuckDB result is compared with PostgreSQL's
   before any ratio is printed; the director sees every deal and activity (checked), so the sets
   are equal.

Load average and data size are printed with the results: the machine is shared, read the
figures with them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _harness  # noqa: F401  (sets up Django)
from _harness import ROOT, measure, percentile, print_table
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salesloop.activities.models import Activity
from salesloop.analytics.queries.funnel import funnel_review
from salesloop.analytics.queries.heatmap import POSITIVE_OUTCOMES, activity_heatmap
from salesloop.intel.stage_reach import stage_reach_catch_up
from salesloop.org import access
from salesloop.org.models import ApiToken, Role, User
from salesloop.pipeline.models import Opportunity

EXPORT = ROOT / "var" / "bench" / "intel_export"
FUNNEL_FILE = "salesloop/analytics/queries/funnel.py"
HEATMAP_FILE = "salesloop/analytics/queries/heatmap.py"

#: name → the SELECT exported (timestamps as UTC wall time, booleans as 0/1).
EXPORTS = {
    "stage": 'SELECT id, "order", is_active::int AS is_active, is_lost::int AS is_lost, is_won::int AS is_won'
    " FROM pipeline_stage",
    "stagechange": "SELECT id, opportunity_id, to_stage_id, changed_at AT TIME ZONE 'UTC' AS changed_at"
    " FROM pipeline_stagechange",
    "opportunity": "SELECT id, stage_id, loss_reason_id, created_at AT TIME ZONE 'UTC' AS created_at,"
    " closed_at AT TIME ZONE 'UTC' AS closed_at FROM pipeline_opportunity",
    "activity": "SELECT id, occurred_at AT TIME ZONE 'UTC' AS occurred_at, outcome, kind, performed_by_id"
    " FROM activities_activity",
}

DUCK_REACH = """
WITH lv AS (SELECT DISTINCT "order" AS lvl FROM stage WHERE is_active = 1 AND is_lost = 0),
reach AS (SELECT sc.opportunity_id AS opp, lv.lvl AS lvl, MIN(sc.changed_at) AS ts
  FROM stagechange sc JOIN stage st ON st.id = sc.to_stage_id JOIN lv ON lv.lvl <= st."order"
  WHERE st.is_lost = 0 AND sc.changed_at < $as_of GROUP BY ALL),
cohort AS (SELECT opp, lvl, ts FROM reach WHERE ts >= $lo AND ts < $hi),
nxt AS (SELECT a.lvl AS lvl, MIN(b.lvl) AS next_lvl FROM lv a JOIN lv b ON b.lvl > a.lvl GROUP BY a.lvl)
"""

DUCK_FUNNEL = {
    "reached": DUCK_REACH
    + """SELECT c.lvl, t.lvl, COUNT(*), AVG(date_diff('microsecond', c.ts, t.ts) / 1e6)
FROM cohort c JOIN reach t ON t.opp = c.opp AND t.lvl >= c.lvl GROUP BY ALL""",
    "leaks": DUCK_REACH
    + """SELECT c.lvl, o.loss_reason_id, COUNT(*) FROM cohort c JOIN nxt ON nxt.lvl = c.lvl
JOIN opportunity o ON o.id = c.opp JOIN stage cur ON cur.id = o.stage_id
LEFT JOIN reach t ON t.opp = c.opp AND t.lvl = nxt.next_lvl
WHERE cur.is_lost = 1 AND t.opp IS NULL GROUP BY ALL""",
    "stage_times": """SELECT st."order", COUNT(*), AVG(date_diff('microsecond', v.at, v.left_at) / 1e6)
FROM (SELECT to_stage_id AS stg, changed_at AS at,
        LEAD(changed_at) OVER (PARTITION BY opportunity_id ORDER BY changed_at, id) AS left_at
      FROM stagechange WHERE changed_at >= $lo AND changed_at < $as_of) v
JOIN stage st ON st.id = v.stg WHERE v.left_at IS NOT NULL AND v.at < $hi GROUP BY ALL""",
    "outcomes": """SELECT SUM(st.is_won), SUM(st.is_lost),
  AVG(CASE WHEN st.is_won = 1 THEN date_diff('microsecond', o.created_at, o.closed_at) / 1e6 END)
FROM opportunity o JOIN stage st ON st.id = o.stage_id
WHERE (st.is_won = 1 OR st.is_lost = 1) AND o.closed_at >= $lo AND o.closed_at < $hi AND o.closed_at < $as_of""",
}

DUCK_HEATMAP = """
SELECT isodow(occurred_at + to_hours($offset)) AS wd, {column} AS col, COUNT(*),
  COUNT(*) FILTER (WHERE outcome <> ''), COUNT(*) FILTER (WHERE outcome IN {positive})
FROM activity WHERE occurred_at >= $lo AND occurred_at < $hi GROUP BY ALL
"""


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _timed(fn, runs: int) -> tuple[float, float, object]:
    fn()
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, percentile(times, 0.95) * 1000, out


def _once(fn) -> tuple[float, int]:
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1000, len(ctx.captured_queries)


def _before_module(path: str, marker: str, rev: str | None):
    """The module at ``path`` as it was at ``rev`` (default: its newest committed revision
    without ``marker``, the sign of the speed-up), loaded under a private name; or None."""
    try:
        revs = (
            [rev]
            if rev
            else subprocess.run(
                ["git", "log", "--format=%H", "--", path], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.split()
        )
        for candidate in revs:
            text = subprocess.run(
                ["git", "show", f"{candidate}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
            if marker not in text:
                break
        else:
            return None
    except (OSError, subprocess.CalledProcessError):
        return None
    name = "before_" + Path(path).stem
    target = ROOT / "var" / "bench" / f"{name}.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _params(sql: str, values: dict) -> dict:
    """The named parameters ``sql`` uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in values.items() if f"${k}" in sql}


def _export(duck) -> dict[str, int]:
    """COPY each table to CSV in ``var/bench/intel_export`` and load it into DuckDB."""
    EXPORT.mkdir(parents=True, exist_ok=True)
    sizes = {}
    with connection.cursor() as cur:
        raw = cur.cursor  # psycopg 3
        for name, select in EXPORTS.items():
            path = EXPORT / f"{name}.csv"
            with path.open("wb") as out, raw.copy(f"COPY ({select}) TO STDOUT (FORMAT csv, HEADER)") as copy:
                for chunk in copy:
                    out.write(chunk)
            duck.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv('{path}', header = true)")
            sizes[name] = duck.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
    return sizes


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _close(a, b, tol: float = 0.011) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= tol


def _compare_funnel(result, duck: dict) -> list[str]:
    """Differences between ``funnel_review`` (company) and the DuckDB rows; empty when equal."""
    diffs = []
    reached = {(int(a), int(b)): (int(n), s) for a, b, n, s in duck["reached"]}
    for pair in result.pairs:
        n, secs = reached.get((pair.from_order, pair.to_order), (0, None))
        size = reached.get((pair.from_order, pair.from_order), (0, None))[0]
        days = None if secs is None else round(secs / 86400, 2)
        if (pair.cohort, pair.converted) != (size, n) or not _close(pair.avg_days, days):
            diffs.append(
                f"pair {pair.from_order}->{pair.to_order}: {pair.cohort}/{pair.converted}/{pair.avg_days}"
                f" vs {size}/{n}/{days}"
            )
    leaks = {}
    for lvl, reason, n in duck["leaks"]:
        leaks.setdefault(int(lvl), []).append((None if reason is None else int(reason), int(n)))
    for step in result.steps:
        if sorted(step.loss_reasons, key=str) != sorted(leaks.get(step.from_order, []), key=str):
            diffs.append(f"leaks at {step.from_order}")
    times = {int(o): (int(n), s) for o, n, s in duck["stage_times"]}
    for t in result.stage_times:
        n, secs = times.get(t.order, (0, None))
        if t.visits != n or not _close(t.avg_days, None if secs is None else secs / 86400):
            diffs.append(f"time in stage {t.order}: {t.visits}/{t.avg_days} vs {n}/{secs}")
    ((won, lost, cycle),) = duck["outcomes"]
    (outcome,) = result.outcomes
    if (outcome.won, outcome.lost) != (int(won), int(lost)) or not _close(outcome.avg_cycle_days, cycle / 86400):
        diffs.append(f"outcomes {outcome} vs {won}/{lost}/{cycle}")
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--before-rev", default=None, help="git revision of the 'before' modules (default: newest without the change)"
    )
    parser.add_argument("--skip-before", action="store_true")
    args = parser.parse_args()

    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    deals = access.restrict(Opportunity.objects.all(), director, "read")
    acts = access.restrict(Activity.objects.all(), director, "read")
    assert deals.count() == Opportunity.objects.count() and acts.count() == Activity.objects.count()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        (db_size,) = cur.fetchone()
        counts = {}
        for table in ("pipeline_opportunity", "pipeline_stagechange", "intel_stagereach", "activities_activity"):
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
    print(f"database {connection.settings_dict['NAME']} ({db_size}); rows: {counts}")
    print(f"{os.cpu_count()} cores; load average at start: {_load()}")

    t0 = time.perf_counter()
    state = stage_reach_catch_up()
    print(f"first-reach table: {state} in {time.perf_counter() - t0:.1f} s")

    end = timezone.localdate()
    start = end - dt.timedelta(days=364)
    as_of = timezone.now()
    rows: list[tuple[str, float, float, int | str, str]] = []

    if not args.skip_before:
        old = _before_module(FUNNEL_FILE, "intel_stagereach", args.before_rev)
        if old is not None:
            ms, q = _once(lambda: old.funnel_review(visible_opportunities=deals, start=start, end=end, as_of=as_of))
            rows.append(("funnel before (old module, 1 run)", ms, ms, q, "PostgreSQL"))
        old_heat = _before_module(HEATMAP_FILE, "QuarterHourBucket", args.before_rev)
        if old_heat is not None:
            ms, q = _once(lambda: old_heat.activity_heatmap(visible_activities=acts, start=start, end=end, by="hour"))
            rows.append(("heatmap by hour before (old module, 1 run)", ms, ms, q, "PostgreSQL"))
        ms, q = _once(
            lambda: funnel_review(visible_opportunities=deals, start=start, end=end, as_of=as_of, precomputed=False)
        )
        rows.append(("funnel, precomputed=False (1 run)", ms, ms, q, "PostgreSQL"))

    _token, key = ApiToken.issue(user=director, name="intel-bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    server = [
        measure(
            client,
            "GET funnel, company, 1 year",
            f"/api/intel/funnel?start={start}&end={end}",
            runs=args.runs,
            warmup=1,
        ),
        measure(
            client,
            "GET heatmap weekday × hour, 1 year",
            f"/api/intel/heatmap?start={start}&end={end}",
            runs=args.runs,
            warmup=1,
        ),
        measure(
            client,
            "GET heatmap weekday × rep, 1 year",
            f"/api/intel/heatmap?start={start}&end={end}&by=rep",
            runs=args.runs,
            warmup=1,
        ),
    ]
    print_table(f"Server time (PostgreSQL, director, load {_load()})", server)
    f50, f95, pg_funnel = _timed(
        lambda: funnel_review(visible_opportunities=deals, start=start, end=end, as_of=as_of), args.runs
    )
    _ms, f_queries = _once(lambda: funnel_review(visible_opportunities=deals, start=start, end=end, as_of=as_of))
    rows.append(("funnel_review() call", f50, f95, f_queries, "PostgreSQL"))
    pg_heat = {by: activity_heatmap(visible_activities=acts, start=start, end=end, by=by) for by in ("hour", "rep")}

    import duckdb

    duck = duckdb.connect()
    t0 = time.perf_counter()
    sizes = _export(duck)
    print(
        f"\nexported to {EXPORT.relative_to(ROOT)} and loaded into DuckDB {duckdb.__version__}: {sizes}"
        f" in {time.perf_counter() - t0:.1f} s"
    )

    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
    offset = lo.utcoffset()
    assert offset == hi.utcoffset(), "the time zone changes offset within the period; shift per row instead"
    params = {"lo": _utc_naive(lo), "hi": _utc_naive(hi), "as_of": _utc_naive(as_of)}

    def duck_funnel() -> dict:
        return {name: duck.execute(sql, _params(sql, params)).fetchall() for name, sql in DUCK_FUNNEL.items()}

    d_f50, d_f95, duck_f = _timed(duck_funnel, args.runs)
    diffs = _compare_funnel(pg_funnel, duck_f)
    print(f"funnel equal in both engines: {not diffs} {diffs[:3]}")
    rows.append(("funnel (same queries, from scratch)", d_f50, d_f95, len(DUCK_FUNNEL), "DuckDB"))

    hours = int(offset.total_seconds() // 3600)
    positive = "(" + ", ".join(f"'{o}'" for o in POSITIVE_OUTCOMES) + ")"
    duck_heat = {}
    for by, column in (("hour", "hour(occurred_at + to_hours($offset))"), ("rep", "performed_by_id")):
        sql = DUCK_HEATMAP.format(column=column, positive=positive)
        h50, h95, out = _timed(
            lambda sql=sql: duck.execute(sql, _params(sql, {**params, "offset": hours})).fetchall(), args.runs
        )
        duck_heat[by] = (h50, h95)
        theirs = sorted(tuple(int(x) if x is not None else None for x in r) for r in out)
        ours = sorted((c.weekday, c.column, c.activities, c.recorded, c.positive) for c in pg_heat[by])
        print(f"heatmap by {by} equal in both engines: {theirs == ours} ({len(ours)} cells)")
        rows.append((f"heatmap by {by}", h50, h95, 1, "DuckDB"))

    print("\n## PostgreSQL vs DuckDB (same data, same run)\n")
    print("| measurement | engine | p50 ms | p95 ms | SQL queries |")
    print("|---|---|---|---|---|")
    for name, p50, p95, q, engine in rows:
        print(f"| {name} | {engine} | {p50:.1f} | {p95:.1f} | {q} |")
    print("\n| analysis | PG server p50 ms | DuckDB p50 ms | PG/DuckDB |")
    print("|---|---|---|---|")
    for result, d50 in zip(server, [d_f50, duck_heat["hour"][0], duck_heat["rep"][0]], strict=True):
        print(f"| {result.name} | {result.p50_ms:.1f} | {d50:.1f} | {result.p50_ms / d50:.1f} |")
    print(f"\nload average at end: {_load()}")


if __name__ == "__main__":
    sys.exit(main())
