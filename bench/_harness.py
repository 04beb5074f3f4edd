"""Shared benchmark harness: in-process requests, server time and SQL query counts.

Server time is measured around Django's handler (test client, no network), so it is the time the
server spends on a request; medians and p95 over N runs after a warm-up. Query counts come from
``CaptureQueriesContext``. Run against a database loaded with ``manage.py demo --size M``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesloop.settings")
os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/salesloop_bench")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


@dataclass
class Result:
    name: str
    status: int
    p50_ms: float
    p95_ms: float
    queries: int
    runs: int


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure(client: Client, name: str, path: str, *, runs: int = 30, warmup: int = 3, **headers) -> Result:
    for _ in range(warmup):
        client.get(path, **headers)
    times = []
    status = 0
    queries = 0
    for i in range(runs):
        if i == 0:
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(path, **headers)
                times.append(time.perf_counter() - start)
            queries = len(ctx.captured_queries)
        else:
            start = time.perf_counter()
            response = client.get(path, **headers)
            times.append(time.perf_counter() - start)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        status = response.status_code
    return Result(name, status, statistics.median(times) * 1000, percentile(times, 0.95) * 1000, queries, runs)


def print_table(title: str, results: list[Result]) -> None:
    print(f"\n## {title}\n")
    print("| request | status | p50 ms | p95 ms | SQL queries | runs |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.name} | {r.status} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.queries} | {r.runs} |")


def describe_database() -> str:
    from salesloop.activities.models import Activity
    from salesloop.customers.models import Account
    from salesloop.org.models import User
    from salesloop.sales.models import Order

    vendor = connection.vendor
    return (
        f"database={vendor} {connection.settings_dict.get('NAME')}; users={User.objects.count()}, "
        f"accounts={Account.objects.count()}, activities={Activity.objects.count()}, orders={Order.objects.count()}"
    )
