"""Page benchmark (issue #3 item 8): p50/p95 server time and SQL queries of the main pages.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench \
        .venv/bin/python bench/pages_bench.py [--runs 20]

Server time is measured around Django's handler with the test client (no network, no browser),
for a rep (the one with the most deals), a manager and the director: rep home, manager home,
pipeline board, account list, account 360 and opportunity list. Needs a database loaded with
``manage.py demo --size M`` (any size works; the header says what was measured).
"""

from __future__ import annotations

import argparse
import platform

from _harness import Result, describe_database, measure, print_table
from django.db.models import Count

from salesloop.customers.models import Account
from salesloop.org.models import Role, User
from salesloop.pipeline.models import Opportunity


def pick_users() -> dict[str, User]:
    rep = (
        User.objects.filter(role=Role.REP, is_active=True)
        .annotate(n=Count("opportunities"))
        .order_by("-n", "pk")
        .first()
    )
    manager = User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    return {k: v for k, v in {"rep": rep, "manager": manager, "director": director}.items() if v}


def busiest_account(user: User) -> Account | None:
    """The account with the most activities in ``user``'s reach: the heaviest 360 page."""
    from salesloop.org import access

    return (
        access.restrict(Account.objects.all(), user)
        .annotate(n=Count("activities"))
        .order_by("-n", "pk")
        .first()
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from django.test import Client

    print(
        f"# Salesloop page benchmark\n\nmachine: {platform.node()} {platform.machine()}, "
        f"{platform.processor() or 'cpu n/a'}, python {platform.python_version()}"
    )
    print(describe_database() + f", opportunities={Opportunity.objects.count()}")
    for role, user in pick_users().items():
        client = Client()
        client.force_login(user)
        pages = [
            ("home" if role != "rep" else "rep home", "/"),
            ("pipeline board", "/board/"),
            ("account list", "/accounts/"),
            ("opportunity list", "/opportunities/"),
        ]
        if role != "rep":
            pages[0] = ("manager home", "/")
        account = busiest_account(user)
        if account is not None:
            pages.append(("account 360", f"/accounts/{account.pk}/"))
        results: list[Result] = [
            measure(client, f"GET {path} ({name})", path, runs=args.runs) for name, path in pages
        ]
        print_table(f"{role}: {user.username} ({user.get_role_display()})", results)


if __name__ == "__main__":
    main()
