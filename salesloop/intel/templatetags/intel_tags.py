"""Template helpers of the pipeline-intelligence pages: rates as percentages, routing conditions
in words, and the routing history shown on a lead's page."""

from __future__ import annotations

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesloop.customers.models import Lead
from salesloop.intel.models import LeadAssignment
from salesloop.org import access

register = template.Library()

OP_LABELS = {
    "eq": "=",
    "ne": "≠",
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "gte": "≥",
    "lte": "≤",
    "gt": ">",
    "lt": "<",
    "contains": gettext_lazy("contains"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
}


@register.filter
def rate_pct(value, digits: int = 0) -> str:
    """A fraction (0.3) as a percentage ("30%"); None as a dash."""
    if value is None:
        return "—"
    return f"{number_format(100 * float(value), digits)}%"


@register.filter
def condition_text(cond: dict) -> str:
    """``{"field": "budget", "op": "gte", "value": "100000"}`` → "budget ≥ 100000" in the viewer's
    language (the field by its verbose name)."""
    name = cond.get("field", "")
    try:
        label = str(Lead._meta.get_field(name.removesuffix("_id")).verbose_name)
    except FieldDoesNotExist:  # an unknown field is shown as typed (conditions are validated on save)
        label = name
    op = cond.get("op", "")
    value = cond.get("value", "")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if op in ("empty", "not_empty"):
        value = ""
    return f"{label} {OP_LABELS.get(op, op)} {value}".strip()


@register.inclusion_tag("intel/_routing_lead_history.html", takes_context=True)
def lead_assignments(context, lead: Lead) -> dict:
    """A lead's routing history (which rule fired, why, to whom), as far as the viewer may read it."""
    user = context["request"].user
    rows = list(
        access.restrict(LeadAssignment.objects.filter(lead=lead), user, "read")
        .select_related("assignee", "rule")
        .order_by("-assigned_at", "-id")[:20]
    )
    return {"rows": rows, "title": _("Routing history")}
