"""Analytics views benchmark: regional distribution, lead sources and campaigns, won-deal profile.

Run against the size-M PostgreSQL database (``salesloop_bench``), read only:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench \\
        .venv/bin/python bench/analytics_views_bench.py [--runs 20]

1. Server time (p50/p95) and SQL query count of ``GET /api/intel/analytics/regions``, ``/sources``
   (by source and by campaign) and ``/won-profile`` over the last 365 days, through Django's handler
   (``_harness.measure``), as the director (whole company) and as a manager (one team's subtree).
2. The bare query functions (``analytics.queries.regional`` / ``lead_sources`` / ``won_profile``)
   timed the same way, so the handler overhead is visible.

Nothing is written: the API token the client needs is issued inside a transaction that is rolled
back at the end (the requests run in-process on the same connection, so they see it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

import _harness  # noqa: F401  (sets up Django)
from _harness import Result, describe_database, measure, percentile, print_table
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salesloop.analytics.queries.lead_sources import lead_source_effectiveness
from salesloop.analytics.queries.regional import regional_distribution
from salesloop.analytics.queries.won_profile import won_deal_profile
from salesloop.intel import services_analytics as svc
from salesloop.org.models import ApiToken, Role, User


def _timed(name: str, fn, runs: int) -> Result:
    fn()  # warm-up
    times = []
    queries = 0
    for i in range(runs):
        if i == 0:
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            queries = len(ctx.captured_queries)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return Result(name, 0, statistics.median(times) * 1000, percentile(times, 0.95) * 1000, queries, runs)


def _client(user: User) -> Client:
    _token, key = ApiToken.issue(user=user, name="analytics-views-bench")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    print(describe_database())
    print(f"load average before: {os.getloadavg()}")
    end = timezone.localdate()
    start = end - dt.timedelta(days=364)
    period = f"start={start}&end={end}"
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    manager = User.objects.filter(role=Role.MANAGER, is_active=True, team__isnull=False).order_by("pk").first()

    with transaction.atomic():
        server: list[Result] = []
        for label, user in (("director", director), ("manager", manager)):
            if user is None:
                continue
            client = _client(user)
            for name, path in (
                ("regions by province", f"/api/intel/analytics/regions?{period}&level=province"),
                ("regions by city", f"/api/intel/analytics/regions?{period}&level=city"),
                ("sources by source", f"/api/intel/analytics/sources?{period}&by=source"),
                ("sources by campaign", f"/api/intel/analytics/sources?{period}&by=campaign"),
                ("won-deal profile", f"/api/intel/analytics/won-profile?{period}"),
            ):
                server.append(measure(client, f"{name}, {label}", path, runs=args.runs, warmup=2))
        print_table("Server time, 365 days (PostgreSQL, in-process handler)", server)

        accounts, deals = svc.regional_scope(director)
        leads = svc.source_scope(director)
        profile_deals = svc.profile_scope(director)
        bare = [
            _timed(
                "regional_distribution(province)",
                lambda: regional_distribution(
                    visible_accounts=accounts, visible_opportunities=deals, start=start, end=end, level="province"
                ),
                args.runs,
            ),
            _timed(
                "lead_source_effectiveness(campaign)",
                lambda: lead_source_effectiveness(visible_leads=leads, start=start, end=end, by="campaign"),
                args.runs,
            ),
            _timed(
                "won_deal_profile",
                lambda: won_deal_profile(visible_opportunities=profile_deals, start=start, end=end),
                args.runs,
            ),
        ]
        print_table("Query functions alone (director)", bare)
        transaction.set_rollback(True)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
