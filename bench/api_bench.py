"""API benchmark (issue #2 §10): p50/p95 server time and SQL queries of the main endpoints.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench .venv/bin/python bench/api_bench.py [--runs 30]

Needs a database loaded with ``manage.py demo --size M`` (see bench/README.md). Measures, for a rep, a
manager and the director: the list endpoints at page sizes 50 and 200 (the query count must be the
same at both), the detail endpoints, and the data behind a rep's home page.
"""

from __future__ import annotations

import argparse
import platform

from _harness import describe_database, measure, print_table
from django.db.models import Count

from salesloop.activities.models import Activity
from salesloop.customers.models import Account
from salesloop.org.models import ApiToken, Role, User
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Order


def pick_users() -> dict[str, User]:
    rep = User.objects.filter(role=Role.REP, is_active=True).annotate(n=Count("accounts")).order_by("-n").first()
    manager = User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    return {k: v for k, v in {"rep": rep, "manager": manager, "director": director}.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from django.test import Client

    print(
        f"# Salesloop API benchmark\n\nmachine: {platform.node()} {platform.machine()}, python {platform.python_version()}"
    )
    print(describe_database())
    users = pick_users()
    for role, user in users.items():
        _token, key = ApiToken.issue(user=user, name="bench")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        account = (
            Account.objects.filter(owner=user).first()
            if role == "rep"
            else Account.objects.filter(owner__team__path__startswith=user.team.path).first()
        )
        deal = Opportunity.objects.filter(account=account).first() if account else None
        order = Order.objects.filter(account=account).first() if account else None
        results = []
        for resource in ("accounts", "opportunities", "activities", "tasks", "orders", "invoices", "leads", "contacts"):
            for size in (50, 200):
                results.append(
                    measure(
                        client,
                        f"GET /api/{resource}?page_size={size}",
                        f"/api/{resource}?page_size={size}",
                        runs=args.runs,
                    )
                )
        if account:
            results.append(measure(client, "GET /api/accounts/{id}", f"/api/accounts/{account.pk}", runs=args.runs))
            results.append(
                measure(client, "GET /api/accounts/{id}/history", f"/api/accounts/{account.pk}/history", runs=args.runs)
            )
            results.append(
                measure(
                    client,
                    "GET /api/activities?account_id={id}",
                    f"/api/activities?account_id={account.pk}",
                    runs=args.runs,
                )
            )
        if deal:
            results.append(
                measure(client, "GET /api/opportunities/{id}", f"/api/opportunities/{deal.pk}", runs=args.runs)
            )
        if order:
            results.append(measure(client, "GET /api/orders/{id}", f"/api/orders/{order.pk}", runs=args.runs))
        results.append(
            measure(
                client,
                "GET /api/opportunities?is_open=true&sort=expected_close_date",
                "/api/opportunities?is_open=true&sort=expected_close_date",
                runs=args.runs,
            )
        )
        results.append(
            measure(client, "GET /api/accounts?q=科技", "/api/accounts?q=%E7%A7%91%E6%8A%80", runs=args.runs)
        )
        # The data a rep's home page shows, through the API: today's open tasks, open pipeline, recent activity.
        results.append(
            measure(client, "home: open tasks due", "/api/tasks?status=open&sort=due_at&page_size=20", runs=args.runs)
        )
        results.append(measure(client, "home: recent activity", "/api/activities?page_size=20", runs=args.runs))
        results.append(
            measure(client, "home: open pipeline", "/api/opportunities?is_open=true&page_size=50", runs=args.runs)
        )
        print_table(f"{role} {user.username} (team {user.team})", results)
        ApiToken.objects.filter(user=user, name="bench").delete()
    print(f"\nactivities visible to director: {Activity.objects.count()}")


if __name__ == "__main__":
    main()
