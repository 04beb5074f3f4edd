"""The header's notification badge and automation menu, for ``base.html``."""

from django import template

from salesloop.notifications import selectors

register = template.Library()


@register.inclusion_tag("notifications/_badge.html", takes_context=True)
def notification_badge(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"unread": selectors.unread_count(user=user) if user is not None else 0}


@register.inclusion_tag("automation/_nav.html", takes_context=True)
def automation_nav(context):
    from salesloop.org.models import LEADING_ROLES, Role

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    is_admin = user.is_superuser or user.is_admin_role
    sales = user.role in (Role.REP, *LEADING_ROLES)
    return {
        "show": True,
        "sales": sales,
        "leads": user.role in LEADING_ROLES or is_admin,
        "admin": is_admin,
    }
