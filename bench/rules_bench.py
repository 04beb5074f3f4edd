"""Benchmark: one rules sweep over a whole database — seconds and SQL queries per sweep.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench \
        .venv/bin/python bench/rules_bench.py
    .venv/bin/python bench/rules_bench.py --database-url sqlite:////tmp/small.sqlite3 --json o.json

The clock is frozen at 09:00 (organisation time) on the day after the data's last activity (the
demo's "as of" day), so the data looks like a live organisation's Monday morning. Three sweeps run,
all inside one transaction that is rolled back at the end (the shared benchmark database keeps
no tasks from this):

1. *first*: every time-based rule fires for everything due today (birthdays in 3 days, contracts
   ending within 30 days, invoices >30 days overdue, weekly/daily deal reviews) — a one-off
   flood when the automation is switched on over existing data;
2. *steady*: the same sweep again five minutes later — what every sweep of the day costs;
3. *next day*: 24 hours later — the new day's slots (daily reviews, birthdays entering the
   window) fire, the rest is already in the ledger.

It reports seconds, SQL queries (and how many of them are INSERT/UPDATE/DELETE) and what was
created; then it prepares the next morning's brief for every rep and lead (seconds, queries).
The claim under test: the number of queries does not grow with the number of records; inserts
come in batches of 1,000 new rows, so they follow what is *created*, never what is scanned.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Rollback(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--as-of", help="The data's today (YYYY-MM-DD); default: the day after the last activity."
    )
    parser.add_argument("--json", help="Also write the figures to this file.")
    parser.add_argument(
        "--all-rules", action="store_true", help="Include event rules (default: time-based only)."
    )
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesloop.settings")

    import django

    django.setup()

    import time_machine
    from django.db import connection, transaction
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext

    from salesloop.activities.models import Activity, Task
    from salesloop.automation.briefs import morning_briefs_send
    from salesloop.automation.engine import rules_sweep
    from salesloop.automation.models import Rule
    from salesloop.automation.triggers import TRIGGERS
    from salesloop.automation.workcalendar import WorkCalendar
    from salesloop.customers.models import Account, Contact
    from salesloop.notifications.models import Notification
    from salesloop.pipeline.models import Opportunity
    from salesloop.sales.models import Contract, Invoice

    if args.as_of:
        as_of = dt.date.fromisoformat(args.as_of)
    else:
        last = Activity.objects.aggregate(last=Max("occurred_at"))["last"]
        as_of = (last.date() + dt.timedelta(days=1)) if last else dt.date.today()
    cal = WorkCalendar.load()
    start = cal.at(as_of, dt.time(9, 0))

    size = {
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "contacts_with_birthday": Contact.objects.filter(birthday__isnull=False).count(),
        "invoices": Invoice.objects.count(),
        "open_invoices": Invoice.objects.filter(status="open").count(),
        "contracts": Contract.objects.count(),
        "open_deals": Opportunity.objects.filter(closed_at__isnull=True).count(),
        "activities": Activity.objects.count(),
        "tasks_before": Task.objects.count(),
    }

    def sweep(label: str) -> dict:
        tasks_before, notes_before = Task.objects.count(), Notification.objects.count()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            result = rules_sweep()
            seconds = time.perf_counter() - began
        sql = [q["sql"].lstrip().split(None, 1)[0].upper() for q in queries.captured_queries]
        return {
            "sweep": label,
            "seconds": round(seconds, 3),
            "queries": len(sql),
            "write_queries": sum(1 for s in sql if s in ("INSERT", "UPDATE", "DELETE")),
            "read_queries": sum(1 for s in sql if s in ("SELECT", "WITH")),
            "tasks_created": Task.objects.count() - tasks_before,
            "notifications_created": Notification.objects.count() - notes_before,
            "fired_by_rule": result["rules"],
            "seconds_by_phase": result["seconds"],
            "closed": result["closed"],
            "escalated": result["escalated"],
        }

    # A running worker has imported everything; the first reverse() would import every view
    # module here (and this machine compiles each one: PYTHONDONTWRITEBYTECODE), so load them first.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    runs: list[dict] = []
    with time_machine.travel(start, tick=True) as clock:
        try:
            with transaction.atomic():
                if not args.all_rules:
                    time_codes = [c for c, spec in TRIGGERS.items() if spec.kind == "time"]
                    Rule.objects.exclude(trigger__in=time_codes).update(is_active=False)
                active = list(Rule.objects.filter(is_active=True).values_list("code", flat=True))
                runs.append(sweep("first"))
                clock.shift(dt.timedelta(minutes=5))
                runs.append(sweep("steady"))
                clock.shift(dt.timedelta(days=1))
                runs.append(sweep("next day"))
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    briefs = morning_briefs_send()["briefs"]
                    brief = {
                        "briefs": briefs,
                        "seconds": round(time.perf_counter() - began, 3),
                        "queries": len(queries.captured_queries),
                    }
                raise Rollback
        except Rollback:
            pass

    report = {
        "database": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]).rsplit("/", 1)[-1],
        "as_of": as_of.isoformat(),
        "clock": start.isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "size": size,
        "rules": active,
        "runs": runs,
        "morning_brief": brief,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
