"""Pages of the analytics views: regional distribution, lead sources and campaigns, won profile.

Thin: the period picker in, ``analytics.queries`` out; who sees which numbers is decided in
``intel.services_analytics`` (the same functions the API uses), so a page shows exactly the book
its viewer may read. Bad input re-renders the page with the field errors (422); a role without
access gets 403. Charts are plotly ranked bars fed from a ``json_script`` block.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from salesloop.analytics.queries import lead_sources, regional, won_profile
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.customers.models import CompanySize, SourceChannel
from salesloop.intel import services_analytics as svc
from salesloop.intel.forms_analytics import CampaignCostForm, PeriodForm, analytics_period
from salesloop.intel.models import CampaignCost
from salesloop.org import access
from salesloop.org.models import OrgSettings

#: Places drawn in the ranked-bar charts (the table lists them all).
CHART_TOP = 20


def _period(request: HttpRequest) -> tuple[PeriodForm, tuple | None]:
    """The period picker and its period, or ``None`` with the errors on the form."""
    form = PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    try:
        return form, analytics_period(data.get("start"), data.get("end"))
    except FieldErrors as exc:
        for name, msgs in exc.errors.items():
            for msg in msgs:
                form.add_error(name if name in form.fields else None, msg)
        return form, None


def _choice(request: HttpRequest, name: str, choices, default: str) -> str | None:
    value = request.GET.get(name, default)
    return value if value in choices else None


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _render(request: HttpRequest, template: str, context: dict[str, Any], ok: bool) -> HttpResponse:
    context.setdefault("currency", OrgSettings.current().currency)
    return render(request, template, context, status=200 if ok else 422)


@require_GET
@login_required
def regions(request: HttpRequest) -> HttpResponse:
    try:
        accounts, deals = svc.regional_scope(request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    form, period = _period(request)
    level = _choice(request, "level", regional.LEVELS, "province")
    if level is None:
        form.add_error(None, _("Choose one of %(choices)s.") % {"choices": ", ".join(regional.LEVELS)})
    context: dict[str, Any] = {
        "form": form,
        "level": level or "province",
        "levels": _level_labels(),
        "keep": [("level", level or "province")],
    }
    if period is None or level is None:
        return _render(request, "intel/regions.html", context, ok=False)
    rows = regional.regional_distribution(
        visible_accounts=accounts, visible_opportunities=deals, start=period[0], end=period[1], level=level
    )
    top = rows[:CHART_TOP]
    not_set = _("Not set")
    context.update(
        start=period[0],
        end=period[1],
        rows=rows,
        total=regional.totals(rows),
        chart={
            "charts": [
                {
                    "target": "chart-revenue",
                    "title": _("Revenue by place (top %(n)s)") % {"n": CHART_TOP},
                    "labels": [r.label or not_set for r in top],
                    "values": [float(r.revenue) for r in top],
                },
                {
                    "target": "chart-winrate",
                    "title": _("Win rate by place (top %(n)s by revenue)") % {"n": CHART_TOP},
                    "labels": [r.label or not_set for r in top],
                    "values": [_float(r.win_rate) for r in top],
                    "percent": True,
                },
            ]
        },
    )
    return _render(request, "intel/regions.html", context, ok=True)


def _level_labels() -> list[tuple[str, str]]:
    return [("region", _("Region")), ("province", _("Province")), ("city", _("City"))]


@require_http_methods(["GET", "POST"])
@login_required
def sources(request: HttpRequest) -> HttpResponse:
    try:
        leads = svc.source_scope(request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    can_write_costs = access.can_write_model(request.user, CampaignCost)
    cost_form = CampaignCostForm()
    cost_ok = True
    if request.method == "POST":
        if not can_write_costs:
            raise PermissionDenied(_("Campaign costs are kept by marketing, managers and admin."))
        if "delete" in request.POST:
            try:
                svc.campaign_cost_delete(user=request.user, cost_id=int(request.POST["delete"]))
            except (ValueError, CampaignCost.DoesNotExist) as exc:
                raise Http404 from exc
            messages.success(request, _("Cost deleted."))
            return redirect(request.get_full_path())
        cost_form = CampaignCostForm(request.POST)
        if cost_form.is_valid():
            try:
                svc.campaign_cost_create(user=request.user, data=cost_form.cleaned_data)
            except FieldErrors as exc:
                cost_form.add_field_errors(exc.errors)
            else:
                messages.success(request, _("Cost saved."))
                return redirect(request.get_full_path())
        cost_ok = False
    form, period = _period(request)
    by = _choice(request, "by", lead_sources.GROUPINGS, "source")
    if by is None:
        form.add_error(None, _("Choose one of %(choices)s.") % {"choices": ", ".join(lead_sources.GROUPINGS)})
    context: dict[str, Any] = {
        "form": form,
        "by": by or "source",
        "keep": [("by", by or "source")],
        "cost_form": cost_form,
        "can_write_costs": can_write_costs,
        "costs": list(
            access.restrict(CampaignCost.objects.all(), request.user, "read").order_by("-period_start", "id")[:50]
        ),
        "source_labels": dict(SourceChannel.choices),
    }
    if period is None or by is None:
        return _render(request, "intel/sources.html", context, ok=False)
    with_costs = svc.sees_all_leads(request.user)
    rows = lead_sources.lead_source_effectiveness(
        visible_leads=leads, start=period[0], end=period[1], by=by, with_costs=with_costs
    )
    labels = dict(SourceChannel.choices)
    not_set = _("Not set")

    def label(r: lead_sources.SourceRow) -> str:
        name = str(labels.get(r.key[0], r.key[0])) if r.key[0] else not_set
        return f"{name} · {r.key[1]}" if len(r.key) > 1 and r.key[1] else name

    charts = [
        {
            "target": "chart-leads",
            "title": _("Leads and won deals"),
            "labels": [label(r) for r in rows[:CHART_TOP]],
            "series": [
                {"name": _("Leads"), "values": [r.leads for r in rows[:CHART_TOP]]},
                {"name": _("Converted"), "values": [r.converted for r in rows[:CHART_TOP]]},
                {"name": _("Won deals"), "values": [r.won_deals for r in rows[:CHART_TOP]]},
            ],
        }
    ]
    if with_costs:
        priced = [r for r in rows if r.cost_per_won_deal is not None][:CHART_TOP]
        charts.append(
            {
                "target": "chart-cost",
                "title": _("Cost per won deal"),
                "labels": [label(r) for r in priced],
                "values": [float(r.cost_per_won_deal) for r in priced],
            }
        )
    context.update(
        start=period[0],
        end=period[1],
        rows=[(label(r), r) for r in rows],
        total=lead_sources.totals(rows),
        with_costs=with_costs,
        chart={"charts": charts},
    )
    return _render(request, "intel/sources.html", context, ok=cost_ok)


@require_GET
@login_required
def won_profile_page(request: HttpRequest) -> HttpResponse:
    try:
        deals = svc.profile_scope(request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    form, period = _period(request)
    context: dict[str, Any] = {"form": form}
    if period is None:
        return _render(request, "intel/won_profile.html", context, ok=False)
    profile = won_profile.won_deal_profile(visible_opportunities=deals, start=period[0], end=period[1])
    value_labels = {
        "size": dict(CompanySize.choices),
        "source": dict(SourceChannel.choices),
    }
    titles = {"industry": _("Industry"), "size": _("Company size"), "region": _("Region"), "source": _("Source")}
    not_set = _("Not set")
    sections = []
    charts = []
    for dim in won_profile.DIMENSIONS:
        segments = profile.by(dim)
        named = [(str(value_labels.get(dim, {}).get(s.value, s.value)) if s.value else not_set, s) for s in segments]
        sections.append({"dimension": dim, "title": titles[dim], "segments": named})
        shown = [(n, s) for n, s in named if s.win_rate is not None][:CHART_TOP]
        charts.append(
            {
                "target": f"chart-{dim}",
                "title": _("Win rate by %(dimension)s") % {"dimension": titles[dim]},
                "labels": [n for n, _s in shown],
                "values": [_float(s.win_rate) for _n, s in shown],
                "percent": True,
                "reference": _float(profile.win_rate),
                "reference_name": _("Overall win rate"),
            }
        )
    context.update(start=period[0], end=period[1], profile=profile, sections=sections, chart={"charts": charts})
    return _render(request, "intel/won_profile.html", context, ok=True)
