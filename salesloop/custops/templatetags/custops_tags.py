from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def label_of(labels: dict, code: str) -> str:
    """The display name of a segment code (the code itself once its row was deleted)."""
    if not code:
        return "—"
    return labels.get(code, code)


@register.filter
def money(amount) -> str:
    if amount is None:
        return "—"
    return number_format(Decimal(amount), 2, use_l10n=True, force_grouping=True)


@register.filter
def pct(value, digits: int = 0) -> str:
    """A probability (0–1) as a percentage."""
    if value is None:
        return "—"
    return f"{number_format(100 * float(value), digits)}%"


@register.inclusion_tag("custops/_menu.html", takes_context=True)
def custops_nav(context):
    """The header's customer-operations menu: the sales line and admin get every page,
    marketing and after-sales the needs report (the rest of their book is not theirs)."""
    from salesloop.org.models import LEADING_ROLES, Role

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    sales = user.is_superuser or user.role in (Role.REP, Role.ADMIN, *LEADING_ROLES)
    needs = sales or user.role in (Role.MARKETING, Role.AFTER_SALES)
    return {"show": sales or needs, "sales": sales, "needs": needs}
