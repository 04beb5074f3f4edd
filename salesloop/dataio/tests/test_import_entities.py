"""What importing each kind of record means: references, stage moves, order lines."""

from decimal import Decimal

from salesloop.activities.models import Activity
from salesloop.audit.models import AuditEntry
from salesloop.customers.models import Contact, Lead
from salesloop.dataio.tests.conftest import csv_bytes, errors_of, upload
from salesloop.pipeline.models import Opportunity, StageChange
from salesloop.sales.models import Order, OrderLine
from salesloop.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    ProductFactory,
    stage,
)


def test_contacts_reference_their_account_by_external_id_or_exact_name(org, api_as):
    by_key = AccountFactory(owner=org.rep_a1, external_id="A-1", name="甲公司")
    by_name = AccountFactory(owner=org.rep_a1, name="乙公司")

    response = upload(
        api_as(org.rep_a1),
        "contacts",
        csv_bytes(
            [
                ["客户外部编号", "客户名称", "姓名", "决策人", "生日", "邮箱"],
                ["A-1", "", "张三", "是", "1980/5/20", "zhang@example.com"],
                ["", "乙公司", "李四", "否", "", ""],
            ]
        ),
    )

    assert response.status_code == 200, response.content
    zhang, li = Contact.objects.get(name="张三"), Contact.objects.get(name="李四")
    assert (zhang.account, zhang.is_decision_maker, str(zhang.birthday)) == (
        by_key,
        True,
        "1980-05-20",
    )
    assert (li.account, li.is_decision_maker) == (by_name, False)


def test_columns_naming_different_accounts_on_one_row_are_an_error(org, api_as):
    AccountFactory(owner=org.rep_a1, external_id="A-1", name="甲公司")
    AccountFactory(owner=org.rep_a1, external_id="A-2", name="乙公司")

    response = upload(
        api_as(org.rep_a1),
        "contacts",
        csv_bytes([["account_external_id", "account", "name"], ["A-1", "乙公司", "张三"]]),
    )

    assert response.status_code == 422
    assert errors_of(response) == [(2, "account")]


def test_new_deals_are_logged_in_their_stage_and_a_stage_change_is_a_logged_move(org, api_as):
    account = AccountFactory(owner=org.rep_a1, external_id="A-1")
    OpportunityFactory(account=account, external_id="O-1", name="老商机", stage=stage("qualified"))
    ContactFactory(account=account, name="王总")

    response = upload(
        api_as(org.rep_a1),
        "opportunities",
        csv_bytes(
            [
                [
                    "external_id",
                    "name",
                    "account_external_id",
                    "amount",
                    "stage",
                    "decision_maker",
                    "expected_close_date",
                ],
                ["O-1", "老商机", "A-1", "100000.00", "谈判", "王总", ""],
                ["O-2", "新商机", "A-1", "80000", "", "", "2099-12-31"],
                ["O-3", "已签约", "A-1", "5000", "won", "", ""],
            ]
        ),
    )

    assert response.status_code == 200, response.content
    moved = Opportunity.objects.get(external_id="O-1")
    assert (moved.stage.code, moved.decision_maker.name, moved.version) == (
        "negotiation",
        "王总",
        2,
    )
    move = StageChange.objects.get(opportunity=moved)
    assert (move.from_stage.code, move.to_stage.code, move.changed_by) == (
        "qualified",
        "negotiation",
        org.rep_a1,
    )
    assert Opportunity.objects.get(external_id="O-2").stage.code == "lead"
    won = Opportunity.objects.get(external_id="O-3")
    assert won.closed_at is not None
    assert StageChange.objects.filter(
        opportunity=won, from_stage=None, to_stage__code="won"
    ).exists()
    assert AuditEntry.objects.filter(object_id=moved.pk, action="update", source="import").exists()


def test_activities_are_performed_by_their_owner_unless_the_file_says_otherwise(org, api_as):
    AccountFactory(owner=org.rep_a1, external_id="A-1")

    response = upload(
        api_as(org.lead_a1),
        "activities",
        csv_bytes(
            [
                [
                    "external_id",
                    "kind",
                    "occurred_at",
                    "account_external_id",
                    "owner",
                    "performed_by",
                    "outcome",
                ],
                ["V-1", "visit", "2025-03-03 10:00", "A-1", "rep_a1", "", "Interested"],
                ["V-2", "飞鸽传书", "2025-03-04 10:00", "A-1", "rep_a1", "lead_a1", ""],
            ]
        ),
    )

    assert errors_of(response) == [(3, "kind")]  # a kind is a code or a label
    response = upload(
        api_as(org.lead_a1),
        "activities",
        csv_bytes(
            [
                [
                    "external_id",
                    "kind",
                    "occurred_at",
                    "account_external_id",
                    "owner",
                    "performed_by",
                    "outcome",
                ],
                ["V-1", "visit", "2025-03-03 10:00", "A-1", "rep_a1", "", "Interested"],
                ["V-2", "Visit", "2025-03-04 10:00", "A-1", "rep_a1", "lead_a1", ""],
            ]
        ),
    )

    assert response.status_code == 200, response.content
    first, second = Activity.objects.get(external_id="V-1"), Activity.objects.get(external_id="V-2")
    assert (first.owner, first.performed_by, first.outcome) == (
        org.rep_a1,
        org.rep_a1,
        "interested",
    )
    assert second.performed_by == org.lead_a1


