"""The bulk import must behave exactly like sending each row through the API's services.

Each case imports the same file twice in rolled-back transactions, once with
``engine="services"`` (``record_create``/``record_update``, ``opportunity_create``/``_update``,
``order_create``/``_update``, one row at a time) and once with the bulk path, and requires the
same report (every error's row, column and message; the counts) and the same database
afterwards: records, versions, audit entries, stage changes, order lines.
"""

from decimal import Decimal

import pytest
from django.db import transaction

from salesloop.activities.models import Activity
from salesloop.audit.models import AuditEntry
from salesloop.customers.models import Account, Contact, Lead
from salesloop.dataio.services import import_file
from salesloop.dataio.tests.conftest import csv_bytes
from salesloop.pipeline.models import Opportunity, StageChange
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

_TIMING = {"closed_at", "stage_entered_at", "created_at", "updated_at", "id"}


def _rows(model, key):
    out = []
    for obj in model.objects.order_by(key, "name" if hasattr(model, "name") else "id"):
        data = {
            f.attname: getattr(obj, f.attname)
            for f in model._meta.concrete_fields
            if f.attname not in _TIMING
        }
        data["closed"] = getattr(obj, "closed_at", None) is not None
        out.append(data)
    return out


def _state():
    """Everything an import may write, without ids and clock readings."""
    return {
        "accounts": _rows(Account, "external_id"),
        "contacts": _rows(Contact, "external_id"),
        "leads": _rows(Lead, "external_id"),
        "opportunities": _rows(Opportunity, "external_id"),
        "activities": _rows(Activity, "external_id"),
        "orders": _rows(Order, "number"),
        "lines": sorted(
            (
                ln.order.number,
                ln.product.sku,
                ln.quantity,
                ln.unit_price,
                ln.discount_pct,
                ln.line_total,
                ln.line_cost,
            )
            for ln in OrderLine.objects.select_related("order", "product")
        ),
        "audit": sorted(
            (
                e.content_type.model,
                e.object_repr,
                e.action,
                e.actor_id,
                e.source,
                tuple(sorted((k, str(v)) for k, v in e.changes.items() if k not in _TIMING)),
                tuple(sorted(k for k in e.changes if k in _TIMING)),
            )
            for e in AuditEntry.objects.select_related("content_type")
        ),
        "stage_changes": sorted(
            (c.opportunity.name, c.from_stage_id, c.to_stage_id, c.amount, c.changed_by_id)
            for c in StageChange.objects.select_related("opportunity")
        ),
    }


def _run(user, entity, content, engine):
    with transaction.atomic():
        report = import_file(
            user=user, entity=entity, content=content, file_name="f.csv", engine=engine
        )
        result = (
            [e.as_dict() for e in report.errors],
            (report.created, report.updated, report.unchanged),
            report.status,
            _state(),
        )
        transaction.set_rollback(True)
    return result


def assert_same(user, entity, rows):
    content = csv_bytes(rows)
    by_services = _run(user, entity, content, "services")
    in_bulk = _run(user, entity, content, "bulk")
    assert in_bulk[0] == by_services[0], "errors differ"
    assert in_bulk[1:3] == by_services[1:3], "counts differ"
    assert in_bulk[3] == by_services[3], "database differs"
    return in_bulk


@pytest.fixture
def book(org):
    acc1 = AccountFactory(owner=org.rep_a1, external_id="ACC-1", name="甲公司", tags=["老客户"])
    acc2 = AccountFactory(owner=org.rep_a1b, external_id="ACC-2", name="乙公司", industry="IT")
    AccountFactory(owner=org.rep_b1, external_id="ACC-B", name="丙公司")
    ContactFactory(account=acc1, external_id="C-1", name="张三")
    LeadFactory(owner=org.rep_a1, external_id="L-1", name="展会线索")
    OpportunityFactory(account=acc1, external_id="OPP-1", name="ERP 项目", stage=stage("qualified"))
    ActivityFactory(account=acc1, external_id="ACT-1", subject="首次拜访")
    p1 = ProductFactory(sku="SKU-A", list_price=Decimal("1000.00"), cost=Decimal("600.00"))
    p2 = ProductFactory(
        sku="SKU-B",
        list_price=Decimal("250.00"),
        minimum_price=Decimal("200.00"),
        cost=Decimal("100.00"),
    )
    for number, lines in (("SO-1", [(p1, "2")]), ("SO-3", [(p2, "4")])):
        order_create(
            user=org.rep_a1,
            data={
                "number": number,
                "account_id": acc1.pk,
                "order_date": "2025-03-01",
                "lines": [{"product_id": p.pk, "quantity": Decimal(q)} for p, q in lines],
            },
        )
    AuditEntry.objects.all().delete()
    return {"acc1": acc1, "acc2": acc2}


