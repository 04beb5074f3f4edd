"""REST API of pipeline intelligence under /api/intel: funnel, heatmap, routing.

Thin handlers: visibility comes from ``org.access.restrict``; the analyses are in
``analytics.queries``; writes go through ``intel.services``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from salesloop.activities.models import Activity
from salesloop.analytics.queries.funnel import DIMENSIONS, funnel_review
from salesloop.analytics.queries.heatmap import activity_heatmap
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.core.schemas import ErrorOut
from salesloop.customers.models import Lead
from salesloop.intel import services
from salesloop.intel.models import FunnelBenchmark, LeadAssignment, RoutingRule
from salesloop.org import access
from salesloop.pipeline.models import LossReason, Opportunity, Stage

router = Router(tags=["intel"])

MAX_DAYS = 3 * 366


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Default: the last 365 days up to today (local)."""
    end = end or timezone.localdate()
    start = start or end - dt.timedelta(days=364)
    if start > end:
        raise FieldErrors({"start": [_("The start must not be after the end.")]})
    if (end - start).days > MAX_DAYS:
        raise FieldErrors({"start": [_("Choose a period of at most three years.")]})
    return start, end


def _ratio(value) -> float | None:
    return None if value is None else float(value)


@router.get("/funnel", response={200: dict[str, Any], 403: ErrorOut, 422: ErrorOut}, operation_id="intel_funnel")
def funnel(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    dimension: str = Query("company", description=", ".join(DIMENSIONS)),
):
    """Cohort conversion between stages (in stage order), benchmarks, leaks with loss reasons,
    time in stage, win rate and cycle; the counting rule is in ``analytics.queries.funnel``."""
    if not access.can_read_model(request.auth, Opportunity):
        raise Forbidden()
    if dimension not in DIMENSIONS:
        raise FieldErrors({"dimension": [_("Choose one of %(dims)s.") % {"dims": ", ".join(DIMENSIONS)}]})
    start, end = _period(start, end)
    result = funnel_review(
        visible_opportunities=access.restrict(Opportunity.objects.all(), request.auth, "read"),
        start=start,
        end=end,
        dimension=dimension,
    )
    stages = {s.order: s for s in Stage.objects.filter(is_active=True, is_lost=False).order_by("order", "id")}
    reasons = dict(LossReason.objects.values_list("pk", "name"))

    def step_out(s) -> dict[str, Any]:
        return {
            "key": s.key,
            "from_stage": stages[s.from_order].code,
            "to_stage": stages[s.to_order].code,
            "cohort": s.cohort,
            "converted": s.converted,
            "rate": _ratio(s.rate),
            "avg_days_to_reach": s.avg_days,
            "benchmark": _ratio(s.benchmark),
            "benchmark_label": s.benchmark_label,
            "is_leak": s.is_leak,
            "loss_reasons": [
                {"reason_id": r, "reason": reasons.get(r, _("No reason")), "deals": n} for r, n in s.loss_reasons
            ],
        }

    return {
        "dimension": dimension,
        "start": start,
        "end": end,
        "as_of": result.as_of,
        "stages": [{"code": s.code, "name": str(s), "order": s.order} for s in stages.values()],
        "steps": [step_out(s) for s in result.steps],
        "benchmarked": [step_out(s) for s in result.pairs if s.benchmark is not None],
        "time_in_stage": [
            {"key": t.key, "stage": stages[t.order].code if t.order in stages else None, "visits": t.visits,
             "avg_days": t.avg_days}
            for t in sorted(result.stage_times, key=lambda t: (str(t.key), t.order))
        ],
        "outcomes": [
            {"key": o.key, "won": o.won, "lost": o.lost, "win_rate": _ratio(o.win_rate),
             "avg_cycle_days": o.avg_cycle_days}
            for o in result.outcomes
        ],
    }


@router.get("/heatmap", response={200: dict[str, Any], 403: ErrorOut, 422: ErrorOut}, operation_id="intel_heatmap")
def heatmap(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    by: str = Query("hour", pattern="^(hour|rep)$"),
    kind: str | None = None,
):
    """Weekday × hour (or × rep) of activities and their positive-outcome rate."""
    if not access.can_read_model(request.auth, Activity):
        raise Forbidden()
    start, end = _period(start, end)
    cells = activity_heatmap(
        visible_activities=access.restrict(Activity.objects.all(), request.auth, "read"),
        start=start,
        end=end,
        by=by,
        kind=kind,
    )
    return {
        "by": by,
        "start": start,
        "end": end,
        "cells": [
            {"weekday": c.weekday, "column": c.column, "activities": c.activities, "recorded": c.recorded,
             "positive": c.positive, "conversion": _ratio(c.conversion)}
            for c in cells
        ],
    }


class AssignmentOut(Schema):
    id: int
    lead_id: int
    assignee_id: int | None
    rule_id: int | None
    strategy: str
    reason: str
    assigned_at: dt.datetime


@router.get("/assignments", response=list[AssignmentOut], operation_id="intel_assignments")
def assignments(request: HttpRequest, lead_id: int | None = None, limit: int = Query(100, ge=1, le=500)):
    """The routing log: which rule fired for which lead, and why (visible by assignee)."""
    qs = access.restrict(LeadAssignment.objects.all(), request.auth, "read")
    if lead_id is not None:
        qs = qs.filter(lead_id=lead_id)
    return list(qs.order_by("-assigned_at", "-id")[:limit])


