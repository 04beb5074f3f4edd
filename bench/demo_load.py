"""Benchmark: load the demo organisation (size M) into a fresh PostgreSQL database.

    .venv/bin/python bench/demo_load.py                 # size M into salesloop_bench
    .venv/bin/python bench/demo_load.py --size S --database salesloop_bench_s

Drops and re-creates the database, migrates it, runs ``manage.py demo --size M`` and prints the
wall time of each phase (as the demo command measures them), the rows per table counted back
from the database, and the realism figures measured on the loaded data. The database is left
loaded so other benchmarks can run against it. Target (issue #2): M in under 10 minutes on the
project's 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"


def _run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def _machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {cpu or platform.processor()}, Python {platform.python_version()}"
    )


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--as-of", dest="as_of", default=None, help="the demo's today (default: today)"
    )
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help="PostgreSQL server URL without a database"
    )
    parser.add_argument("--database", default="salesloop_bench")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the results here")
    args = parser.parse_args()

    url = f"{args.server}/{args.database}"
    env = {**os.environ, "DATABASE_URL": url}
    print(f"machine: {_machine()}; load average at start: {_load()}")
    results: dict = {"size": args.size, "seed": args.seed, "database": args.database, "phases": {}}
    phases = results["phases"]

    started = time.perf_counter()
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        server_version = admin.execute("SHOW server_version").fetchone()[0]
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')
    phases["drop and create database"] = time.perf_counter() - started
    print(f"PostgreSQL {server_version}; database {args.database} created")

    phases["migrate"] = _run(["migrate", "--no-input", "-v0"], env)
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "demo.json"
        demo_args = [
            "demo",
            "--size",
            args.size,
            "--seed",
            str(args.seed),
            "--report-json",
            str(report_path),
        ]
        if args.as_of:
            demo_args += ["--as-of", args.as_of]
        phases["demo (whole command)"] = _run(demo_args, env)
        report = json.loads(report_path.read_text())
    results["demo_phases"] = report["phases"]
    results["as_of"] = report["as_of"]

    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE schemaname = current_schema() ORDER BY relname"
        ).fetchall()
        counts = {}
        for (table,) in tables:
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if n:
                counts[table] = n
        size = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]
    results["rows"] = counts
    results["database_size"] = size

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesloop.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from salesloop.demo.realism import measure

    clock = time.perf_counter()
    results["figures"] = measure(as_of=dt.date.fromisoformat(report["as_of"]))
    results["measure_seconds"] = time.perf_counter() - clock
    results["load_average_at_end"] = _load()

    load_seconds = (
        phases["drop and create database"] + phases["migrate"] + phases["demo (whole command)"]
    )
    print(
        f"\nsize {args.size}, seed {args.seed}, as of {report['as_of']}; "
        f"load average at end: {_load()}"
    )
    print("\nphase                               seconds")
    for name, seconds in phases.items():
        print(f"  {name:<32} {seconds:8.1f}")
    print("  demo command's own phases:")
    for name, seconds in report["phases"].items():
        print(f"    {name:<30} {seconds:8.1f}")
    print(f"  {'total (fresh database to loaded)':<32} {load_seconds:8.1f}")
    print(f"\nrows (counted in the database, {size} on disk)")
    for table, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {table:<32} {n:>12,}")
    print(f"  {'total':<32} {sum(counts.values()):>12,}")
    print(f"\nfigures measured on the loaded data ({results['measure_seconds']:.1f} s)")
    for name, value in results["figures"].items():
        print(f"  {name:<32} {value}")
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(results, indent=2, ensure_ascii=False, default=str)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
