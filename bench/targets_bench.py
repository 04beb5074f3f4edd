"""Targets benchmark (issue #5 §9): dashboards, recomputing a quarter's attainment, DuckDB reference.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench .venv/bin/python bench/targets_bench.py \
        [--runs 20] [--quarter 2025-04-01]

On a database loaded with ``manage.py demo --size M``. Everything the benchmark writes (a company
revenue and visits target for the quarter, decomposed down to every rep; a few credit splits) is
inside one transaction that is rolled back at the end, so the shared database is left as found.

Measured, in one run:

1. the manager's dashboard (``/targets/tracking/``, quarter) for the whole company and for one
   team: server time p50/p95 over N runs after warm-up, and SQL queries per request;
2. recomputing every approved target's attainment for the quarter (``attainment_recompute``);
3. the same per-rep aggregates (every metric, the quarter) in PostgreSQL through
   ``analytics.queries.actuals`` and in DuckDB (in-memory) over a CSV export of the same tables
   taken in the same run: both timed, results compared row by row, and the ratio reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from _harness import describe_database, measure, percentile, print_table
from django.db import connection, transaction

from salesloop.analytics.queries import actuals as q
from salesloop.org.models import Role, Team, TeamKind, User
from salesloop.targets import selectors, services
from salesloop.targets.metrics import METRICS, Metric
from salesloop.targets.models import Target
from salesloop.targets.periods import PeriodKind, period_containing

# The tables DuckDB gets: columns the aggregates read, with their types (an empty table gives
# DuckDB's CSV sniffer nothing to infer from).
EXPORT = {
    "pipeline_stage": {
        "id": "BIGINT",
        "code": "VARCHAR",
        "order": "INTEGER",
        "is_won": "BOOLEAN",
        "is_lost": "BOOLEAN",
    },
    "pipeline_opportunity": {
        "id": "BIGINT",
        "owner_id": "BIGINT",
        "account_id": "BIGINT",
        "amount": "DECIMAL(16,2)",
        "stage_id": "BIGINT",
        "closed_at": "TIMESTAMPTZ",
        "created_at": "TIMESTAMPTZ",
    },
    "pipeline_stagechange": {
        "id": "BIGINT",
        "opportunity_id": "BIGINT",
        "to_stage_id": "BIGINT",
        "changed_at": "TIMESTAMPTZ",
    },
    "targets_creditsplit": {
        "id": "BIGINT",
        "opportunity_id": "BIGINT",
        "order_id": "BIGINT",
        "user_id": "BIGINT",
        "percent": "DECIMAL(5,2)",
        "is_primary": "BOOLEAN",
    },
    "activities_activity": {
        "id": "BIGINT",
        "kind": "VARCHAR",
        "occurred_at": "TIMESTAMPTZ",
        "owner_id": "BIGINT",
        "performed_by_id": "BIGINT",
        "account_id": "BIGINT",
    },
    "sales_order": {
        "id": "BIGINT",
        "owner_id": "BIGINT",
        "order_date": "DATE",
        "status": "VARCHAR",
        "margin": "DECIMAL(16,2)",
    },
    "sales_invoice": {"id": "BIGINT", "order_id": "BIGINT"},
    "sales_payment": {
        "id": "BIGINT",
        "invoice_id": "BIGINT",
        "account_id": "BIGINT",
        "amount": "DECIMAL(16,2)",
        "paid_at": "TIMESTAMPTZ",
    },
    "customers_account": {"id": "BIGINT", "owner_id": "BIGINT", "key_account_tier": "VARCHAR"},
    "org_user": {"id": "BIGINT", "team_id": "BIGINT"},
    "org_team": {"id": "BIGINT", "path": "VARCHAR"},
}


def add_splits(quarter, share: int = 50) -> int:
    """Share one in ``share`` of the quarter's won deals 60/40 with a colleague of the same team."""
    from salesloop.pipeline.models import Opportunity
    from salesloop.targets.models import CreditSplit

    start, end = quarter.bounds()
    deals = list(
        Opportunity.objects.filter(stage__is_won=True, closed_at__gte=start, closed_at__lt=end)
        .order_by("pk")
        .values_list("pk", "owner_id", "owner__team_id")
    )[::share]
    by_team: dict[int, list[int]] = {}
    for pk, team_id in User.objects.filter(role=Role.REP).values_list("pk", "team_id"):
        by_team.setdefault(team_id, []).append(pk)
    rows = []
    for pk, owner, team_id in deals:
        mates = [u for u in by_team.get(team_id, []) if u != owner]
        if mates:
            rows += [
                CreditSplit(opportunity_id=pk, user_id=owner, percent=Decimal("60"), is_primary=True),
                CreditSplit(opportunity_id=pk, user_id=mates[pk % len(mates)], percent=Decimal("40")),
            ]
    CreditSplit.objects.bulk_create(rows)
    return len(rows) // 2


