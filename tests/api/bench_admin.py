"""Admin pages at scale: server time and SQL queries on the demo organisation of size M.

    .venv/bin/python -m tests.api.bench_admin            # against salesloop_bench (see bench/README.md)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> .venv/bin/python -m tests.api.bench_admin

Needs a database loaded with ``bench/demo_load.py`` (size M: 100,000 accounts, 120,000
opportunities, 2,000,000 activities, 500,000 orders). Runs inside one transaction that is rolled
back: the admin user's staff flag and the session rows it writes do not stay.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _harness import Client, describe_database, measure, print_table  # noqa: E402
from django.db import transaction  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
AUTOCOMPLETE_OWNER = "app_label=customers&model_name=account&field_name=owner"


def main() -> None:
    from salesloop.activities.models import Activity
    from salesloop.customers.models import Account
    from salesloop.org.models import Role, User
    from salesloop.pipeline.models import Opportunity
    from salesloop.sales.models import Order

    with transaction.atomic():
        admin_user = User.objects.filter(role=Role.ADMIN).order_by("pk").first() or User.objects.order_by("pk").first()
        User.objects.filter(pk=admin_user.pk).update(is_staff=True, is_superuser=True, is_active=True)
        admin_user.refresh_from_db()
        client = Client()
        client.force_login(admin_user)
        account = Account.objects.order_by("-pk").first()
        deal = Opportunity.objects.order_by("-pk").first()
        order = Order.objects.order_by("-pk").first()
        activity = Activity.objects.order_by("-pk").first()
        pages = [
            ("accounts: list", "/admin/customers/account/"),
            ("accounts: list, page 500", "/admin/customers/account/?p=500"),
            ("accounts: search by name", f"/admin/customers/account/?q={account.name[:4]}"),
            ("accounts: change form + history", f"/admin/customers/account/{account.pk}/change/"),
            ("accounts: add form", "/admin/customers/account/add/"),
            ("opportunities: list", "/admin/pipeline/opportunity/"),
            ("opportunities: change form", f"/admin/pipeline/opportunity/{deal.pk}/change/"),
            ("activities: list (2M rows)", "/admin/activities/activity/"),
            ("activities: change form", f"/admin/activities/activity/{activity.pk}/change/"),
            ("orders: change form + lines", f"/admin/sales/order/{order.pk}/change/"),
            ("payments: list", "/admin/sales/payment/"),
            ("audit log: list", "/admin/audit/auditentry/"),
            ("people: autocomplete", f"/admin/autocomplete/?{AUTOCOMPLETE_OWNER}&term=a"),
        ]
        results = [measure(client, name, path, runs=RUNS, warmup=2) for name, path in pages]
        transaction.set_rollback(True)

    load = os.getloadavg()
    print(f"\n{describe_database()}\nmachine: {platform.machine()}, {os.cpu_count()} cores, load {load[0]:.1f}")
    print_table("Django admin", results)


if __name__ == "__main__":
    main()
