"""REST API of the pipeline-intelligence analytics views, under /api/intel/analytics.

Regional distribution, lead-source and campaign effectiveness, won-deal profile, and the campaign
costs behind cost per won deal. Thin handlers: who sees which numbers is decided in
``intel.services_analytics``; the analyses are in ``analytics.queries`` (definitions there).
Money is a decimal string in the organisation currency (``currency``); rates are fractions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from salesloop.analytics.queries import lead_sources, regional, won_profile
from salesloop.core.errors import FieldErrors
from salesloop.core.schemas import ErrorOut
from salesloop.intel import services_analytics as svc
from salesloop.intel.forms_analytics import analytics_period
from salesloop.intel.models import CampaignCost
from salesloop.org import access
from salesloop.org.models import OrgSettings

router = Router(tags=["intel"])

_READ = {200: dict[str, Any], 403: ErrorOut, 422: ErrorOut}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@router.get("/regions", response=_READ, operation_id="intel_analytics_regions")
def regions(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    level: str = Query("province", description=", ".join(regional.LEVELS)),
):
    """Accounts, buying accounts, revenue, won/lost, win rate and average deal size per region,
    province or city (the account's place), ranked by revenue."""
    accounts, deals = svc.regional_scope(request.auth)
    if level not in regional.LEVELS:
        raise FieldErrors({"level": [_("Choose one of %(choices)s.") % {"choices": ", ".join(regional.LEVELS)}]})
    start, end = analytics_period(start, end)
    rows = regional.regional_distribution(
        visible_accounts=accounts, visible_opportunities=deals, start=start, end=end, level=level
    )

    def out(r: regional.PlaceRow) -> dict[str, Any]:
        return {
            "key": list(r.key),
            "label": r.label,
            "accounts": r.accounts,
            "buying_accounts": r.buying_accounts,
            "won": r.won,
            "lost": r.lost,
            "win_rate": _rate(r.win_rate),
            "revenue": _money(r.revenue),
            "avg_deal_size": _money(r.avg_deal_size),
        }

    return {
        "level": level,
        "start": start,
        "end": end,
        "currency": OrgSettings.current().currency,
        "rows": [out(r) for r in rows],
        "total": out(regional.totals(rows)),
    }


@router.get("/sources", response=_READ, operation_id="intel_analytics_sources")
def sources(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    by: str = Query("source", description=", ".join(lead_sources.GROUPINGS)),
):
    """The lead cohort created in the period by source (or source + campaign): leads, converted,
    conversion rate, won deals, revenue and — for viewers who see every lead — prorated cost,
    cost per lead, cost per won deal and ROI."""
    leads = svc.source_scope(request.auth)
    if by not in lead_sources.GROUPINGS:
        raise FieldErrors({"by": [_("Choose one of %(choices)s.") % {"choices": ", ".join(lead_sources.GROUPINGS)}]})
    start, end = analytics_period(start, end)
    with_costs = svc.sees_all_leads(request.auth)
    rows = lead_sources.lead_source_effectiveness(
        visible_leads=leads, start=start, end=end, by=by, with_costs=with_costs
    )

    def out(r: lead_sources.SourceRow) -> dict[str, Any]:
        row: dict[str, Any] = {
            "source": r.key[0] if r.key else None,
            "campaign": r.key[1] if len(r.key) > 1 else None,
            "leads": r.leads,
            "converted": r.converted,
            "conversion_rate": _rate(r.conversion_rate),
            "won_deals": r.won_deals,
            "revenue": _money(r.revenue),
        }
        if with_costs:
            row.update(
                cost=_money(r.cost),
                cost_per_lead=_money(r.cost_per_lead),
                cost_per_won_deal=_money(r.cost_per_won_deal),
                roi=_rate(r.roi),
            )
        return row

    return {
        "by": by,
        "start": start,
        "end": end,
        "currency": OrgSettings.current().currency,
        "costs_shown": with_costs,
        "rows": [out(r) for r in rows],
        "total": out(lead_sources.totals(rows)),
    }


@router.get("/won-profile", response=_READ, operation_id="intel_analytics_won_profile")
def won_profile_view(request: HttpRequest, start: dt.date | None = None, end: dt.date | None = None):
    """Won deals by industry, size, region and source: count, revenue, share, win rate vs all
    closed, lift over the overall win rate and its 95% Wilson interval."""
    deals = svc.profile_scope(request.auth)
    start, end = analytics_period(start, end)
    profile = won_profile.won_deal_profile(visible_opportunities=deals, start=start, end=end)

    def out(s: won_profile.Segment) -> dict[str, Any]:
        interval = s.interval
        return {
            "value": s.value,
            "won": s.won,
            "lost": s.lost,
            "closed": s.closed,
            "revenue": _money(s.revenue),
            "share_of_won": _rate(s.share_of_won),
            "win_rate": _rate(s.win_rate),
            "win_rate_low": None if interval is None else round(interval[0], 4),
            "win_rate_high": None if interval is None else round(interval[1], 4),
            "lift": _rate(s.lift),
            "verdict": s.verdict,
        }

    return {
        "start": start,
        "end": end,
        "currency": OrgSettings.current().currency,
        "won": profile.won,
        "lost": profile.lost,
        "win_rate": _rate(profile.win_rate),
        "revenue": _money((Decimal(profile.revenue_cents) / 100).quantize(Decimal("0.01"))),
        "dimensions": {dim: [out(s) for s in profile.by(dim)] for dim in won_profile.DIMENSIONS},
    }


class CostIn(Schema):
    source: str = ""
    campaign: str = ""
    period_start: dt.date
    period_end: dt.date
    amount: Decimal
    currency: str = ""


class CostPatch(Schema):
    source: str | None = None
    campaign: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    amount: Decimal | None = None
    currency: str | None = None


class CostOut(Schema):
    id: int
    source: str
    campaign: str
    period_start: dt.date
    period_end: dt.date
    amount: Decimal
    currency: str
    created_at: dt.datetime
    updated_at: dt.datetime


def _costs(request: HttpRequest):
    return access.restrict(CampaignCost.objects.all(), request.auth, "read")


@router.get("/campaign-costs", response=list[CostOut], operation_id="intel_analytics_costs")
def cost_list(
    request: HttpRequest,
    source: str | None = None,
    campaign: str | None = None,
    limit: int = Query(200, ge=1, le=1000),
):
    """Cost entries, newest period first (everyone reads them: they are organisation figures)."""
    qs = _costs(request)
    if source is not None:
        qs = qs.filter(source=source)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return list(qs.order_by("-period_start", "id")[:limit])


@router.post(
    "/campaign-costs", response={201: CostOut, 403: ErrorOut, 422: ErrorOut}, operation_id="intel_analytics_cost_create"
)
def cost_create(request: HttpRequest, payload: CostIn):
    return Status(201, svc.campaign_cost_create(user=request.auth, data=payload.model_dump()))


@router.get(
    "/campaign-costs/{int:cost_id}", response={200: CostOut, 404: ErrorOut}, operation_id="intel_analytics_cost_get"
)
def cost_get(request: HttpRequest, cost_id: int):
    return get_object_or_404(_costs(request), pk=cost_id)


@router.patch(
    "/campaign-costs/{int:cost_id}",
    response={200: CostOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="intel_analytics_cost_update",
)
def cost_update(request: HttpRequest, cost_id: int, payload: CostPatch):
    """Change the fields sent; the others keep their values (the whole entry is validated)."""
    return svc.campaign_cost_update(user=request.auth, cost_id=cost_id, data=payload.model_dump(exclude_unset=True))


@router.delete(
    "/campaign-costs/{int:cost_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    operation_id="intel_analytics_cost_delete",
)
def cost_delete(request: HttpRequest, cost_id: int):
    svc.campaign_cost_delete(user=request.auth, cost_id=cost_id)
    return Status(204, None)
