"""Template helpers for the shell and the record pages."""

from django import template
from django.utils.http import urlencode

from salesloop.web import display, navigation, selectors

register = template.Library()


@register.simple_tag
def nav_sections(user):
    return navigation.nav_for(user)


@register.simple_tag
def home_url():
    return navigation.home_url()


@register.simple_tag
def task_alerts(user):
    if not user.is_authenticated:
        return None
    return selectors.task_alerts_for(user=user)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with ``changes`` applied (``None``/"" removes a key).

    Sort links and pager links keep every filter the user set.
    """
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = urlencode(sorted((k, v) for k in params for v in params.getlist(k) if v != ""))
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def query_without(context, name):
    """The current query string without ``name`` (and back on the first page)."""
    return query_with(context, **{name: None, "page": None})


@register.filter
def widget(bound_field):
    """Render a form field's widget with Bootstrap classes, marked invalid when it has errors."""
    attrs = dict(bound_field.field.widget.attrs)
    css = attrs.get("class", "")
    if not css:
        css = (
            "form-select"
            if bound_field.widget_type in ("select", "selectmultiple")
            else "form-control"
        )
        if bound_field.widget_type == "checkbox":
            css = "form-check-input"
    if bound_field.errors:
        css += " is-invalid"
    return bound_field.as_widget(attrs={"class": css})


@register.filter
def money(value, currency=""):
    """``{{ deal.amount|money:deal.currency }}`` → ``250,000.00 CNY``."""
    return display.money(value, currency)
