"""API declarations for products, orders, invoices, payments and contracts."""

from datetime import date
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from salesloop.core.api_resources import Resource
from salesloop.core.schemas import DbId
from salesloop.sales import services
from salesloop.sales.models import Contract, Invoice, Order, Payment, Product


class OrderLineIn(Schema):
    product_id: DbId
    quantity: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    unit_price: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    discount_pct: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)


class OrderLineOut(Schema):
    id: int
    product_id: int
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    unit_cost: Decimal
    line_total: Decimal
    line_cost: Decimal


PRODUCTS = Resource(
    path="products",
    model=Product,
    read_fields=["sku", "name", "category", "list_price", "minimum_price", "cost", "currency", "is_active", "version"],
    write_fields=["sku", "name", "category", "list_price", "minimum_price", "cost", "currency", "is_active"],
    filters={"q": (str, ["name__icontains", "sku__icontains"]), "category": (str, "category"), "is_active": (bool, "is_active")},
    sort_fields=["id", "name", "sku", "list_price"],
    default_sort="name",
)

ORDERS = Resource(
    path="orders",
    model=Order,
    read_fields=[
        "number", "external_id", "account", "owner", "opportunity", "order_date", "status", "currency", "total",
        "cost_total", "margin", "version", "created_at", "updated_at",
    ],
    write_fields=["number", "external_id", "account", "owner", "opportunity", "order_date", "status", "currency"],
    filters={
        "q": (str, ["number__icontains", "account__name__icontains"]),
        "account_id": (int, "account_id"),
        "owner_id": (int, "owner_id"),
        "status": (str, "status"),
        "date_from": (date, "order_date__gte"),
        "date_to": (date, "order_date__lte"),
    },
    sort_fields=["id", "order_date", "total", "margin", "number"],
    default_sort="-order_date",
    related=["account", "owner"],
    prefetch=["lines"],
    out_extra={
        "account_name": (str | None, Field(None, alias="account.name")),
        "owner_name": (str | None, Field(None, alias="owner.username")),
        "lines": (list[OrderLineOut], Field(default_factory=list)),
    },
    create_extra={"lines": (list[OrderLineIn], Field(default_factory=list))},
    create=services.order_create,
    update=lambda pk, **kw: services.order_update(order_id=pk, **kw),
)

INVOICES = Resource(
    path="invoices",
    model=Invoice,
    read_fields=["number", "order", "account", "issue_date", "due_date", "amount", "currency", "paid_amount", "status", "version", "created_at"],
    write_fields=["number", "order", "account", "issue_date", "due_date", "amount", "currency", "status"],
    filters={
        "q": (str, ["number__icontains", "account__name__icontains"]),
        "account_id": (int, "account_id"),
        "status": (str, "status"),
        "due_before": (date, "due_date__lt"),
    },
    sort_fields=["id", "issue_date", "due_date", "amount"],
    default_sort="-issue_date",
    related=["account"],
    out_extra={"account_name": (str | None, Field(None, alias="account.name"))},
)

PAYMENTS = Resource(
    path="payments",
    model=Payment,
    read_fields=["invoice", "account", "amount", "currency", "paid_at", "method", "reference", "version", "created_at"],
    write_fields=["invoice", "account", "amount", "currency", "paid_at", "method", "reference"],
    filters={"account_id": (int, "account_id"), "invoice_id": (int, "invoice_id"), "method": (str, "method")},
    sort_fields=["id", "paid_at", "amount"],
    default_sort="-paid_at",
    related=["account"],
    out_extra={"account_name": (str | None, Field(None, alias="account.name"))},
    # The account and currency default to the invoice's (``payment_create``).
    optional_on_create=frozenset({"account"}),
    create=services.payment_create,
    # Money received is not edited or deleted; a mistake is corrected by finance in the admin with an audit trail.
    allow_update=False,
    allow_delete=False,
)

CONTRACTS = Resource(
    path="contracts",
    model=Contract,
    read_fields=["number", "title", "account", "opportunity", "owner", "start_date", "end_date", "value", "currency", "status", "version", "created_at"],
    write_fields=["number", "title", "account", "opportunity", "owner", "start_date", "end_date", "value", "currency", "status"],
    filters={
        "q": (str, ["number__icontains", "title__icontains", "account__name__icontains"]),
        "account_id": (int, "account_id"),
        "status": (str, "status"),
        "ends_before": (date, "end_date__lte"),
    },
    sort_fields=["id", "start_date", "end_date", "value"],
    default_sort="-start_date",
    related=["account"],
    out_extra={"account_name": (str | None, Field(None, alias="account.name"))},
)

RESOURCES = [PRODUCTS, ORDERS, INVOICES, PAYMENTS, CONTRACTS]