class UnassignedOut(Schema):
    id: int
    name: str
    company: str
    source: str
    industry: str
    province: str
    created_at: dt.datetime
    reason: str | None = None


@router.get("/leads/unassigned", response=list[UnassignedOut], operation_id="intel_unassigned_leads")
def unassigned_leads(request: HttpRequest, limit: int = Query(200, ge=1, le=1000)):
    """Leads no rule could place, with the routing log's last word on why."""
    leads = list(
        access.restrict(Lead.objects.filter(owner__isnull=True), request.auth, "read").order_by("-created_at")[:limit]
    )
    why: dict[int, str] = {}
    for a in LeadAssignment.objects.filter(lead__in=leads, assignee__isnull=True).order_by("assigned_at"):
        why[a.lead_id] = a.reason
    for lead in leads:
        lead.reason = why.get(lead.pk)
    return leads


class RuleIn(Schema):
    name: str
    position: int = 100
    is_active: bool = True
    match: str = "all"
    conditions: list[dict[str, Any]] = []
    strategy: str
    team_id: int | None = None
    user_id: int | None = None
    seniority: str = ""


class RuleOut(RuleIn):
    id: int


@router.get("/routing-rules", response=list[RuleOut], operation_id="intel_rules")
def rules(request: HttpRequest):
    return list(access.restrict(RoutingRule.objects.all(), request.auth, "read"))


@router.post(
    "/routing-rules", response={201: RuleOut, 403: ErrorOut, 422: ErrorOut}, operation_id="intel_rule_create"
)
def rule_create(request: HttpRequest, payload: RuleIn):
    return Status(201, services.routing_rule_save(user=request.auth, data=payload.model_dump()))


@router.patch(
    "/routing-rules/{int:rule_id}",
    response={200: RuleOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="intel_rule_update",
)
def rule_update(request: HttpRequest, rule_id: int, payload: RuleIn):
    get_object_or_404(access.restrict(RoutingRule.objects.all(), request.auth, "read"), pk=rule_id)
    try:
        rule = services.routing_rule_save(user=request.auth, data=payload.model_dump(), rule_id=rule_id)
    except RoutingRule.DoesNotExist as exc:
        raise Forbidden(_("You may read this rule but not change it.")) from exc
    return Status(200, rule)


# Issue #7 pages: benchmarks, "route now" and the routing dry run ---------------------------------


class BenchmarkIn(Schema):
    from_stage_id: int
    to_stage_id: int
    rate: Decimal = Field(ge=0, le=1, description="a fraction: 0.5 = 50%")
    label: str = "industry"


class BenchmarkOut(BenchmarkIn):
    id: int


@router.get("/benchmarks", response=list[BenchmarkOut], operation_id="intel_benchmarks")
def benchmarks(request: HttpRequest):
    return list(access.restrict(FunnelBenchmark.objects.all(), request.auth, "read"))


@router.post(
    "/benchmarks", response={201: BenchmarkOut, 403: ErrorOut, 422: ErrorOut}, operation_id="intel_benchmark_create"
)
def benchmark_create(request: HttpRequest, payload: BenchmarkIn):
    """Managers, directors and admin keep the benchmarks the funnel compares against."""
    return Status(201, services.benchmark_save(user=request.auth, data=payload.model_dump()))


@router.patch(
    "/benchmarks/{int:benchmark_id}",
    response={200: BenchmarkOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="intel_benchmark_update",
)
def benchmark_update(request: HttpRequest, benchmark_id: int, payload: BenchmarkIn):
    get_object_or_404(access.restrict(FunnelBenchmark.objects.all(), request.auth, "read"), pk=benchmark_id)
    try:
        benchmark = services.benchmark_save(user=request.auth, data=payload.model_dump(), benchmark_id=benchmark_id)
    except FunnelBenchmark.DoesNotExist as exc:
        raise Forbidden(_("You may read this benchmark but not change it.")) from exc
    return Status(200, benchmark)


@router.post(
    "/leads/{int:lead_id}/route",
    response={200: AssignmentOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="intel_lead_route",
)
def lead_route_now(request: HttpRequest, lead_id: int):
    """Run the routing rules now on an unassigned lead (404 when the caller cannot see it)."""
    return Status(200, services.lead_route_now(user=request.auth, lead_id=lead_id))


class PreviewIn(Schema):
    lead: dict[str, Any]


class PreviewStepOut(Schema):
    rule_id: int
    rule: str
    fired: bool
    why: str


class PreviewOut(Schema):
    rule_id: int | None
    assignee_id: int | None
    reason: str
    tried: list[PreviewStepOut]


@router.post(
    "/routing/preview", response={200: PreviewOut, 403: ErrorOut, 422: ErrorOut}, operation_id="intel_routing_preview"
)
def routing_preview(request: HttpRequest, payload: PreviewIn):
    """Which rule would fire for this lead and who would get it; nothing is written."""
    preview = services.lead_route_preview(user=request.auth, data=payload.lead)
    return Status(
        200,
        {
            "rule_id": preview.rule.pk if preview.rule else None,
            "assignee_id": preview.assignee.pk if preview.assignee else None,
            "reason": preview.reason,
            "tried": [{"rule_id": r.pk, "rule": r.name, "fired": f, "why": w} for r, f, w in preview.tried],
        },
    )