def test_accounts_bulk_equals_services_for_creates_updates_and_unchanged_rows(org, book):
    _errors, counts, status, state = assert_same(
        org.manager_a,
        "accounts",
        [
            [
                "external_id",
                "name",
                "industry",
                "owner",
                "tags",
                "size",
                "key_account_tier",
                "phone",
                "version",
            ],
            [
                "ACC-1",
                "甲公司（新）",
                "制造业",
                "rep_a2",
                "a,b",
                "small",
                "strategic",
                "+86 138",
                "1",
            ],
            ["ACC-2", "乙公司", "IT", "rep_a1b", "", "", "", "", ""],
            ["NEW-1", "新客户", "IT", "rep_a1b", "", "", "", "", ""],
            ["", "无编号客户", "", "", "", "", "", "", ""],
        ],
    )
    assert status == 200 and counts == (2, 1, 1)
    assert any(a["name"] == "甲公司（新）" and a["version"] == 2 for a in state["accounts"])


def test_accounts_bulk_reports_the_same_errors_as_services(org, book):
    errors, _counts, status, _state_ = assert_same(
        org.manager_a,
        "accounts",
        [
            ["external_id", "name", "owner", "size"],
            ["NEW-2", "", "", ""],
            ["NEW-3", "某公司", "rep_b1", ""],
            ["ACC-1", "甲公司", "rep_b1", ""],
            ["NEW-4", "某公司", "", "huge"],
        ],
    )
    assert status == 422
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "name"),
        (3, "owner"),
        (4, "owner"),
        (5, "size"),
    ]


def test_contacts_bulk_equals_services(org, book):
    assert_same(
        org.manager_a,
        "contacts",
        [
            [
                "external_id",
                "account_external_id",
                "account",
                "name",
                "email",
                "birthday",
                "is_decision_maker",
            ],
            ["C-1", "ACC-1", "", "张三", "zhang@example.com", "1980-05-20", "是"],
            ["C-2", "", "乙公司", "李四", "", "", "否"],
            ["", "ACC-2", "", "王五", "", "", ""],
        ],
    )
    errors, *_rest = assert_same(
        org.manager_a,
        "contacts",
        [
            ["external_id", "account_external_id", "name", "email"],
            ["C-3", "ACC-1", "赵六", "not-an-email"],
            ["C-4", "ACC-1", "", ""],
            ["C-5", "", "孙七", ""],
        ],
    )
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "email"),
        (3, "name"),
        (4, "account_external_id"),
    ]


def test_leads_bulk_equals_services(org, book):
    assert_same(
        org.manager_a,
        "leads",
        [
            [
                "external_id",
                "name",
                "budget",
                "currency",
                "status",
                "owner",
                "source",
                "first_touch_at",
            ],
            ["L-1", "展会线索", "120000", "cny", "contacted", "rep_a1", "expo", "2025-03-01 09:30"],
            ["L-2", "官网线索", "", "", "", "", "website", ""],
        ],
    )
    errors, *_rest = assert_same(
        org.manager_a,
        "leads",
        [
            ["external_id", "name", "budget", "email"],
            ["L-3", "线索", "-5", ""],
            ["L-4", "线索", "", "bad@"],
        ],
    )
    assert [(e["row"], e["column"]) for e in errors] == [(2, "budget"), (3, "email")]


