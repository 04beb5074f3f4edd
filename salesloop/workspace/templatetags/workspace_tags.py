"""Presentation helpers for the workspace: stage names per language, money, rates."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()


@register.filter(name="local_name")
@register.filter
def stage_label(stage) -> str:
    """Stages are data with a Chinese and an English name; show the one for the page's language."""
    if stage is None:
        return ""
    language = (get_language() or "").lower()
    if not language.startswith("zh") and getattr(stage, "name_en", ""):
        return stage.name_en
    return stage.name


@register.filter
def money(amount) -> str:
    """A Decimal amount, two places, grouped as the locale groups (the currency is shown beside)."""
    if amount is None:
        return "—"
    return number_format(Decimal(amount), 2, use_l10n=True, force_grouping=True)


@register.filter
def percent(rate) -> str:
    if rate is None or rate == "":
        return "—"
    return f"{number_format(rate, 1)}%"
