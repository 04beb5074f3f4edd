"""The bulk path makes no query per row: 300 rows take a handful more queries than 9.

The few extra queries are the database driver's batches (SQLite binds at most 999 parameters per
statement, so Django splits a 300-row INSERT into several); on PostgreSQL the count is constant.
"""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from salesloop.dataio.bench import _files
from salesloop.dataio.entities import ENTITIES
from salesloop.dataio.services import import_file
from salesloop.testing.factories import ProductFactory

ROWS = 300


def _queries(user, entity: str, content: bytes) -> int:
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        report = import_file(user=user, entity=entity, content=content)
        assert report.ok, report.errors[:3]
        transaction.set_rollback(True)
    return len(captured.captured_queries)


def _first(content: bytes, rows: int) -> bytes:
    lines = content.decode("utf-8").splitlines(keepends=True)
    return "".join(lines[: rows + 1]).encode("utf-8")


@pytest.mark.parametrize(
    "entity", ["accounts", "contacts", "leads", "opportunities", "activities", "orders"]
)
def test_300_rows_take_no_query_per_row(org, entity):
    for k in range(3):
        ProductFactory(sku=f"SKU-{k}", list_price=Decimal("1000.00"), cost=Decimal("600.00"))
    new, changed = _files(ROWS, ""), _files(ROWS, "*")
    user = org.lead_a1
    ContentType.objects.get_for_model(ENTITIES[entity].model)  # cached after the first lookup
    if entity != "accounts":  # the other entities refer to these accounts
        assert import_file(user=user, entity="accounts", content=new["accounts"]).ok

    creates = [_queries(user, entity, _first(new[entity], n)) for n in (9, ROWS)]
    assert import_file(user=user, entity=entity, content=new[entity]).ok
    updates = [_queries(user, entity, _first(changed[entity], n)) for n in (9, ROWS)]

    extra = ROWS // 20  # at least 20 rows per additional query
    assert creates[1] - creates[0] <= extra, (
        f"{entity} create: {creates} queries for 9 and {ROWS} rows"
    )
    assert updates[1] - updates[0] <= extra, (
        f"{entity} update: {updates} queries for 9 and {ROWS} rows"
    )
    if connection.vendor == "postgresql":
        assert (creates[0], updates[0]) == (creates[1], updates[1])
