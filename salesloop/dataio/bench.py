"""Import benchmark: how long a 10k-row file takes, per entity, on SQLite or PostgreSQL.

    .venv/bin/python -m salesloop.dataio.bench --rows 10000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_dataio \
        .venv/bin/python -m salesloop.dataio.bench

Runs in a throw-away test database (``test_<name>``, created and dropped like the test suite's),
as a group lead importing into their group's book: each entity's file is imported as a dry run,
for real (all rows new), again unchanged (all rows matched, nothing written) and again with every
row changed (all rows updated, versions bumped, audit entries written). Orders have three lines
each, so 10,000 rows are 3,334 orders. ``--services N`` also times the per-row service path on N
rows, for comparison. Times are wall-clock seconds around ``dataio.services.import_file`` (file
parsing included); the upload through the API is timed once for accounts.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesloop.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")


def _files(rows: int, variant: str) -> dict[str, bytes]:
    """CSV files of ``rows`` rows per entity; ``variant`` changes every free-text value."""
    import csv
    import io

    reps = ["rep_a1", "rep_a1b"]

    def to_csv(table: list[list]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(table)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    n = range(rows)
    return {
        "accounts": to_csv(
            [
                [
                    "external_id",
                    "name",
                    "industry",
                    "province",
                    "city",
                    "owner",
                    "size",
                    "tags",
                    "phone",
                ]
            ]
            + [
                [
                    f"A{i}",
                    f"客户{i}{variant}",
                    "制造业",
                    "浙江省",
                    "杭州市",
                    reps[i % 2],
                    "small",
                    "重点,华东",
                    f"138{i:08d}",
                ]
                for i in n
            ]
        ),
        "contacts": to_csv(
            [["external_id", "account_external_id", "name", "title", "email", "is_decision_maker"]]
            + [
                [f"C{i}", f"A{i}", f"联系人{i}", f"经理{variant}", f"c{i}@example.com", "是"]
                for i in n
            ]
        ),
        "leads": to_csv(
            [["external_id", "name", "company", "source", "budget", "owner", "status"]]
            + [
                [
                    f"L{i}",
                    f"线索{i}{variant}",
                    f"公司{i}",
                    "expo",
                    f"{10000 + i}.50",
                    reps[i % 2],
                    "new",
                ]
                for i in n
            ]
        ),
        "opportunities": to_csv(
            [
                [
                    "external_id",
                    "name",
                    "account_external_id",
                    "owner",
                    "amount",
                    "stage",
                    "expected_close_date",
                ]
            ]
            + [
                [
                    f"O{i}",
                    f"商机{i}{variant}",
                    f"A{i}",
                    reps[i % 2],
                    f"{50000 + i}",
                    ["lead", "qualified", "proposal"][(i + len(variant)) % 3],
                    "2099-12-31",
                ]
                for i in n
            ]
        ),
        "activities": to_csv(
            [["external_id", "kind", "subject", "occurred_at", "account_external_id", "owner"]]
            + [
                [f"V{i}", "visit", f"拜访{variant}", "2025-03-01 10:00", f"A{i}", reps[i % 2]]
                for i in n
            ]
        ),
        "orders": to_csv(
            [
                [
                    "number",
                    "account_external_id",
                    "owner",
                    "order_date",
                    "product_sku",
                    "quantity",
                    "discount_pct",
                ]
            ]
            + [
                [
                    f"SO{i // 3}",
                    f"A{i // 3}",
                    reps[(i // 3) % 2],
                    "2025-03-01",
                    f"SKU-{i % 3}",
                    str(1 + i % 5 + len(variant)),
                    "5",
                ]
                for i in n
            ]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--services", type=int, default=1000, help="Rows to time on the per-row path (0: skip)."
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.IMPORT_MAX_ROWS = max(args.rows, 100_000)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from salesloop.dataio.services import import_file
        from salesloop.org.models import ApiToken
        from salesloop.testing.factories import ProductFactory
        from salesloop.testing.org import build_org

        org = build_org()
        for k in range(3):
            ProductFactory(sku=f"SKU-{k}", list_price=Decimal("1000.00"), cost=Decimal("600.00"))
        user = org.lead_a1
        vendor = connection.vendor
        print(
            f"# Import benchmark: {args.rows} rows per file, {vendor} "
            f"({connection.settings_dict['NAME']}), "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"
        )
        print(f"{'entity':<14} {'run':<22} {'wall s':>8} {'CPU s':>7} {'rows/s':>8}  result")
        first, second = _files(args.rows, ""), _files(args.rows, "*")
        for entity in ("accounts", "contacts", "leads", "opportunities", "activities", "orders"):
            for label, content, dry in (
                ("dry run (all new)", first[entity], True),
                ("commit (all new)", first[entity], False),
                ("re-import (unchanged)", first[entity], False),
                ("commit (all changed)", second[entity], False),
            ):
                started, cpu = time.perf_counter(), time.process_time()
                report = import_file(
                    user=user, entity=entity, content=content, file_name="bench.csv", dry_run=dry
                )
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                assert report.ok, report.errors[:5]
                result = (
                    f"created {report.created}, updated {report.updated}, "
                    f"unchanged {report.unchanged}"
                )
                print(
                    f"{entity:<14} {label:<22} {seconds:>8.2f} {cpu:>7.2f} "
                    f"{args.rows / seconds:>8.0f}  {result}",
                    flush=True,
                )
        if args.services:
            few = _files(args.services, "#")["accounts"]
            for engine in ("services", "bulk"):
                started, cpu = time.perf_counter(), time.process_time()
                report = import_file(
                    user=user, entity="accounts", content=few, dry_run=True, engine=engine
                )
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                print(
                    f"{'accounts':<14} {f'{engine}, {args.services} rows':<22} "
                    f"{seconds:>8.2f} {cpu:>7.2f} "
                    f"{args.services / seconds:>8.0f}  dry run, updated {report.updated}",
                    flush=True,
                )
        _token, key = ApiToken.issue(user=user, name="bench")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        client.get("/api/me")  # warm-up: the first request loads the URL conf and builds the API
        started, cpu = time.perf_counter(), time.process_time()
        response = client.post(
            "/api/import/accounts?dry_run=true",
            {"file": SimpleUploadedFile("accounts.csv", first["accounts"])},
        )
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{'accounts':<14} {'API upload, dry run':<22} {seconds:>8.2f} {cpu:>7.2f} "
            f"{args.rows / seconds:>8.0f}  HTTP {response.status_code}, "
            f"{len(first['accounts'])} bytes, unchanged {response.json()['unchanged']}"
        )
        print(f"# load average during the run: {os.getloadavg()}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
