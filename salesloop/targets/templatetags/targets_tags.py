"""Small display helpers for the targets pages."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()

_BADGE = {
    "on_track": "success",
    "done": "primary",
    "at_risk": "warning text-dark",
    "behind": "danger",
    "no_target": "secondary",
}


@register.filter
def badge_class(status: str) -> str:
    return _BADGE.get(status, "secondary")


@register.filter
def num(value) -> str:
    """Money with two decimals and separators; whole counts without decimals."""
    if value is None or value == "":
        return "—"
    value = Decimal(str(value))
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


@register.filter
def pct(value) -> str:
    return "—" if value is None else f"{value}%"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def yes_no(flag: bool) -> str:
    return _("yes") if flag else _("no")