def test_opportunities_bulk_equals_services_including_stage_moves(org, book):
    _errors, counts, _status, state = assert_same(
        org.manager_a,
        "opportunities",
        [
            [
                "external_id",
                "name",
                "account_external_id",
                "owner",
                "amount",
                "stage",
                "expected_close_date",
            ],
            ["OPP-1", "ERP 项目", "ACC-1", "rep_a1", "300000", "proposal", "2099-01-31"],
            ["OPP-2", "已成交", "ACC-1", "rep_a1", "50000", "won", ""],
            ["OPP-3", "新商机", "ACC-2", "", "", "", ""],
        ],
    )
    assert counts == (2, 1, 0)
    assert len(state["stage_changes"]) == 3  # two new deals and one move
    errors, *_rest = assert_same(
        org.manager_a,
        "opportunities",
        [
            [
                "external_id",
                "name",
                "account_external_id",
                "amount",
                "stage",
                "probability",
                "expected_close_date",
            ],
            ["OPP-4", "输单", "ACC-1", "1", "lost", "", ""],
            ["OPP-5", "赢率", "ACC-1", "1", "", "150", ""],
            ["OPP-6", "过去", "ACC-1", "1", "", "", "2020-01-01"],
        ],
    )
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "loss_reason"),
        (3, "probability"),
        (4, "expected_close_date"),
    ]


def test_activities_bulk_equals_services(org, book):
    assert_same(
        org.manager_a,
        "activities",
        [
            [
                "external_id",
                "kind",
                "subject",
                "occurred_at",
                "account_external_id",
                "owner",
                "performed_by",
            ],
            ["ACT-1", "visit", "第二次拜访", "2025-03-02 10:00", "ACC-1", "rep_a1", ""],
            ["ACT-2", "call", "电话", "2025/3/3 9:15", "ACC-2", "rep_a1b", "rep_a1"],
        ],
    )
    errors, *_rest = assert_same(
        org.manager_a,
        "activities",
        [
            ["external_id", "kind", "occurred_at", "owner"],
            ["ACT-3", "", "2025-03-02 10:00", ""],
            ["ACT-4", "call", "", ""],
            ["ACT-5", "call", "2025-03-02 10:00", "rep_b1"],
        ],
    )
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "kind"),
        (3, "occurred_at"),
        (4, "owner"),
    ]


def test_orders_bulk_equals_services_with_lines(org, book):
    _errors, counts, _status, state = assert_same(
        org.manager_a,
        "orders",
        [
            [
                "number",
                "account_external_id",
                "owner",
                "order_date",
                "product_sku",
                "quantity",
                "unit_price",
                "discount_pct",
            ],
            ["SO-1", "ACC-1", "rep_a1", "2025-03-01", "SKU-A", "3", "", ""],
            ["SO-1", "ACC-1", "rep_a1", "2025-03-01", "SKU-B", "1", "240", "10"],
            ["SO-2", "ACC-2", "rep_a1b", "2025-03-05", "SKU-B", "2", "", "5%"],
            ["SO-3", "ACC-1", "rep_a1", "2025-03-01", "SKU-B", "4", "", ""],
        ],
    )
    assert counts == (1, 1, 1)
    so1 = next(o for o in state["orders"] if o["number"] == "SO-1")
    assert so1["total"] == Decimal("3216.00") and so1["version"] == 2
    errors, *_rest = assert_same(
        org.manager_a,
        "orders",
        [
            [
                "number",
                "account_external_id",
                "order_date",
                "product_sku",
                "quantity",
                "unit_price",
                "discount_pct",
            ],
            ["SO-4", "ACC-1", "2025-03-01", "SKU-A", "0", "", ""],
            ["SO-5", "ACC-1", "2025-03-01", "SKU-A", "1", "-1", "150"],
            ["SO-6", "", "2025-03-01", "SKU-A", "1", "", ""],
        ],
    )
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "quantity"),
        (3, "unit_price"),
        (3, "discount_pct"),
        (4, "account_external_id"),
    ]
