"""REST API for targets and the daily loop, mounted under ``/api/targets``.

Thin handlers: schemas in, ``services`` / ``selectors`` / analyses, schemas out. Visibility and
write rights come from ``org.access`` through the selectors and services; domain errors become
422 (field errors), 403, 404 and 409 in ``salesloop.api``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from salesloop.audit.selectors import history_for
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.core.schemas import ConflictOut, ErrorOut
from salesloop.org import access
from salesloop.org.models import Team, User
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Order
from salesloop.targets import selectors, services
from salesloop.targets.metrics import METRICS, Metric
from salesloop.targets.models import (
    BottleneckRule,
    CreditSplit,
    Flag,
    FlagStatus,
    SeasonalProfile,
    TargetSettings,
)
from salesloop.targets.periods import Period, PeriodKind

router = Router(tags=["targets"])

MetricCode = Literal[tuple(METRICS)]  # type: ignore[valid-type]
KindCode = Literal["year", "quarter", "month", "week", "day"]


# Schemas ----------------------------------------------------------------------------------------


class TargetOut(Schema):
    id: int
    metric: str
    metric_label: str
    period_kind: str
    period_start: dt.date
    period_end: dt.date
    scope_kind: str
    team_id: int | None
    team_name: str | None
    rep_id: int | None
    rep_name: str | None
    tier: str
    amount: Decimal
    currency: str
    parent_id: int | None
    split_axis: str
    split_weight: Decimal | None
    split_basis: dict[str, Any]
    status: str
    source: str
    note: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_metric_label(obj) -> str:
        return str(Metric(obj.metric).label)

    @staticmethod
    def resolve_team_name(obj) -> str | None:
        return obj.team.name if obj.team_id else None

    @staticmethod
    def resolve_rep_name(obj) -> str | None:
        return str(obj.rep) if obj.rep_id else None


class TargetPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[TargetOut]


class TargetIn(Schema):
    metric: MetricCode
    period_kind: KindCode
    period_start: dt.date = Field(..., description="Any day in the period; it is normalised to the period's start.")
    team_id: int | None = None
    rep_id: int | None = None
    tier: Literal["", "high_value", "potential", "new"] = ""
    amount: Decimal = Field(..., ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(None, max_length=3)
    note: str = Field("", max_length=300)


class SubmissionIn(Schema):
    metric: MetricCode
    period_kind: KindCode
    period_start: dt.date
    amount: Decimal = Field(..., ge=0, max_digits=16, decimal_places=2)
    note: str = Field("", max_length=300)


class TargetPatch(Schema):
    amount: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(None, max_length=3)
    note: str | None = Field(None, max_length=300)
    version: int


class DecisionIn(Schema):
    approve: bool
    version: int
    note: str = Field("", max_length=300)


class DecomposeIn(Schema):
    axis: Literal["members", "tiers", "periods"]
    to: Literal["reps", "subteams"] | None = None
    period_kind: KindCode | None = None
    profile: str | None = Field(None, max_length=40, description="A seasonal profile code, or 'learned'.")
    include_leads: bool = False
    preview: bool = False
    replace: bool = False


class PartOut(Schema):
    key: str
    label: str
    weight: float
    share_pct: float
    amount: Decimal
    basis: dict[str, Any]


class DecomposeOut(Schema):
    parent_id: int
    axis: str
    explanation: str
    preview: bool
    total: Decimal
    parts: list[PartOut]
    created: list[TargetOut]


class PaceOut(Schema):
    target: Decimal | None
    actual: Decimal
    expected: Decimal | None
    attainment_pct: Decimal | None
    pace_pct: Decimal | None
    run_rate: Decimal | None
    remaining: Decimal | None
    needed_per_day: Decimal | None
    elapsed_days: int
    total_days: int
    status: str


class AttainmentOut(Schema):
    scope_key: str
    scope_label: str
    metric: str
    unit: str
    period_start: dt.date
    period_end: dt.date
    target_id: int | None
    pace: PaceOut


class HistoryOut(Schema):
    id: int
    action: str
    at: dt.datetime
    actor_id: int | None
    changes: dict[str, Any]
    source: str


def _pace(p) -> dict:
    return {
        "target": p.target,
        "actual": p.actual,
        "expected": p.expected,
        "attainment_pct": p.attainment_pct,
        "pace_pct": p.pace_pct,
        "run_rate": p.run_rate,
        "remaining": p.remaining,
        "needed_per_day": p.needed_per_day,
        "elapsed_days": p.elapsed_days,
        "total_days": p.total_days,
        "status": p.status,
    }


def _attainment(a: selectors.Attainment) -> dict:
    return {
        "scope_key": a.scope_key,
        "scope_label": a.scope_label,
        "metric": a.metric,
        "unit": a.unit,
        "period_start": a.period.start,
        "period_end": a.period.end,
        "target_id": a.target_id,
        "pace": _pace(a.pace),
    }


def _team(request: HttpRequest, team_id: int | None) -> Team:
    if team_id is None:
        team = selectors.home_team(request.auth)
        if team is None:
            raise FieldErrors({"team_id": [_("Choose a team.")]})
        return team
    return get_object_or_404(Team, pk=team_id)


def _rep(rep_id: int) -> User:
    return get_object_or_404(User.objects.select_related("team"), pk=rep_id)


def _period(kind: str, day: dt.date | None) -> Period:
    if kind not in PeriodKind.values:
        raise FieldErrors({"period_kind": [_("Choose year, quarter, month, week or day.")]})
    return selectors.current_period(kind, day)


# Targets ----------------------------------------------------------------------------------------


@router.get("", response=TargetPage, operation_id="targets_list", summary="List targets you may see")
def list_targets(
    request: HttpRequest,
    metric: str | None = None,
    period_kind: str | None = None,
    period_start: dt.date | None = None,
    on_date: dt.date | None = None,
    team_id: int | None = None,
    rep_id: int | None = None,
    status: str | None = None,
    parent_id: int | None = None,
    top_level: bool | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=200),
):
    qs = selectors.target_list(
        user=request.auth,
        metric=metric,
        period_kind=period_kind,
        period_start=period_start,
        on_date=on_date,
        team_id=team_id,
        rep_id=rep_id,
        status=status,
        parent_id=parent_id,
        top_level=top_level,
    )
    count = qs.count()
    start = (page - 1) * page_size
    return {"count": count, "page": page, "page_size": page_size, "items": list(qs[start : start + page_size])}


@router.post(
    "",
    response={201: TargetOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_create",
    summary="Set a target top-down (leads and above)",
)
def create_target(request: HttpRequest, payload: TargetIn):
    target = services.target_create(by=request.auth, data=payload.model_dump())
    return Status(201, selectors.target_get(user=request.auth, target_id=target.pk))


@router.post(
    "/submissions",
    response={201: TargetOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_submit",
    summary="Submit your own target bottom-up for approval",
)
def submit_target(request: HttpRequest, payload: SubmissionIn):
    target = services.target_submit(by=request.auth, data=payload.model_dump())
    return Status(201, selectors.target_get(user=request.auth, target_id=target.pk))


@router.get("/{int:record_id}", response=TargetOut, operation_id="targets_get", summary="Get one target")
def get_target(request: HttpRequest, record_id: int):
    return selectors.target_get(user=request.auth, target_id=record_id)


def _readable_then(request: HttpRequest, target_id: int, fn):
    selectors.target_get(user=request.auth, target_id=target_id)  # 404 when not visible
    try:
        return fn()
    except ObjectDoesNotExist as exc:
        raise Forbidden(_("You may read this target but not change it.")) from exc


@router.patch(
    "/{int:record_id}",
    response={200: TargetOut, 403: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="targets_update",
    summary="Change a target's amount or note (send the version)",
)
def update_target(request: HttpRequest, record_id: int, payload: TargetPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    _readable_then(
        request,
        record_id,
        lambda: services.target_update(target_id=record_id, by=request.auth, data=data, version=version),
    )
    return selectors.target_get(user=request.auth, target_id=record_id)


@router.delete(
    "/{int:record_id}",
    response={204: None, 403: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="targets_delete",
    summary="Delete a target without children",
)
def delete_target(request: HttpRequest, record_id: int, version: int | None = None):
    _readable_then(
        request, record_id, lambda: services.target_delete(target_id=record_id, by=request.auth, version=version)
    )
    return Status(204, None)


@router.post(
    "/{int:record_id}/decision",
    response={200: TargetOut, 403: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="targets_decide",
    summary="Approve or reject a submitted target",
)
def decide_target(request: HttpRequest, record_id: int, payload: DecisionIn):
    _readable_then(
        request,
        record_id,
        lambda: services.target_decide(
            target_id=record_id, by=request.auth, approve=payload.approve, version=payload.version, note=payload.note
        ),
    )
    return selectors.target_get(user=request.auth, target_id=record_id)


@router.post(
    "/{int:record_id}/decompose",
    response={200: DecomposeOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_decompose",
    summary="Split a target into children that add up exactly",
)
def decompose_target(request: HttpRequest, record_id: int, payload: DecomposeIn):
    options = {
        "to": payload.to,
        "period_kind": payload.period_kind,
        "profile": payload.profile,
        "include_leads": payload.include_leads,
    }
    result = _readable_then(
        request,
        record_id,
        lambda: services.target_decompose(
            target_id=record_id,
            by=request.auth,
            axis=payload.axis,
            options=options,
            preview=payload.preview,
            replace=payload.replace,
        ),
    )
    total_w = sum(p.weight for p in result.parts) or 1
    created = [] if payload.preview else list(selectors.visible_targets(user=request.auth).filter(parent_id=record_id))
    return {
        "parent_id": record_id,
        "axis": payload.axis,
        "explanation": result.explanation,
        "preview": payload.preview,
        "total": result.parent.amount,
        "created": created,
        "parts": [
            {
                "key": p.key,
                "label": p.label,
                "weight": float(p.weight),
                "share_pct": float(p.weight / total_w * 100),
                "amount": p.amount,
                "basis": p.basis,
            }
            for p in result.parts
        ],
    }


@router.get(
    "/{int:record_id}/attainment",
    response=AttainmentOut,
    operation_id="targets_attainment",
    summary="Actual, attainment and pace of one target",
)
def target_attainment(request: HttpRequest, record_id: int, as_of: dt.date | None = None):
    t = selectors.target_get(user=request.auth, target_id=record_id)
    scope = selectors.TargetScope(team=None if t.rep_id else t.team, rep=t.rep)
    period = Period(t.period_start, t.period_end, t.period_kind)
    return _attainment(
        selectors.attainment_for(
            user=request.auth, scope=scope, period=period, metric=t.metric, as_of=as_of, tier=t.tier
        )
    )


@router.get(
    "/{int:record_id}/history",
    response=list[HistoryOut],
    operation_id="targets_history",
    summary="Audit history of a target",
)
def target_history(request: HttpRequest, record_id: int):
    t = selectors.target_get(user=request.auth, target_id=record_id)
    return list(history_for(t)[:500])


# Tracking ---------------------------------------------------------------------------------------


class BoardRowOut(Schema):
    key: str
    label: str
    kind: str
    object_id: int
    cells: dict[str, PaceOut]
    conversion_pct: Decimal | None
    avg_deal: Decimal | None


class BoardOut(Schema):
    team_id: int
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    metrics: list[str]
    rows: list[BoardRowOut]
    total: BoardRowOut


@router.get(
    "/tracking",
    response=BoardOut,
    operation_id="targets_tracking",
    summary="Live tracking: a team's sub-teams or reps × metrics against target",
)
def tracking(
    request: HttpRequest,
    team_id: int | None = None,
    period_kind: KindCode = "month",
    date: dt.date | None = None,
    metrics: str | None = Query(None, description="Comma-separated metric codes"),
    as_of: dt.date | None = None,
):
    codes = [m.strip() for m in (metrics or "").split(",") if m.strip()] or None
    bad = [m for m in codes or [] if m not in METRICS]
    if bad:
        raise FieldErrors({"metrics": [_("Unknown metric(s): %(codes)s") % {"codes": ", ".join(bad)}]})
    board = selectors.tracking_board(
        user=request.auth, team=_team(request, team_id), period=_period(period_kind, date), metrics=codes, as_of=as_of
    )
    derived = board.derived

    def row(r):
        return {
            "key": r.key,
            "label": r.label,
            "kind": r.kind,
            "object_id": r.object_id,
            "cells": {m: _pace(a.pace) for m, a in r.cells.items()},
            **derived[r.key],
        }

    return {
        "team_id": board.team.pk,
        "period_start": board.period.start,
        "period_end": board.period.end,
        "as_of": board.as_of,
        "metrics": board.metrics,
        "rows": [row(r) for r in board.rows],
        "total": row(board.total),
    }


class SeriesOut(Schema):
    days: list[str]
    actual: list[Decimal | None]
    target: list[Decimal | None]
    unit: str


@router.get(
    "/run-rate",
    response=SeriesOut,
    operation_id="targets_run_rate",
    summary="Cumulative actual per day against the straight target line",
)
def run_rate(
    request: HttpRequest,
    metric: MetricCode = "revenue",
    team_id: int | None = None,
    rep_id: int | None = None,
    period_kind: KindCode = "month",
    date: dt.date | None = None,
):
    scope = _rep(rep_id) if rep_id else _team(request, team_id)
    return selectors.run_rate_series(user=request.auth, scope=scope, period=_period(period_kind, date), metric=metric)


class TodayRowOut(Schema):
    rep_id: int
    rep_name: str
    yesterday: dict[str, Decimal]
    today: dict[str, Decimal | None]
    flags: list[str]


class TodayOut(Schema):
    team_id: int
    day: dt.date
    yesterday: dt.date
    metrics: list[str]
    rows: list[TodayRowOut]
    totals_yesterday: dict[str, Decimal]
    totals_today: dict[str, Decimal]
    follow_ups: list[dict[str, Any]]
    blockers: list[dict[str, Any]]


@router.get("/today", response=TodayOut, operation_id="targets_today", summary="The morning meeting's board")
def today(request: HttpRequest, team_id: int | None = None, date: dt.date | None = None):
    b = selectors.today_board(user=request.auth, team=_team(request, team_id), day=date)
    return {
        "team_id": b.team.pk,
        "day": b.day,
        "yesterday": b.yesterday,
        "metrics": b.metrics,
        "rows": [
            {
                "rep_id": r.rep.pk,
                "rep_name": str(r.rep),
                "yesterday": r.yesterday,
                "today": r.today_targets,
                "flags": [f.rule.code for f in r.flags],
            }
            for r in b.rows
        ],
        "totals_yesterday": b.totals_yesterday,
        "totals_today": b.totals_today,
        "follow_ups": [
            {"id": t.pk, "title": t.title, "due_at": t.due_at.isoformat(), "assignee_id": t.assignee_id}
            for t in b.follow_ups
        ],
        "blockers": [
            {"user_id": r.user_id, "date": r.date.isoformat(), "blockers": r.blockers, "tomorrow_plan": r.tomorrow_plan}
            for r in b.blockers
        ],
    }


# Reverse funnel -----------------------------------------------------------------------------------


class FunnelIn(Schema):
    team_id: int | None = None
    period_kind: KindCode = "quarter"
    date: dt.date | None = None
    revenue: Decimal = Field(..., gt=0, max_digits=16, decimal_places=2)
    avg_deal: Decimal | None = Field(None, gt=0)
    visit_to_intent: Decimal | None = Field(None, gt=0, le=1)
    intent_to_proposal: Decimal | None = Field(None, gt=0, le=1)
    proposal_to_negotiation: Decimal | None = Field(None, gt=0, le=1)
    negotiation_to_won: Decimal | None = Field(None, gt=0, le=1)
    cycle_days: Decimal | None = Field(None, ge=0, le=730)
    reps: Decimal | None = Field(None, gt=0)


class FunnelOut(Schema):
    team_id: int
    period_start: dt.date
    period_end: dt.date
    window_start: dt.date
    window_end: dt.date
    working_days: int
    inputs: dict[str, dict[str, Any]]
    steps: list[dict[str, Any]]
    per_day: dict[str, Decimal]
    per_rep_day: dict[str, Decimal | None]
    per_week: dict[str, Decimal]


def _funnel(request: HttpRequest, payload: FunnelIn):
    from salesloop.targets.funnel import reverse_funnel

    team = _team(request, payload.team_id)
    selectors.check_scope(request.auth, selectors.TargetScope(team=team))
    given = payload.model_dump(exclude={"team_id", "period_kind", "date", "revenue"})
    plan = reverse_funnel(
        team=team, period=_period(payload.period_kind, payload.date), revenue=payload.revenue, given=given
    )
    return team, plan


@router.post(
    "/funnel",
    response={200: FunnelOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_funnel",
    summary="Reverse funnel: revenue target → activity targets, with the arithmetic",
)
def funnel(request: HttpRequest, payload: FunnelIn):
    team, plan = _funnel(request, payload)
    inputs = {
        k: {
            **v,
            "value": (str(v["value"]) if v["value"] is not None else None),
            "sample": (str(v["sample"]) if v.get("sample") is not None else None),
        }
        for k, v in plan.inputs.items()
    }
    return {
        "team_id": team.pk,
        "period_start": plan.period.start,
        "period_end": plan.period.end,
        "window_start": plan.window.start,
        "window_end": plan.window.end,
        "working_days": plan.working_days,
        "inputs": inputs,
        "steps": [{"key": s.key, "label": s.label, "value": s.value, "formula": s.formula} for s in plan.steps],
        "per_day": plan.per_day,
        "per_rep_day": plan.per_rep_day,
        "per_week": plan.per_week,
    }


@router.post(
    "/funnel/apply",
    response={201: list[TargetOut], 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_funnel_apply",
    summary="Set the funnel's visits, intents and proposals as the team's targets for the period",
)
def funnel_apply(request: HttpRequest, payload: FunnelIn):
    team, plan = _funnel(request, payload)
    created = services.funnel_targets_create(by=request.auth, team=team, plan=plan)
    return Status(201, [selectors.target_get(user=request.auth, target_id=t.pk) for t in created])


# Flags -------------------------------------------------------------------------------------------


class FlagOut(Schema):
    id: int
    rule: str
    rule_label: str
    rep_id: int
    rep_name: str
    team_id: int | None
    status: str
    opened_at: dt.datetime
    last_seen_at: dt.datetime
    cleared_at: dt.datetime | None
    facts: dict[str, Any]
    explanation: str
    task_id: int | None


def _flag(f: Flag) -> dict:
    from salesloop.targets.bottlenecks import explain

    return {
        "id": f.pk,
        "rule": f.rule.code,
        "rule_label": f.rule.get_code_display(),
        "rep_id": f.rep_id,
        "rep_name": str(f.rep),
        "team_id": f.team_id,
        "status": f.status,
        "opened_at": f.opened_at,
        "last_seen_at": f.last_seen_at,
        "cleared_at": f.cleared_at,
        "facts": f.facts,
        "explanation": explain(f),
        "task_id": f.task_id,
    }


@router.get("/flags", response=list[FlagOut], operation_id="targets_flags", summary="Bottleneck flags you may see")
def flags(request: HttpRequest, status: Literal["open", "cleared", "all"] = "open", team_id: int | None = None):
    qs = access.restrict(Flag.objects.select_related("rule", "rep"), request.auth, "read")
    if status != "all":
        qs = qs.filter(status=status)
    if team_id:
        qs = qs.filter(rep__team__path__startswith=get_object_or_404(Team, pk=team_id).path)
    return [_flag(f) for f in qs[:500]]


class DetectIn(Schema):
    team_id: int | None = None


class DetectOut(Schema):
    opened: int
    refreshed: int
    cleared: int
    tasks_created: int
    open_flags: int


@router.post(
    "/flags/detect",
    response={200: DetectOut, 403: ErrorOut},
    operation_id="targets_flags_detect",
    summary="Run the bottleneck detectors over a team now (idempotent)",
)
def detect(request: HttpRequest, payload: DetectIn):
    from salesloop.targets.bottlenecks import bottlenecks_detect

    if access.scope_for(request.auth, Flag, "read") in (access.Scope.NONE, access.Scope.OWN):
        raise Forbidden(_("Leads and managers run the detectors."))
    team = _team(request, payload.team_id)
    selectors.check_scope(request.auth, selectors.TargetScope(team=team))
    r = bottlenecks_detect(team=team)
    open_count = Flag.objects.filter(status=FlagStatus.OPEN, rep__team__path__startswith=team.path).count()
    return {**r.__dict__, "open_flags": open_count}


# Attribution -------------------------------------------------------------------------------------


class AttributionOut(Schema):
    scope_label: str
    period_start: dt.date
    period_end: dt.date
    target: Decimal
    actual: Decimal
    gap: Decimal
    attainment_pct: Decimal | None
    by_driver: dict[str, Decimal]
    by_tier_driver: list[dict[str, Any]]
    by_rep: list[dict[str, Any]]
    headline: list[dict[str, Any]]
    waterfall: list[dict[str, Any]]
    baseline: dict[str, dict[str, str]]
    baseline_start: dt.date
    baseline_end: dt.date


@router.get(
    "/attribution",
    response={200: AttributionOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_attribution",
    summary="Why revenue missed or beat its target, adding up exactly",
)
def attribution(
    request: HttpRequest,
    team_id: int | None = None,
    rep_id: int | None = None,
    period_kind: KindCode = "month",
    date: dt.date | None = None,
):
    from salesloop.targets.attribution import variance_attribution

    scope = _rep(rep_id) if rep_id else _team(request, team_id)
    r = variance_attribution(user=request.auth, scope=scope, period=_period(period_kind, date))
    return {
        "scope_label": r.scope_label,
        "period_start": r.period.start,
        "period_end": r.period.end,
        "target": r.target,
        "actual": r.actual,
        "gap": r.gap,
        "attainment_pct": r.attainment_pct,
        "by_driver": r.by_driver,
        "by_tier_driver": [
            {"tier": t, "driver": d, "amount": a, "share_pct": r.share_pct(a)}
            for (t, d), a in sorted(r.by_tier_driver.items())
        ],
        "by_rep": [
            {"rep_id": k, "rep_name": r.rep_names.get(k, str(k)), "amount": a} for k, a in sorted(r.by_rep.items())
        ],
        "headline": r.headline(),
        "waterfall": r.waterfall(),
        "baseline": r.baseline,
        "baseline_start": r.baseline_period.start,
        "baseline_end": r.baseline_period.end,
    }


# Meeting packs -----------------------------------------------------------------------------------


class SectionOut(Schema):
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str


class PackOut(Schema):
    kind: str
    title: str
    team_id: int
    period_start: dt.date
    period_end: dt.date
    sections: list[SectionOut]


@router.get(
    "/packs/{kind}",
    response={200: PackOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_pack",
    url_name="targets_pack",
    summary="A meeting pack (morning, weekly, monthly) as JSON, .xlsx or PDF",
)
def pack(
    request: HttpRequest,
    kind: Literal["morning", "weekly", "monthly"],
    team_id: int | None = None,
    date: dt.date | None = None,
    format: Literal["json", "xlsx", "pdf"] = "json",
):  # noqa: A002
    from salesloop.targets.exports import pack_pdf, pack_xlsx
    from salesloop.targets.packs import pack_build

    p = pack_build(user=request.auth, team=_team(request, team_id), kind=kind, as_of=date)
    if format == "json":
        return {
            "kind": p.kind,
            "title": p.title,
            "team_id": p.team.pk,
            "period_start": p.period.start,
            "period_end": p.period.end,
            "sections": [s.__dict__ for s in p.sections],
        }
    name = f"{kind}-pack-{p.team.pk}-{p.period.start.isoformat()}"
    if format == "xlsx":
        response = HttpResponse(
            pack_xlsx(p), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = HttpResponse(pack_pdf(p), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


# Credit splits -----------------------------------------------------------------------------------


class SplitIn(Schema):
    user_id: int
    percent: Decimal = Field(..., gt=0, le=100, max_digits=5, decimal_places=2)


class SplitsIn(Schema):
    splits: list[SplitIn]


class SplitOut(Schema):
    user_id: int
    user_name: str
    percent: Decimal
    is_primary: bool

    @staticmethod
    def resolve_user_name(obj) -> str:
        return str(obj.user)


def _split_record(request: HttpRequest, kind: str, record_id: int) -> dict:
    model = Opportunity if kind == "opportunity" else Order
    get_object_or_404(access.restrict(model.objects.all(), request.auth, "read"), pk=record_id)
    return {"opportunity_id": record_id} if kind == "opportunity" else {"order_id": record_id}


@router.get(
    "/splits/{kind}/{int:record_id}",
    response=list[SplitOut],
    operation_id="targets_splits_get",
    summary="Credit splits of a deal or an order (none: the owner has 100%)",
)
def splits_get(request: HttpRequest, kind: Literal["opportunity", "order"], record_id: int):
    fk = _split_record(request, kind, record_id)
    return list(CreditSplit.objects.filter(**fk).select_related("user"))


@router.put(
    "/splits/{kind}/{int:record_id}",
    response={200: list[SplitOut], 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_splits_set",
    summary="Replace the credit splits (must add up to exactly 100%)",
)
def splits_set(request: HttpRequest, kind: Literal["opportunity", "order"], record_id: int, payload: SplitsIn):
    fk = _split_record(request, kind, record_id)
    try:
        services.credit_splits_set(by=request.auth, splits=[s.model_dump() for s in payload.splits], **fk)
    except ObjectDoesNotExist as exc:
        raise Forbidden(_("You may read this record but not change its credit.")) from exc
    return list(CreditSplit.objects.filter(**fk).select_related("user"))


# Settings, detectors, seasonal profiles -----------------------------------------------------------


class SettingsOut(Schema):
    pace_at_risk_pct: Decimal
    pace_behind_pct: Decimal
    tier_shares: dict[str, Any]
    high_value_key_tiers: list[str]
    seniority_weights: dict[str, Any]
    intent_stage_code: str
    proposal_stage_code: str
    negotiation_stage_code: str
    funnel_lookback_days: int
    version: int


class SettingsPatch(Schema):
    pace_at_risk_pct: Decimal | None = Field(None, ge=0, le=1000)
    pace_behind_pct: Decimal | None = Field(None, ge=0, le=1000)
    tier_shares: dict[str, Decimal] | None = None
    high_value_key_tiers: list[str] | None = None
    seniority_weights: dict[str, Decimal] | None = None
    intent_stage_code: str | None = Field(None, max_length=30)
    proposal_stage_code: str | None = Field(None, max_length=30)
    negotiation_stage_code: str | None = Field(None, max_length=30)
    funnel_lookback_days: int | None = Field(None, ge=7, le=3650)
    version: int


@router.get("/settings", response=SettingsOut, operation_id="targets_settings_get", summary="Target settings")
def settings_get(request: HttpRequest):
    return TargetSettings.current()


@router.patch(
    "/settings",
    response={200: SettingsOut, 403: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="targets_settings_update",
    summary="Change target settings (admin)",
)
def settings_update(request: HttpRequest, payload: SettingsPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    for key in ("tier_shares", "seniority_weights"):
        if key in data:
            data[key] = {k: str(v) for k, v in data[key].items()}
    try:
        services.settings_update(by=request.auth, data=data, version=version)
    except ObjectDoesNotExist as exc:
        raise Forbidden(_("Only an administrator changes target settings.")) from exc
    return TargetSettings.current()


class RuleOut(Schema):
    id: int
    code: str
    label: str
    is_active: bool
    threshold: Decimal
    lookback_days: int
    min_sample: int
    coaching_due_hours: int
    version: int

    @staticmethod
    def resolve_label(obj) -> str:
        return obj.get_code_display()


class RulePatch(Schema):
    is_active: bool | None = None
    threshold: Decimal | None = Field(None, ge=0, le=10000, max_digits=7, decimal_places=2)
    lookback_days: int | None = Field(None, ge=1, le=3650)
    min_sample: int | None = Field(None, ge=0, le=100000)
    coaching_due_hours: int | None = Field(None, ge=0, le=24 * 90)
    version: int


@router.get("/rules", response=list[RuleOut], operation_id="targets_rules_list", summary="Bottleneck detectors")
def rules_list(request: HttpRequest):
    return list(BottleneckRule.objects.all())


@router.patch(
    "/rules/{int:record_id}",
    response={200: RuleOut, 403: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="targets_rules_update",
    summary="Tune a bottleneck detector (admin)",
)
def rules_update(request: HttpRequest, record_id: int, payload: RulePatch):
    get_object_or_404(BottleneckRule, pk=record_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    try:
        services.bottleneck_rule_update(by=request.auth, rule_id=record_id, data=data, version=version)
    except ObjectDoesNotExist as exc:
        raise Forbidden(_("Only an administrator tunes the detectors.")) from exc
    return BottleneckRule.objects.get(pk=record_id)


class ProfileOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    month_weights: list[Any]


class ProfileIn(Schema):
    code: str = Field(..., pattern=r"^[-a-z0-9_]{1,40}$")
    name: str = Field(..., max_length=80)
    name_en: str = Field("", max_length=80)
    month_weights: list[Decimal] = Field(..., min_length=12, max_length=12)


@router.get("/profiles", response=list[ProfileOut], operation_id="targets_profiles_list", summary="Seasonal profiles")
def profiles_list(request: HttpRequest):
    return list(SeasonalProfile.objects.all())


@router.post(
    "/profiles",
    response={201: ProfileOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="targets_profiles_save",
    summary="Create or replace a seasonal profile",
)
def profiles_save(request: HttpRequest, payload: ProfileIn):
    return Status(201, services.seasonal_profile_save(by=request.auth, **payload.model_dump()))
