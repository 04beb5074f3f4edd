"""``GET /api/<list>/export`` and its round trip: an export imports back without any change."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from salesloop.activities.models import Activity
from salesloop.audit.models import AuditEntry
from salesloop.customers.models import Account, Contact, Lead
from salesloop.dataio.tests.conftest import upload
from salesloop.pipeline.models import LossReason, Opportunity, StageChange
from salesloop.sales.models import Order, OrderLine
from salesloop.sales.services import order_create
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    ProductFactory,
    stage,
)

MODELS = {
    "accounts": Account,
    "contacts": Contact,
    "leads": Lead,
    "opportunities": Opportunity,
    "activities": Activity,
    "orders": Order,
}


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv(response) -> list[list[str]]:
    text = _content(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def book(org):
    """A rep's book with every kind of value an export writes, and a record they cannot see."""
    product = ProductFactory(sku="SKU-A")
    moment = timezone.now().replace(microsecond=123456)
    tricky = AccountFactory(
        owner=org.rep_a1,
        external_id="A-1",
        name='=HYPERLINK("http://evil","点我")',
        tags=["重点", "华东"],
        notes="私密\n备注",
        phone="+86 138 0000 0000",
        size="small",
        key_account_tier="strategic",
    )
    plain = AccountFactory(owner=org.rep_a1, name="无外部编号公司")
    AccountFactory(owner=org.rep_b1, name="别组客户")
    decider = ContactFactory(
        account=tricky,
        birthday=dt.date(1980, 5, 20),
        is_decision_maker=True,
        email="wang@example.com",
        external_id="C-1",
    )
    ContactFactory(account=plain, phone="-12")
    lead = LeadFactory(owner=org.rep_a1, budget=Decimal("120000.00"), first_touch_at=moment)
    LeadFactory(owner=org.rep_a1, account=tricky, external_id="L-2", status="qualified")
    OpportunityFactory(
        account=tricky,
        probability=Decimal("35.50"),
        lead=lead,
        decision_maker=decider,
        expected_close_date=timezone.localdate() + dt.timedelta(days=30),
        external_id="O-1",
    )
    OpportunityFactory(account=plain, stage=stage("lost"), loss_reason=LossReason.objects.first())
    ActivityFactory(account=tricky, occurred_at=moment, notes="谈了价格", outcome="interested")
    ActivityFactory(account=plain, occurred_at=moment - dt.timedelta(days=400, microseconds=999))
    order_create(
        user=org.rep_a1,
        data={
            "number": "SO-1",
            "account_id": tricky.pk,
            "order_date": "2025-03-01",
            "lines": [
                {
                    "product_id": product.pk,
                    "quantity": Decimal("2.50"),
                    "discount_pct": Decimal("5"),
                }
            ],
        },
    )
    return tricky


def _state():
    return {
        name: sorted(model.objects.values_list("id", "version", "updated_at"))
        for name, model in MODELS.items()
    } | {
        "audit": AuditEntry.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "lines": sorted(OrderLine.objects.values_list("id", "order_id", "quantity")),
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("entity", sorted(MODELS))
def test_export_then_import_changes_nothing_and_duplicates_nothing(org, api_as, book, entity, fmt):
    client = api_as(org.rep_a1)
    before = _state()
    exported = client.get(f"/api/{entity}/export?format={fmt}")
    assert exported.status_code == 200

    response = upload(client, entity, _content(exported), name=f"{entity}.{fmt}")

    assert response.status_code == 200, response.json()["errors"]
    visible = MODELS[entity].objects.filter(
        pk__in=[r["id"] for r in client.get(f"/api/{entity}").json()["items"]]
    )
    assert (response.json()["created"], response.json()["updated"]) == (0, 0)
    assert response.json()["unchanged"] == visible.count() > 0
    assert _state() == before


def test_csv_export_has_the_apis_columns_and_only_what_the_user_may_see(org, api_as, book):
    rows = _csv(api_as(org.rep_a1).get("/api/accounts/export?format=csv"))

    header, body = rows[0], rows[1:]
    assert header[:3] == ["id", "name", "external_id"] and "owner_name" in header
    assert sorted(r[header.index("owner_name")] for r in body) == ["rep_a1", "rep_a1"]


def test_csv_export_applies_the_list_filters(org, api_as, book):
    rows = _csv(api_as(org.rep_a1).get("/api/accounts/export?format=csv&q=无外部编号"))

    assert [r[1] for r in rows[1:]] == ["无外部编号公司"]


def test_exports_neutralise_formulas_but_keep_the_text(org, api_as, book):
    client = api_as(org.rep_a1)

    rows = _csv(client.get("/api/accounts/export?format=csv&q=HYPERLINK"))
    workbook = load_workbook(
        io.BytesIO(_content(client.get("/api/accounts/export?format=xlsx&q=HYPERLINK")))
    )

    assert rows[1][1] == "'" + book.name
    cell = workbook.worksheets[0]["B2"]
    assert (cell.value, cell.data_type) == (book.name, "s")


def test_private_notes_are_blank_in_exports_for_those_who_may_not_read_them(org, api_as, book):
    rows = _csv(api_as(org.finance).get("/api/accounts/export?format=csv"))

    notes = rows[0].index("notes")
    assert {r[notes] for r in rows[1:]} == {""}
    assert len(rows) == 4  # finance reads every account


def test_xlsx_export_keeps_numbers_and_dates_typed(org, api_as, book):
    content = _content(api_as(org.rep_a1).get("/api/orders/export?format=xlsx"))

    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert row["total"] == 2375 and row["order_date"] == dt.datetime(2025, 3, 1)
    assert '"product_id"' in row["lines"]  # lines as JSON, not Python reprs


def test_cli_export_writes_what_the_api_exports(org, api_as, book, tmp_path):
    api_csv = _content(
        api_as(org.finance).get("/api/accounts/export?format=csv&industry=制造业&sort=name")
    )
    target = tmp_path / "accounts.csv"

    call_command(
        "export_data",
        "accounts",
        "--as",
        "finance",
        "--format",
        "csv",
        "-o",
        str(target),
        "--filter",
        "industry=制造业",
        "--sort",
        "name",
    )

    assert target.read_bytes() == api_csv


def test_cli_export_of_xlsx_is_the_reps_book(org, book, tmp_path):
    target = tmp_path / "deals.xlsx"

    call_command(
        "export_data", "opportunities", "--as", "rep_a1", "--format", "xlsx", "-o", str(target)
    )

    rows = list(load_workbook(target, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 3