def timed(fn, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, percentile(times, 0.95) * 1000, result


def build_targets(director: User, quarter) -> tuple[int, float]:
    """A company revenue and visits target for the quarter, decomposed level by level to reps."""
    company = Team.objects.get(parent__isnull=True)
    start = time.perf_counter()
    count = 0
    for metric, amount in ((Metric.REVENUE, Decimal("300000000.00")), (Metric.VISITS, Decimal(150000))):
        root = services.target_create(
            by=director,
            data={
                "metric": metric,
                "period_kind": PeriodKind.QUARTER,
                "period_start": quarter.start,
                "team_id": company.pk,
                "amount": amount,
            },
        )
        frontier = [root]
        while frontier:
            nxt = []
            for t in frontier:
                to = "subteams" if t.team.kind != TeamKind.GROUP else "reps"
                try:
                    result = services.target_decompose(target_id=t.pk, by=director, axis="members", options={"to": to})
                except Exception as exc:  # a node without people cannot be split; report and go on
                    print(f"  (not split: {t.team} — {getattr(exc, 'errors', exc)})")
                    continue
                count += len(result.created)
                nxt += [c for c in result.created if c.rep_id is None]
            frontier = nxt
    return count, (time.perf_counter() - start) * 1000


def export_to_duckdb(workdir: Path):
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    raw = connection.connection  # psycopg 3 connection
    for table, types in EXPORT.items():
        path = workdir / f"{table}.csv"
        cols = ", ".join(f'"{c}"' for c in types)
        with open(path, "wb") as fh, raw.cursor() as cur:
            with cur.copy(f"COPY (SELECT {cols} FROM {table}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    fh.write(chunk)
        spec = ", ".join(f"'{c}': '{t}'" for c, t in types.items())
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header=true, columns={{{spec}}})")
    return con, (time.perf_counter() - start) * 1000


def duck_sql(metric: str, stages: q.StageOrders) -> str:
    """The definitions of ``analytics.queries.actuals`` in DuckDB's dialect (``//`` is integer
    division there; timestamps were exported in UTC and are compared as UTC)."""
    split_credit = (
        "CASE WHEN s.id IS NULL THEN c.cents ELSE (c.cents * s.bp) // 10000 + CASE WHEN s.is_primary "
        "THEN c.cents - SUM((c.cents * s.bp) // 10000) OVER (PARTITION BY c.id) ELSE 0 END END"
    )
    splits = (
        "(SELECT id, {fk}, user_id, is_primary, CAST(ROUND(percent * 100) AS BIGINT) AS bp "
        "FROM targets_creditsplit WHERE {fk} IS NOT NULL)"
    )
    won = (
        "SELECT o.id, o.owner_id, o.account_id, o.closed_at, CAST(ROUND(o.amount * 100) AS BIGINT) AS cents "
        "FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id "
        "WHERE st.is_won AND o.closed_at >= $start AND o.closed_at < $end"
    )
    if metric == Metric.REVENUE:
        inner = (
            f"SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, {split_credit} AS value FROM ({won}) c "
            f"LEFT JOIN {splits.format(fk='opportunity_id')} s ON s.opportunity_id = c.id"
        )
    elif metric == Metric.WON_DEALS:
        inner = (
            f"SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, 1 AS value FROM ({won}) c "
            "LEFT JOIN targets_creditsplit s ON s.opportunity_id = c.id AND s.is_primary"
        )
    elif metric == Metric.GROSS_MARGIN:
        inner = (
            f"SELECT COALESCE(s.user_id, c.owner_id) AS rep_id, {split_credit} AS value FROM ("
            "SELECT id, owner_id, CAST(ROUND(margin * 100) AS BIGINT) AS cents FROM sales_order "
            "WHERE status IN ('confirmed', 'delivered') AND order_date >= $dstart AND order_date <= $dend) c "
            f"LEFT JOIN {splits.format(fk='order_id')} s ON s.order_id = c.id"
        )
    elif metric == Metric.NEW_CUSTOMERS:
        inner = (
            "SELECT rep_id, 1 AS value FROM (SELECT COALESCE(s.user_id, o.owner_id) AS rep_id, o.closed_at AS ts,"
            " ROW_NUMBER() OVER (PARTITION BY o.account_id ORDER BY o.closed_at, o.id) AS rn "
            "FROM pipeline_opportunity o JOIN pipeline_stage st ON st.id = o.stage_id "
            "LEFT JOIN targets_creditsplit s ON s.opportunity_id = o.id AND s.is_primary "
            "WHERE st.is_won AND o.closed_at IS NOT NULL) x WHERE rn = 1 AND ts >= $start AND ts < $end"
        )
    elif metric == Metric.VISITS:
        inner = (
            "SELECT COALESCE(performed_by_id, owner_id) AS rep_id, 1 AS value FROM activities_activity "
            "WHERE kind = 'visit' AND occurred_at >= $start AND occurred_at < $end"
        )
    elif metric in (Metric.QUALIFIED_LEADS, Metric.PROPOSALS, Metric.NEGOTIATIONS):
        order = {
            Metric.QUALIFIED_LEADS: stages.intent,
            Metric.PROPOSALS: stages.proposal,
            Metric.NEGOTIATIONS: stages.negotiation,
        }[metric]
        inner = (
            "SELECT o.owner_id AS rep_id, 1 AS value FROM (SELECT sc.opportunity_id, MIN(sc.changed_at) AS ts "
            "FROM pipeline_stagechange sc JOIN pipeline_stage st ON st.id = sc.to_stage_id "
            f'WHERE st."order" >= {int(order)} AND NOT st.is_lost GROUP BY sc.opportunity_id) f '
            "JOIN pipeline_opportunity o ON o.id = f.opportunity_id WHERE f.ts >= $start AND f.ts < $end"
        )
    else:  # collections
        inner = (
            "SELECT COALESCE(so.owner_id, acc.owner_id) AS rep_id, CAST(ROUND(p.amount * 100) AS BIGINT) AS value "
            "FROM sales_payment p JOIN sales_invoice i ON i.id = p.invoice_id "
            "LEFT JOIN sales_order so ON so.id = i.order_id JOIN customers_account acc ON acc.id = p.account_id "
            "WHERE p.paid_at >= $start AND p.paid_at < $end"
        )
    return f"SELECT rep_id, SUM(value) FROM ({inner}) c GROUP BY 1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quarter", default="2025-04-01", help="any day of the quarter to measure")
    parser.add_argument("--skip-pages", action="store_true", help="only the aggregates (a quick check)")
    args = parser.parse_args()
    quarter = period_containing(PeriodKind.QUARTER, dt.date.fromisoformat(args.quarter))
    print(
        f"# Salesloop targets benchmark\n\nmachine: {platform.node()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared), load {os.getloadavg()[0]:.1f}; python {platform.python_version()}"
    )
    print(describe_database())
    print(f"quarter: {quarter.start} – {quarter.end}")

    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    from django.test import Client

    with transaction.atomic():
        n_split = add_splits(quarter)
        print(f"\ncredit splits: {n_split} of the quarter's won deals shared 60/40 with a teammate")
        n_children, ms = build_targets(director, quarter)
        print(f"\nset 2 company targets and decomposed them to every rep: {n_children} children in {ms:.0f} ms")
        company = Team.objects.get(parent__isnull=True)
        team = Team.objects.filter(kind=TeamKind.TEAM).order_by("path").first()
        client = Client()
        client.force_login(director)
        qs = f"period=quarter&date={quarter.start.isoformat()}"
        results = (
            []
            if args.skip_pages
            else [
                measure(
                    client,
                    "dashboard page, whole company",
                    f"/targets/tracking/?team={company.pk}&{qs}",
                    runs=args.runs,
                ),
                measure(
                    client,
                    f"dashboard page, one team ({team.name})",
                    f"/targets/tracking/?team={team.pk}&{qs}",
                    runs=args.runs,
                ),
                measure(
                    client,
                    "tracking API, whole company",
                    f"/api/targets/tracking?team_id={company.pk}&period_kind=quarter&date={quarter.start}",
                    runs=args.runs,
                ),
                measure(
                    client,
                    "morning board, one team",
                    f"/targets/today/?team={team.pk}&date={quarter.end}",
                    runs=args.runs,
                ),
            ]
        )
        print_table("Dashboards (server time, director)", results)

        n_targets = Target.objects.filter(period_start=quarter.start, period_end=quarter.end).count()
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            selectors.attainment_recompute(period=quarter, as_of=quarter.end)
        p50, p95, paces = timed(lambda: selectors.attainment_recompute(period=quarter, as_of=quarter.end), 5)
        print(
            f"\n## Recompute all attainment for the quarter\n\n{n_targets} approved targets: "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms over 5 runs, {len(ctx.captured_queries)} SQL queries"
        )

        stages = q.StageOrders.load()
        pg = {}
        pg_times = {}
        for metric in METRICS:
            m50, _m95, rows = timed(lambda m=metric: q.grouped(m, quarter, q.ScopeFilter(), by="rep", stages=stages), 3)
            pg[metric], pg_times[metric] = rows, m50
        with tempfile.TemporaryDirectory() as tmp:
            con, export_ms = export_to_duckdb(Path(tmp))
            start_utc, end_utc = (b.astimezone(dt.UTC) for b in quarter.bounds())
            duck, duck_times = {}, {}
            for metric in METRICS:
                sql = duck_sql(metric, stages)
                params = {"start": start_utc, "end": end_utc, "dstart": quarter.start, "dend": quarter.end}
                used = {k: v for k, v in params.items() if f"${k}" in sql}
                d50, _d95, rows = timed(lambda s=sql, p=used: con.execute(s, p).fetchall(), 3)
                duck[metric] = {int(r): int(v) for r, v in rows if r is not None}
                duck_times[metric] = d50
        print(
            f"\n## Same aggregates: PostgreSQL vs DuckDB\n\nexport of {len(EXPORT)} tables to DuckDB "
            f"(CSV via COPY, in the same run): {export_ms:.0f} ms\n"
        )
        print("| metric | PostgreSQL p50 ms | DuckDB p50 ms | ratio PG/DuckDB | reps | identical |")
        print("|---|---|---|---|---|---|")
        for metric in METRICS:
            same = {k: v for k, v in pg[metric].items() if v} == {k: v for k, v in duck[metric].items() if v}
            ratio = pg_times[metric] / duck_times[metric] if duck_times[metric] else float("inf")
            print(
                f"| {metric} | {pg_times[metric]:.1f} | {duck_times[metric]:.1f} | {ratio:.1f}× | "
                f"{len(pg[metric])} | {'yes' if same else 'NO'} |"
            )
        total_pg, total_duck = sum(pg_times.values()), sum(duck_times.values())
        print(
            f"| **all {len(METRICS)} metrics** | {total_pg:.0f} | {total_duck:.0f} | {total_pg / total_duck:.1f}× | | |"
        )
        transaction.set_rollback(True)
    print("\n(all benchmark writes rolled back)")


if __name__ == "__main__":
    main()
