"""Search-as-you-type choices for foreign keys to big tables (accounts, contacts, deals, ...).

Why: a director's "account" drop-down would list every account in the company (hundreds of KB
of HTML and seconds to render). The form's field still validates against the full restricted
queryset; only what is rendered changes: the select holds the chosen record, and typing in the
search box above it fetches up to ``LOOKUP_LIMIT`` matching options through ``org.access``.
"""

from dataclasses import dataclass

from django import forms
from django.db.models import Model, Q, QuerySet
from django.forms.models import ModelChoiceIteratorValue
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from salesloop.customers.models import Account, Contact, Lead
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Invoice, Order

LOOKUP_LIMIT = 30


@dataclass(frozen=True)
class Lookup:
    model: type[Model]
    search: tuple[str, ...]
    related: tuple[str, ...] = ()


LOOKUPS: dict[str, Lookup] = {
    "account": Lookup(Account, ("name__icontains", "phone__icontains", "external_id__iexact")),
    "contact": Lookup(
        Contact, ("name__icontains", "phone__icontains", "email__icontains"), ("account",)
    ),
    "lead": Lookup(Lead, ("name__icontains", "company__icontains", "phone__icontains")),
    "opportunity": Lookup(Opportunity, ("name__icontains", "account__name__icontains")),
    "order": Lookup(Order, ("number__icontains", "account__name__icontains")),
    "invoice": Lookup(Invoice, ("number__icontains", "account__name__icontains")),
}
_KEY_BY_MODEL = {lookup.model: key for key, lookup in LOOKUPS.items()}


def key_for(model: type[Model]) -> str | None:
    return _KEY_BY_MODEL.get(model)


def lookup_options(*, key: str, user: User, query: str) -> QuerySet:
    """Up to ``LOOKUP_LIMIT`` records of kind ``key`` that ``user`` may read matching ``query``."""
    lookup = LOOKUPS[key]
    qs = access.restrict(lookup.model._default_manager.all(), user, "read")
    if lookup.related:
        qs = qs.select_related(*lookup.related)
    if lookup.model is User:  # people who have left are never offered (core.records refuses them)
        qs = qs.filter(is_active=True)
    query = query.strip()
    if query:
        condition = Q()
        for term in lookup.search:
            condition |= Q(**{term: query})
        qs = qs.filter(condition)
    return qs.order_by("-id")[:LOOKUP_LIMIT]


class LookupSelect(forms.Select):
    """A select that renders only the chosen record, with a search box that loads the rest."""

    template_name = "web/widgets/lookup_select.html"

    def __init__(self, key: str, attrs=None):
        super().__init__(attrs)
        self.key = key

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["lookup_url"] = reverse("lookup", args=[self.key])
        context["widget"]["placeholder"] = _("Type to search…")
        return context

    def optgroups(self, name, value, attrs=None):
        iterator = self.choices
        if not hasattr(iterator, "queryset"):  # plain choices: nothing to trim
            return super().optgroups(name, value, attrs)
        chosen = [v for v in value if str(v).isdigit()]
        choices = []
        if iterator.field.empty_label is not None:
            choices.append(("", iterator.field.empty_label))
        for obj in iterator.queryset.filter(pk__in=chosen) if chosen else ():
            choices.append(
                (ModelChoiceIteratorValue(iterator.field.prepare_value(obj), obj), str(obj))
            )
        self.choices = choices
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = iterator
