"""Money: products, orders with lines, invoices, payments and contracts."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import CurrencyField, MoneyField, Versioned


class Product(Versioned):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=60, blank=True)
    list_price = MoneyField(_("list price"))
    minimum_price = MoneyField(_("minimum price"), help_text=_("Below this a special-price approval is needed."))
    cost = MoneyField(_("unit cost"))
    currency = CurrencyField()
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minimum_price__lte=models.F("list_price")), name="product_min_price_le_list"
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class Order(Versioned):
    number = models.CharField(_("number"), max_length=40, unique=True)
    external_id = models.CharField(_("external ID"), max_length=64, null=True, blank=True, unique=True)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("credited rep"),
        on_delete=models.PROTECT,
        related_name="orders",
        help_text=_("The rep credited with the sale; stays when the account moves to another owner."),
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    order_date = models.DateField(_("order date"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED)
    currency = CurrencyField()
    total = MoneyField(_("total"), help_text=_("Sum of line totals after discount."))
    cost_total = MoneyField(_("cost"))
    margin = MoneyField(_("gross margin"), allow_negative=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["account", "order_date"]), models.Index(fields=["owner", "order_date"])]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = MoneyField(_("unit price"))
    discount_pct = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    unit_cost = MoneyField(_("unit cost"))
    line_total = MoneyField(_("line total"))
    line_cost = MoneyField(_("line cost"))

    class Meta:
        ordering = ["order_id", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.product_id} × {self.quantity}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class Invoice(Versioned):
    number = models.CharField(_("number"), max_length=40, unique=True)
    order = models.ForeignKey(
        "sales.Order", verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="invoices"
    )
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"), db_index=True)
    amount = MoneyField(_("amount"))
    currency = CurrencyField()
    paid_amount = MoneyField(_("paid"))
    status = models.CharField(_("status"), max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN)

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [models.Index(fields=["status", "due_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_date__gte=models.F("issue_date")), name="invoice_due_after_issue"
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.amount - self.paid_amount


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    ONLINE = "online", _("Online payment")
    OTHER = "other", _("Other")


class Payment(Versioned):
    invoice = models.ForeignKey(
        "sales.Invoice", verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments"
    )
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="payments"
    )
    amount = MoneyField(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    currency = CurrencyField()
    paid_at = models.DateTimeField(_("paid at"), db_index=True)
    method = models.CharField(
        _("method"), max_length=14, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=80, blank=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount} {self.currency}"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In legal review")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class Contract(Versioned):
    number = models.CharField(_("number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="contracts"
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="contracts"
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), db_index=True)
    value = MoneyField(_("value"))
    currency = CurrencyField()
    status = models.CharField(_("status"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="contract_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.number
