"""Analytics views of pipeline intelligence: who sees which numbers, and campaign-cost writes.

Who sees what (decided here once; the API and the pages call these):

* **Regional distribution** is a revenue analysis: it needs read access to deals
  (``org.access``: the sales line and finance). Accounts and deals are each restricted by their
  own rule.
* **Lead sources** work on leads (the sales line and marketing): the viewer's leads, and the
  deals converted from them as aggregates.
* **Won-deal profile** counts the deals the viewer may read *plus* the deals converted from leads
  the viewer may read, so marketing — who owns every lead but no deal record — sees the profile
  of the deals their leads became, and a rep sees their own book. No deal is listed, only sums.
* **Costs** are organisation-wide (no owner): set against a partial book they would make cost
  per lead meaningless, so cost figures are shown only to viewers whose lead scope covers the
  whole organisation (scope "all", or a subtree rooted at the company node).

Campaign costs are written by marketing, managers and admin (``org.access`` policy of
``intel.campaigncost``) through ``core.records`` (scope check, validation, audit log).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from salesloop.core import records
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.customers.models import Account, Lead, SourceChannel
from salesloop.intel.models import CampaignCost
from salesloop.org import access
from salesloop.org.models import OrgSettings, User
from salesloop.pipeline.models import Opportunity


def regional_scope(user: User) -> tuple[QuerySet, QuerySet]:
    """(visible accounts, visible deals) for the regional view; ``Forbidden`` without deal access."""
    if not access.can_read_model(user, Opportunity):
        raise Forbidden(_("The regional view needs access to deals."))
    return (
        access.restrict(Account.objects.all(), user, "read"),
        access.restrict(Opportunity.objects.all(), user, "read"),
    )


def source_scope(user: User) -> QuerySet:
    """The leads of the lead-source view; ``Forbidden`` for roles that do not read leads."""
    if not access.can_read_model(user, Lead):
        raise Forbidden(_("The lead-source view needs access to leads."))
    return access.restrict(Lead.objects.all(), user, "read")


def profile_scope(user: User) -> QuerySet:
    """Deals the viewer may read or that came from a lead the viewer may read."""
    reads_deals = access.can_read_model(user, Opportunity)
    reads_leads = access.can_read_model(user, Lead)
    if not reads_deals and not reads_leads:
        raise Forbidden(_("The won-deal profile needs access to deals or leads."))
    cond = Q(pk__in=[])
    if reads_deals:
        cond |= Q(pk__in=access.restrict(Opportunity.objects.all(), user, "read").values("pk"))
    if reads_leads:
        cond |= Q(lead_id__in=access.restrict(Lead.objects.all(), user, "read").values("pk"))
    return Opportunity.objects.filter(cond)


def sees_all_leads(user: User) -> bool:
    """Does the viewer's lead scope cover the whole organisation (so costs can be set against it)?"""
    scope = access.scope_for(user, Lead, "read")
    if scope == access.Scope.ALL:
        return True
    return scope == access.Scope.SUBTREE and user.team is not None and user.team.parent_id is None


# -- campaign costs -----------------------------------------------------------------------------

_FIELDS = ("source", "campaign", "period_start", "period_end", "amount", "currency")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Field errors a form and the API report alike (422), before the model's own validation."""
    errors: dict[str, list[str]] = {}
    out = {k: data[k] for k in _FIELDS if k in data}
    out["source"] = (out.get("source") or "").strip()
    out["campaign"] = (out.get("campaign") or "").strip()
    if out["source"] and out["source"] not in SourceChannel.values:
        errors["source"] = [_("Choose one of %(choices)s.") % {"choices": ", ".join(SourceChannel.values)}]
    if not out["source"] and not out["campaign"]:
        errors["campaign"] = [_("Give a source, a campaign or both.")]
    if len(out["campaign"]) > 120:
        errors["campaign"] = [_("At most 120 characters.")]
    start, end = out.get("period_start"), out.get("period_end")
    for name, value in (("period_start", start), ("period_end", end)):
        if not isinstance(value, dt.date):
            errors[name] = [_("A date is required.")]
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors["period_end"] = [_("The end must not be before the start.")]
    try:
        amount = Decimal(str(out.get("amount")))
        if not amount.is_finite():
            raise InvalidOperation
        if amount < 0:
            errors["amount"] = [_("The cost cannot be negative.")]
        elif amount != amount.quantize(Decimal("0.01")):
            errors["amount"] = [_("At most two decimal places.")]
        out["amount"] = amount.quantize(Decimal("0.01")) if "amount" not in errors else amount
    except (InvalidOperation, ValueError):
        errors["amount"] = [_("A number is required.")]
    currency = OrgSettings.current().currency
    out["currency"] = (out.get("currency") or currency).upper()
    if out["currency"] != currency:
        # Revenue is summed in the organisation currency; a cost in another would be compared
        # with it at face value.
        errors["currency"] = [
            _("Costs are recorded in the organisation currency (%(currency)s).") % {"currency": currency}
        ]
    if errors:
        raise FieldErrors(errors)
    return out


def campaign_cost_create(*, user: User, data: dict[str, Any]) -> CampaignCost:
    if not access.can_write_model(user, CampaignCost):
        raise Forbidden(_("Campaign costs are kept by marketing, managers and admin."))
    return records.record_create(model=CampaignCost, user=user, data=_clean(data))


@transaction.atomic
def campaign_cost_update(*, user: User, cost_id: int, data: dict[str, Any]) -> CampaignCost:
    """Change the fields in ``data`` (the rest keep their values) and validate the whole entry.
    ``CampaignCost.DoesNotExist`` when invisible (404),
    ``Forbidden`` when readable but not writable (403)."""
    access.restrict(CampaignCost.objects.all(), user, "read").get(pk=cost_id)
    if not access.can_write_model(user, CampaignCost):
        raise Forbidden(_("Campaign costs are kept by marketing, managers and admin."))
    instance = records.get_for_write(CampaignCost, cost_id, user)
    merged = {name: getattr(instance, name) for name in _FIELDS}
    merged.update({k: v for k, v in data.items() if k in _FIELDS and v is not None})
    instance, _changes = records.record_update(instance=instance, user=user, data=_clean(merged), version=None)
    return instance


@transaction.atomic
def campaign_cost_delete(*, user: User, cost_id: int) -> None:
    access.restrict(CampaignCost.objects.all(), user, "read").get(pk=cost_id)
    if not access.can_write_model(user, CampaignCost):
        raise Forbidden(_("Campaign costs are kept by marketing, managers and admin."))
    records.record_delete(instance=records.get_for_write(CampaignCost, cost_id, user), user=user, version=None)
