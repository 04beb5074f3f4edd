"""Admin for the money records: products, orders, invoices, payments and contracts (all but
products audited).

What is derived stays derived: an order's totals come from its lines (read-only here) and an
invoice's paid amount from its payments. A payment corrected or deleted here (finance fixing a
mistake) re-settles its invoice, and the same overpayment rule as the API applies.
"""

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext

from salesloop.audit.admin import RecordAdmin, VersionCheckedForm
from salesloop.sales import services
from salesloop.sales.models import Contract, Invoice, InvoiceStatus, Order, OrderLine, Payment, Product


@admin.register(Product)
class ProductAdmin(RecordAdmin):
    list_display = ("sku", "name", "category", "list_price", "minimum_price", "cost", "currency", "is_active")
    list_filter = ("is_active", "category", "currency")
    search_fields = ("sku", "name")


class OrderLineInline(admin.TabularInline):
    """Lines are priced by ``order_create``/``order_update`` (the API); shown read-only."""

    model = OrderLine
    fields = ("product", "quantity", "unit_price", "discount_pct", "line_total", "unit_cost", "line_cost")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Order)
class OrderAdmin(RecordAdmin):
    list_display = ("number", "account", "owner", "order_date", "status", "total", "margin", "currency")
    list_filter = ("status", "order_date")
    search_fields = ("number", "external_id", "account__name")
    list_select_related = ("account", "owner")
    autocomplete_fields = ("account", "owner", "opportunity")
    readonly_fields = ("total", "cost_total", "margin")
    inlines = (OrderLineInline,)


@admin.register(Invoice)
class InvoiceAdmin(RecordAdmin):
    list_display = ("number", "account", "issue_date", "due_date", "amount", "paid_amount", "status", "currency")
    list_filter = ("status", "due_date")
    search_fields = ("number", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account", "order")
    readonly_fields = ("paid_amount",)


class PaymentForm(VersionCheckedForm):
    def clean(self):
        cleaned = super().clean()
        invoice, amount = cleaned.get("invoice"), cleaned.get("amount")
        if invoice is None or amount is None:
            return cleaned
        errors = {}
        if invoice.status == InvoiceStatus.VOID:
            errors["invoice"] = gettext("This invoice is void and cannot be paid.")
        if cleaned.get("account") is not None and cleaned["account"] != invoice.account:
            errors["account"] = gettext("The payment's account must be the invoice's account.")
        if cleaned.get("currency") and cleaned["currency"] != invoice.currency:
            errors["currency"] = gettext("The payment's currency must be the invoice's currency.")
        others = invoice.payments.exclude(pk=self.instance.pk).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if amount > invoice.amount - others:
            errors["amount"] = gettext("%(amount)s exceeds the open balance %(balance)s.") % {
                "amount": amount,
                "balance": invoice.amount - others,
            }
        if errors:
            raise ValidationError(errors)
        return cleaned


@admin.register(Payment)
class PaymentAdmin(RecordAdmin):
    form = PaymentForm
    list_display = ("paid_at", "invoice", "account", "amount", "currency", "method", "reference")
    list_filter = ("method", "paid_at")
    search_fields = ("reference", "invoice__number", "account__name")
    list_select_related = ("invoice", "account")
    autocomplete_fields = ("invoice", "account")

    def write(self, request, obj, form, change, before) -> None:
        super().write(request, obj, form, change, before)
        for invoice_id in {before.get("invoice_id"), obj.invoice_id} - {None}:
            services.invoice_recompute_paid(invoice_id=invoice_id, by=request.user)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        services.invoice_recompute_paid(invoice_id=obj.invoice_id, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        invoice_ids = set(queryset.values_list("invoice_id", flat=True))
        super().delete_queryset(request, queryset)
        for invoice_id in invoice_ids:
            services.invoice_recompute_paid(invoice_id=invoice_id, by=request.user)


@admin.register(Contract)
class ContractAdmin(RecordAdmin):
    list_display = ("number", "title", "account", "owner", "start_date", "end_date", "value", "status")
    list_filter = ("status", "end_date")
    search_fields = ("number", "title", "account__name")
    list_select_related = ("account", "owner")
    autocomplete_fields = ("account", "owner", "opportunity")
