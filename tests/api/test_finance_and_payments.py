"""Finance sees the money but not the sales line's private notes; payments settle invoices."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils import timezone
from openpyxl import load_workbook

from salesloop.audit.models import AuditAction, AuditEntry
from salesloop.sales.models import Invoice, InvoiceStatus, Payment
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    InvoiceFactory,
    OrderFactory,
    PaymentFactory,
)


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_finance_reads_accounts_but_their_private_notes_come_back_null(org, api_as):
    account = AccountFactory(owner=org.rep_b1, notes="老板喜欢打高尔夫")
    finance = api_as(org.finance)

    detail = finance.get(f"/api/accounts/{account.pk}")
    listed = finance.get("/api/accounts").json()["items"]

    assert detail.status_code == 200
    assert detail.json()["notes"] is None
    assert [item["notes"] for item in listed if item["id"] == account.pk] == [None]
    assert api_as(org.rep_b1).get(f"/api/accounts/{account.pk}").json()["notes"] == "老板喜欢打高尔夫"


def test_private_notes_stay_out_of_csv_and_xlsx_exports_for_finance(org, api_as):
    account = AccountFactory(owner=org.rep_b1, notes="老板喜欢打高尔夫")
    finance = api_as(org.finance)

    rows = _csv(finance.get("/api/accounts/export?format=csv"))
    workbook = load_workbook(io.BytesIO(finance.get("/api/accounts/export?format=xlsx").content), read_only=True)
    sheet = list(workbook.active.values)

    assert [row["notes"] for row in rows if int(row["id"]) == account.pk] == [""]
    header = list(sheet[0])
    xlsx_row = next(r for r in sheet[1:] if r[header.index("id")] == account.pk)
    assert xlsx_row[header.index("notes")] in (None, "")
    own_rows = _csv(api_as(org.rep_b1).get("/api/accounts/export?format=csv"))
    assert [row["notes"] for row in own_rows if int(row["id"]) == account.pk] == ["老板喜欢打高尔夫"]


def test_finance_does_not_see_activities_at_all(org, api_as):
    activity = ActivityFactory(account=AccountFactory(owner=org.rep_a1), notes="客户抱怨价格")
    finance = api_as(org.finance)

    assert finance.get("/api/activities").json()["count"] == 0
    assert finance.get(f"/api/activities/{activity.pk}").status_code == 404
    assert _csv(finance.get("/api/activities/export")) == []


def test_finance_sees_orders_invoices_and_payments_of_every_book(org, api_as):
    accounts = [AccountFactory(owner=owner) for owner in (org.rep_a1, org.rep_b1, org.director)]
    for account in accounts:
        order = OrderFactory(account=account)
        PaymentFactory(invoice=InvoiceFactory(order=order, account=account), account=account)
    finance = api_as(org.finance)

    counts = {path: finance.get(f"/api/{path}").json()["count"] for path in ("orders", "invoices", "payments")}

    assert counts == {"orders": 3, "invoices": 3, "payments": 3}


def test_finance_cannot_change_accounts_or_orders(org, api_as):
    account = AccountFactory(owner=org.rep_a1)
    order = OrderFactory(account=account)
    finance = api_as(org.finance)

    assert finance.patch_json(f"/api/accounts/{account.pk}", {"city": "x", "version": 1}).status_code == 403
    assert finance.patch_json(f"/api/orders/{order.pk}", {"status": "delivered", "version": 1}).status_code == 403


def _pay(client, invoice, amount: str):
    return client.post_json(
        "/api/payments", {"invoice_id": invoice.pk, "amount": amount, "paid_at": timezone.now().isoformat()}
    )


def test_an_overpayment_is_refused_and_the_invoice_is_unchanged(org, api_as):
    invoice = InvoiceFactory(account=AccountFactory(owner=org.rep_a1), order=None, amount=Decimal("1000.00"))
    finance = api_as(org.finance)
    assert _pay(finance, invoice, "400.00").status_code == 201

    response = _pay(finance, invoice, "600.01")

    assert response.status_code == 422
    assert "amount" in response.json()["errors"]
    invoice.refresh_from_db()
    assert (invoice.paid_amount, invoice.status) == (Decimal("400.00"), InvoiceStatus.OPEN)
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_an_invoice_becomes_paid_when_its_balance_is_settled(org, api_as):
    invoice = InvoiceFactory(account=AccountFactory(owner=org.rep_a1), order=None, amount=Decimal("1000.00"))
    finance = api_as(org.finance)

    first = _pay(finance, invoice, "400.00")
    invoice.refresh_from_db()
    assert (first.status_code, invoice.status, invoice.paid_amount) == (201, "open", Decimal("400.00"))
    second = _pay(finance, invoice, "600.00")

    assert second.status_code == 201
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_amount, invoice.balance) == ("paid", Decimal("1000.00"), Decimal("0"))
    assert invoice.version == 3, "each payment is a write on the invoice"
    assert _pay(finance, invoice, "0.01").status_code == 422, "nothing more can be paid on a settled invoice"


def test_a_payment_defaults_to_the_invoices_account_and_currency_and_is_audited_on_both(org, api_as):
    invoice = InvoiceFactory(account=AccountFactory(owner=org.rep_a1), order=None, amount=Decimal("500.00"))

    response = _pay(api_as(org.finance), invoice, "500.00")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["account_id"], body["currency"]) == (invoice.account_id, invoice.currency)
    invoice_entry = AuditEntry.objects.get(
        object_id=invoice.pk, action=AuditAction.UPDATE, content_type__model="invoice"
    )
    assert invoice_entry.changes == {"paid_amount": ["0.00", "500.00"], "status": ["open", "paid"]}
    assert AuditEntry.objects.filter(
        object_id=body["id"], action=AuditAction.CREATE, content_type__model="payment"
    ).exists()


def test_a_payment_in_another_currency_or_for_another_account_is_refused(org, api_as):
    invoice = InvoiceFactory(account=AccountFactory(owner=org.rep_a1), order=None, amount=Decimal("500.00"))
    other_account = AccountFactory(owner=org.rep_a1)
    finance = api_as(org.finance)
    now = timezone.now().isoformat()

    currency = finance.post_json(
        "/api/payments", {"invoice_id": invoice.pk, "amount": "1.00", "paid_at": now, "currency": "USD"}
    )
    account = finance.post_json(
        "/api/payments", {"invoice_id": invoice.pk, "amount": "1.00", "paid_at": now, "account_id": other_account.pk}
    )

    assert (currency.status_code, account.status_code) == (422, 422)
    assert "currency" in currency.json()["errors"] and "account_id" in account.json()["errors"]
    assert not Payment.objects.exists()


def test_a_void_invoice_cannot_be_paid(org, api_as):
    invoice = InvoiceFactory(
        account=AccountFactory(owner=org.rep_a1), order=None, amount=Decimal("500.00"), status=InvoiceStatus.VOID
    )

    response = _pay(api_as(org.finance), invoice, "1.00")

    assert response.status_code == 422
    assert "invoice_id" in response.json()["errors"]


def test_a_rep_learns_nothing_about_an_invisible_invoice_by_trying_to_pay_it(org, api_as):
    hidden = InvoiceFactory(account=AccountFactory(owner=org.rep_b1), order=None, amount=Decimal("777.00"))
    rep = api_as(org.rep_a1)

    response = _pay(rep, hidden, "999999.00")

    assert response.status_code == 403
    assert "777" not in response.content.decode()
    assert Invoice.objects.get(pk=hidden.pk).paid_amount == Decimal("0")


def test_a_private_note_cannot_be_read_through_the_accounts_audit_history(org, api_as):
    account = AccountFactory(owner=org.rep_a1, notes="旧备注")
    api_as(org.rep_a1).patch_json(f"/api/accounts/{account.pk}", {"notes": "新备注：老板下月换人", "version": 1})

    seen_by_finance = api_as(org.finance).get(f"/api/accounts/{account.pk}/history").json()
    seen_by_owner = api_as(org.rep_a1).get(f"/api/accounts/{account.pk}/history").json()

    assert seen_by_finance[0]["changes"]["notes"] == [None, None]
    assert "老板" not in str(seen_by_finance)
    assert seen_by_owner[0]["changes"]["notes"] == ["旧备注", "新备注：老板下月换人"]
