"""Turning a record's field into what a page shows: choice labels, money with currency, local times.

Pages show values the way the rest of the product does: money as a Decimal with its currency
(never a float), times in the organisation's time zone, choices by their translated label.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import ForeignKey, Model
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

EMPTY = "—"

#: Models that have a detail page in the UI, by label → URL name.
DETAIL_URLS = {
    "customers.account": "account_detail",
    "customers.contact": "contact_detail",
    "customers.lead": "lead_detail",
    "pipeline.opportunity": "opportunity_detail",
    "activities.activity": "activity_detail",
    "activities.task": "task_detail",
    "sales.order": "order_detail",
    "sales.invoice": "invoice_detail",
    "sales.payment": "payment_detail",
    "sales.contract": "contract_detail",
}

#: Money fields and the attribute that holds their currency.
MONEY_FIELDS = {
    "amount",
    "budget",
    "total",
    "cost_total",
    "margin",
    "value",
    "paid_amount",
    "list_price",
}


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    css: str = ""


def detail_url(obj: Model | None) -> str:
    if obj is None:
        return ""
    name = DETAIL_URLS.get(obj._meta.label_lower)
    if not name:
        return ""
    try:
        return reverse(name, args=[obj.pk])
    except NoReverseMatch:
        return ""


def money(value: Decimal | None, currency: str = "") -> str:
    """``1,234,567.80 CNY``: groups of three in both languages, as on Chinese invoices too."""
    if value is None:
        return EMPTY
    return f"{Decimal(value):,.2f} {currency}".strip()


def plain(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    if isinstance(value, list):
        return ", ".join(map(str, value)) or EMPTY
    return str(value)


def _choice_labels(field) -> dict[Any, str]:
    """A field's choice labels in the active language, translated once per field and language.

    Why: ``get_FOO_display`` rebuilds and re-translates the choice list on every call, which was
    two thirds of a 100-row list page's time.
    """
    key = (field, get_language())
    labels = _CHOICE_CACHE.get(key)
    if labels is None:
        labels = {k: str(v) for k, v in field.flatchoices}
        _CHOICE_CACHE[key] = labels
    return labels


_CHOICE_CACHE: dict[tuple[Any, str | None], dict[Any, str]] = {}


def field_cell(obj: Model, name: str, *, link: bool = False) -> Cell:
    """The cell for ``obj.<name>``; ``link`` makes it point at ``obj``'s own detail page."""
    field = obj._meta.get_field(name)
    if isinstance(field, ForeignKey):
        target = getattr(obj, name)
        return Cell(plain(target) if target is not None else EMPTY, detail_url(target))
    value = getattr(obj, name)
    if getattr(field, "choices", None):
        text = _choice_labels(field).get(value, str(value)) if value not in (None, "") else EMPTY
        return Cell(
            text, detail_url(obj) if link else "", css=f"sl-{name}-{value}" if value else ""
        )
    if name in MONEY_FIELDS:
        return Cell(
            money(value, getattr(obj, "currency", "")),
            detail_url(obj) if link else "",
            css="text-end text-nowrap",
        )
    text = plain(value)
    if link and text == EMPTY:
        text = str(obj)
    return Cell(text, detail_url(obj) if link else "")


def field_label(model: type[Model], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)