def test_lead_budgets_accept_the_way_spreadsheets_write_money(org, api_as):
    response = upload(
        api_as(org.rep_a1),
        "leads",
        csv_bytes(
            [
                ["name", "budget", "source", "status"],
                ["甲", "¥1,250,000.00", "Trade show", "qualified"],
                ["乙", "1.005", "", ""],
            ]
        ),
    )

    assert errors_of(response) == [(3, "budget")]
    assert "2" in response.json()["errors"][0]["message"]


def _products():
    return (
        ProductFactory(sku="SKU-A", list_price=Decimal("1000.00"), cost=Decimal("600.00")),
        ProductFactory(
            sku="SKU-B",
            list_price=Decimal("250.00"),
            minimum_price=Decimal("100.00"),
            cost=Decimal("100.00"),
        ),
    )


ORDER_HEADER = ["订单号", "客户外部编号", "下单日期", "产品编码", "数量", "单价", "折扣%"]


def test_order_rows_with_one_number_are_one_order_and_totals_come_from_the_lines(org, api_as):
    _products()
    AccountFactory(owner=org.rep_a1, external_id="A-1")

    response = upload(
        api_as(org.rep_a1),
        "orders",
        csv_bytes(
            [
                ORDER_HEADER,
                ["SO-1", "A-1", "2025-03-01", "SKU-A", "2", "", ""],
                ["SO-1", "A-1", "2025-03-01", "SKU-B", "4", "200", "10%"],
                ["SO-2", "A-1", "2025-03-02", "SKU-B", "1", "", ""],
            ]
        ),
    )

    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    order = Order.objects.get(number="SO-1")
    assert (order.total, order.cost_total, order.margin) == (
        Decimal("2720.00"),
        Decimal("1600.00"),
        Decimal("1120.00"),
    )
    assert order.owner == org.rep_a1
    assert [(ln.product.sku, ln.line_total) for ln in order.lines.order_by("id")] == [
        ("SKU-A", Decimal("2000.00")),
        ("SKU-B", Decimal("720.00")),
    ]


def test_reimporting_orders_keeps_their_lines_and_a_changed_line_replaces_them(org, api_as):
    _products()
    AccountFactory(owner=org.rep_a1, external_id="A-1")
    client = api_as(org.rep_a1)
    rows = [ORDER_HEADER, ["SO-1", "A-1", "2025-03-01", "SKU-A", "2", "", ""]]
    upload(client, "orders", csv_bytes(rows))
    line_ids = list(OrderLine.objects.values_list("id", flat=True))

    again = upload(client, "orders", csv_bytes(rows))
    rows[1][4] = "3"
    changed = upload(client, "orders", csv_bytes(rows))

    assert again.json()["unchanged"] == 1
    assert changed.json()["updated"] == 1
    order = Order.objects.get(number="SO-1")
    assert (order.total, order.version) == (Decimal("3000.00"), 2)
    assert not OrderLine.objects.filter(id__in=line_ids).exists()
    assert OrderLine.objects.filter(order=order).count() == 1


def test_order_rows_that_disagree_on_the_order_are_errors(org, api_as):
    _products()
    AccountFactory(owner=org.rep_a1, external_id="A-1")
    AccountFactory(owner=org.rep_a1, external_id="A-2")

    response = upload(
        api_as(org.rep_a1),
        "orders",
        csv_bytes(
            [
                ORDER_HEADER,
                ["SO-1", "A-1", "2025-03-01", "SKU-A", "2", "", ""],
                ["SO-1", "A-2", "2025-03-01", "SKU-B", "1", "", ""],
                ["SO-2", "A-1", "2025-03-01", "", "1", "", ""],
            ]
        ),
    )

    assert errors_of(response) == [(3, "客户外部编号"), (4, "产品编码")]
    assert Order.objects.count() == 0


def test_an_orders_file_without_lines_updates_the_orders_and_keeps_their_lines(org, api_as):
    _products()
    AccountFactory(owner=org.rep_a1, external_id="A-1")
    client = api_as(org.rep_a1)
    upload(
        client,
        "orders",
        csv_bytes([ORDER_HEADER, ["SO-1", "A-1", "2025-03-01", "SKU-A", "2", "", ""]]),
    )

    response = upload(
        client,
        "orders",
        csv_bytes(
            [
                ["number", "status", "order_date"],
                ["SO-1", "delivered", "2025-03-05"],
                ["SO-9", "draft", "2025-03-05"],
            ]
        ),
    )

    assert errors_of(response) == [(3, "product")]  # a new order needs lines
    response = upload(client, "orders", csv_bytes([["number", "status"], ["SO-1", "Delivered"]]))
    assert response.status_code == 200, response.content
    order = Order.objects.get(number="SO-1")
    assert (order.status, order.total, order.lines.count()) == ("delivered", Decimal("2000.00"), 1)


def test_lead_owner_left_empty_keeps_the_owner(org, api_as):
    lead = LeadFactory(owner=org.rep_a1, external_id="L-1", name="线索")

    response = upload(
        api_as(org.lead_a1),
        "leads",
        csv_bytes([["external_id", "name", "owner"], ["L-1", "线索2", ""]]),
    )

    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert (lead.name, lead.owner) == ("线索2", org.rep_a1)
    assert Lead.objects.count() == 1
