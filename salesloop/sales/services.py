"""Writes on money records: orders and their lines, payments against invoices."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.audit.models import AuditAction
from salesloop.audit.services import audit_record, diff, snapshot
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.core.money import line_amount, quantize_money
from salesloop.core.records import get_for_write, record_create, record_update
from salesloop.org import access
from salesloop.org.models import User
from salesloop.sales.models import Invoice, InvoiceStatus, Order, OrderLine, Payment, Product


def _build_lines(lines: list[dict[str, Any]]) -> list[OrderLine]:
    products = Product.objects.in_bulk({line["product_id"] for line in lines})
    built, errors = [], {}
    for i, line in enumerate(lines):
        product = products.get(line["product_id"])
        if product is None:
            errors[f"lines.{i}.product_id"] = [_("Unknown product id %(id)s.") % {"id": line["product_id"]}]
            continue
        quantity = Decimal(line["quantity"])
        unit_price = Decimal(line["unit_price"]) if line.get("unit_price") is not None else product.list_price
        discount = Decimal(line.get("discount_pct") or 0)
        if quantity <= 0:
            errors[f"lines.{i}.quantity"] = [_("Quantity must be positive.")]
        if unit_price < 0:
            errors[f"lines.{i}.unit_price"] = [_("Price cannot be negative.")]
        if not Decimal(0) <= discount <= Decimal(100):
            errors[f"lines.{i}.discount_pct"] = [_("Discount must be between 0 and 100%.")]
        built.append(
            OrderLine(
                product=product,
                quantity=quantity,
                unit_price=unit_price,
                discount_pct=discount,
                unit_cost=product.cost,
                line_total=line_amount(quantity, unit_price, discount),
                line_cost=quantize_money(quantity * product.cost),
            )
        )
    if errors:
        raise FieldErrors(errors)
    return built


def _totals(lines: list[OrderLine]) -> dict[str, Decimal]:
    total = sum((line.line_total for line in lines), Decimal(0))
    cost = sum((line.line_cost for line in lines), Decimal(0))
    return {"total": total, "cost_total": cost, "margin": total - cost}


@transaction.atomic
def order_create(*, user: User, data: dict[str, Any], source: str = "api") -> Order:
    """An order with its lines; totals, cost and margin come from the lines, never from input."""
    data = dict(data)
    lines = _build_lines(data.pop("lines", None) or [])
    data.update(_totals(lines))
    order = record_create(model=Order, user=user, data=data, source=source)
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    return order


@transaction.atomic
def order_update(
    *, order_id: int, user: User, data: dict[str, Any], version: int | None, source: str = "api"
) -> Order:
    order = get_for_write(Order, order_id, user)
    data = dict(data)
    new_lines = data.pop("lines", None)
    if new_lines is not None:
        lines = _build_lines(new_lines)
        data.update(_totals(lines))
    order, _changes = record_update(instance=order, user=user, data=data, version=version, source=source)
    if new_lines is not None:
        order.lines.all().delete()
        for line in lines:
            line.order = order
        OrderLine.objects.bulk_create(lines)
    return order


@transaction.atomic
def payment_create(*, user: User, data: dict[str, Any], source: str = "api") -> Payment:
    """Record money received and settle the invoice; an overpayment is refused, not absorbed.

    The invoice is looked up among those the writer may see (and locked, so two payments cannot
    both fit into the same open balance): the overpayment message quotes the balance, which must
    not leak from another book.
    """
    if not access.can_write_model(user, Payment):
        raise Forbidden()
    data = dict(data)
    invoice = (
        access.restrict(Invoice.objects.all(), user, "read")
        .select_for_update(of=("self",))
        .filter(pk=data.get("invoice_id"))
        .first()
    )
    if invoice is not None:
        if invoice.status == InvoiceStatus.VOID:
            raise FieldErrors({"invoice_id": [_("This invoice is void and cannot be paid.")]})
        data.setdefault("account_id", invoice.account_id)
        data.setdefault("currency", invoice.currency)
        if data.get("account_id") != invoice.account_id:
            raise FieldErrors({"account_id": [_("The payment's account must be the invoice's account.")]})
        if data.get("currency") != invoice.currency:
            raise FieldErrors({"currency": [_("The payment's currency must be the invoice's currency.")]})
        amount = Decimal(str(data.get("amount", 0)))
        if amount > invoice.balance:
            raise FieldErrors(
                {
                    "amount": [
                        _("%(amount)s exceeds the open balance %(balance)s.")
                        % {"amount": amount, "balance": invoice.balance}
                    ]
                }
            )
    payment = record_create(model=Payment, user=user, data=data, source=source)
    before = snapshot(invoice)
    Invoice.objects.filter(pk=payment.invoice_id).update(
        paid_amount=F("paid_amount") + payment.amount, version=F("version") + 1, updated_at=timezone.now()
    )
    Invoice.objects.filter(pk=payment.invoice_id, paid_amount__gte=F("amount")).update(status=InvoiceStatus.PAID)
    invoice.refresh_from_db()
    # The invoice is audited: its paid amount and status change with every payment.
    audit_record(
        instance=invoice, action=AuditAction.UPDATE, actor=user, changes=diff(before, snapshot(invoice)), source=source
    )
    return payment


@transaction.atomic
def invoice_recompute_paid(*, invoice_id: int, by: User | None, source: str = "admin") -> Invoice:
    """Set an invoice's paid amount to the sum of its payments and its status to match.

    Used after a payment is corrected or removed outside :func:`payment_create` (finance in the
    admin); a void invoice stays void. The change is audited on the invoice.
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    before = snapshot(invoice)
    paid = quantize_money(invoice.payments.aggregate(total=Sum("amount"))["total"] or Decimal(0))
    invoice.paid_amount = paid
    if invoice.status != InvoiceStatus.VOID:
        invoice.status = InvoiceStatus.PAID if paid >= invoice.amount else InvoiceStatus.OPEN
    changes = diff(before, snapshot(invoice))
    if changes:
        Invoice.objects.filter(pk=invoice.pk).update(
            paid_amount=invoice.paid_amount, status=invoice.status, version=F("version") + 1, updated_at=timezone.now()
        )
        invoice.refresh_from_db()
        audit_record(instance=invoice, action=AuditAction.UPDATE, actor=by, changes=changes, source=source)
    return invoice
