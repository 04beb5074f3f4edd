"""REST API of customer operations: needs and account plans (resources) and the analyses.

Handlers are thin: visibility is decided in ``selectors`` (``org.access.restrict``), writes in
``services``. Money is a decimal string with its currency; dates are ISO 8601.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from salesloop.core.api_resources import MAX_PAGE_SIZE, Resource
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.custops import needs_report, selectors, services, tiers
from salesloop.custops.models import AccountPlan, CustomerNeed, SegmentScheme
from salesloop.org import access
from salesloop.org.models import Role, User

NEEDS = Resource(
    path="needs",
    model=CustomerNeed,
    read_fields=[
        "account",
        "activity",
        "kind",
        "summary",
        "quote",
        "competitor",
        "tags",
        "captured_by",
        "captured_at",
        "version",
        "created_at",
        "updated_at",
    ],
    write_fields=[
        "account",
        "activity",
        "kind",
        "summary",
        "quote",
        "competitor",
        "tags",
        "captured_at",
    ],
    filters={
        "account_id": (int, "account_id"),
        "kind": (str, "kind"),
        "tag": (str, "tag_rows__tag"),
        "competitor": (str, "competitor__icontains"),
        "captured_after": (dt.datetime, "captured_at__gte"),
        "captured_before": (dt.datetime, "captured_at__lt"),
        "owner_id": (int, "account__owner_id"),
    },
    sort_fields=["id", "captured_at", "kind", "created_at"],
    default_sort="-captured_at",
    related=["account"],
    out_extra={"account_name": (str | None, Field(None, alias="account.name"))},
    optional_on_create=frozenset({"captured_at"}),
    create=services.need_create,
    update=services.need_update,
    tag="customer operations",
)

ACCOUNT_PLANS = Resource(
    path="account-plans",
    model=AccountPlan,
    read_fields=[
        "account",
        "tier",
        "status",
        "period_start",
        "period_end",
        "revenue_goal",
        "currency",
        "goals",
        "strategy",
        "stakeholders",
        "next_steps",
        "version",
        "created_at",
        "updated_at",
    ],
    write_fields=[
        "account",
        "tier",
        "status",
        "period_start",
        "period_end",
        "revenue_goal",
        "currency",
        "goals",
        "strategy",
        "stakeholders",
        "next_steps",
    ],
    filters={
        "account_id": (int, "account_id"),
        "tier": (str, "tier"),
        "status": (str, "status"),
        "owner_id": (int, "account__owner_id"),
    },
    sort_fields=["id", "period_start", "tier", "created_at"],
    default_sort="-period_start",
    related=["account"],
    out_extra={"account_name": (str | None, Field(None, alias="account.name"))},
    optional_on_create=frozenset({"currency"}),
    create=services.account_plan_create,
    update=services.account_plan_update,
    tag="customer operations",
)

RESOURCES = [NEEDS, ACCOUNT_PLANS]

router = Router(tags=["customer operations"])


def _scheme(scheme: str) -> str:
    if scheme not in SegmentScheme.values:
        raise FieldErrors(
            {"scheme": [_("Choose one of: %(v)s.") % {"v": ", ".join(SegmentScheme.values)}]}
        )
    return scheme


def _owner(request: HttpRequest, owner_id: int | None) -> User:
    """The person whose book is asked for: the caller, or someone whose accounts they may read."""
    if owner_id is None or owner_id == request.auth.pk:
        return request.auth
    from salesloop.customers.models import Account

    person = User.objects.filter(pk=owner_id).first()
    scope = access.scope_for(request.auth, Account, "read")
    visible = person is not None and (
        scope == access.Scope.ALL
        or (
            scope == access.Scope.SUBTREE
            and access.subtree_user_ids(request.auth).filter(pk=person.pk).exists()
        )
    )
    if not visible:
        raise FieldErrors({"owner_id": [_("Unknown user id %(id)s.") % {"id": owner_id}]})
    return person


# Segments --------------------------------------------------------------------------------------


class SegmentOut(Schema):
    code: str
    label: str
    value_rank: int
    accounts: int
    monetary: Decimal


class DistributionOut(Schema):
    scheme: str
    as_of: dt.date | None
    currency: str
    segments: list[SegmentOut]


@router.get("/segments", response=DistributionOut, operation_id="custops_segments")
def segments(request: HttpRequest, scheme: str = "rule"):
    """Accounts and window revenue per segment (rule or R×F scheme), for accounts you may read."""
    from salesloop.org.models import OrgSettings

    run = selectors.latest_run()
    return {
        "scheme": _scheme(scheme),
        "as_of": run.as_of if run else None,
        "currency": OrgSettings.current().currency,
        "segments": selectors.segment_distribution(user=request.auth, scheme=scheme),
    }


class FlowOut(Schema):
    from_code: str
    from_label: str
    to_code: str
    to_label: str
    accounts: int


class MoveOut(Schema):
    account_id: int
    account_name: str
    owner_id: int
    from_code: str
    to_code: str
    direction: int
    changed_on: dt.date


class MovementsOut(Schema):
    scheme: str
    start: dt.date
    end: dt.date
    up: int
    down: int
    sideways: int
    flows: list[FlowOut]
    count: int
    page: int
    page_size: int
    moves: list[MoveOut]


@router.get("/segments/movements", response=MovementsOut, operation_id="custops_segment_movements")
def segment_movements(
    request: HttpRequest,
    scheme: str = "rule",
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
    direction: int | None = Query(None, ge=-1, le=1),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
):
    """Who moved between segments in a month (default: this one): totals, flows and the moves."""
    try:
        start, end = selectors.month_bounds(month)
    except ValueError as exc:
        raise FieldErrors({"month": [_("A month as YYYY-MM.")]}) from exc
    moves = selectors.segment_movements(
        user=request.auth, scheme=_scheme(scheme), start=start, end=end
    )
    rows = selectors.segment_changes(
        user=request.auth, scheme=scheme, start=start, end=end
    ).select_related("account")
    if direction is not None:
        rows = rows.filter(direction=direction)
    rows = rows.order_by("-changed_on", "-id")
    offset = (page - 1) * page_size
    return {
        "scheme": scheme,
        "start": start,
        "end": end,
        "up": moves.up,
        "down": moves.down,
        "sideways": moves.sideways,
        "flows": [
            {
                "from_code": f,
                "from_label": moves.labels.get(f, f),
                "to_code": t,
                "to_label": moves.labels.get(t, t),
                "accounts": n,
            }
            for (f, t), n in sorted(moves.flows.items(), key=lambda kv: -kv[1])
        ],
        "count": rows.count(),
        "page": page,
        "page_size": page_size,
        "moves": [
            {
                "account_id": m.account_id,
                "account_name": m.account.name,
                "owner_id": m.account.owner_id,
                "from_code": m.from_code,
                "to_code": m.to_code,
                "direction": m.direction,
                "changed_on": m.changed_on,
            }
            for m in rows[offset : offset + page_size]
        ],
    }


# Accounts --------------------------------------------------------------------------------------


class GuidanceOut(Schema):
    stage_code: str
    decision_style: str
    customer_tag: str
    text: str


class AccountOpsOut(Schema):
    account_id: int
    account_name: str
    key_account_tier: str
    stage_code: str
    rfm: dict[str, Any] | None
    churn: dict[str, Any] | None
    guidance: list[GuidanceOut]


@router.get("/accounts/{int:account_id}", response=AccountOpsOut, operation_id="custops_account")
def account_ops(request: HttpRequest, account_id: int):
    """One account's segments, churn score and the SOP notes for its stage and kind."""
    data = selectors.account_summary(user=request.auth, account_id=account_id)
    rfm, churn = data["rfm"], data["churn"]
    return {
        "account_id": data["account"].pk,
        "account_name": data["account"].name,
        "key_account_tier": data["account"].key_account_tier,
        "stage_code": data["stage_code"],
        "rfm": None
        if rfm is None
        else {
            "as_of": rfm.as_of,
            "recency_days": rfm.recency_days,
            "frequency": rfm.frequency,
            "monetary": str(rfm.monetary),
            "currency": rfm.currency,
            "scores": [rfm.recency_score, rfm.frequency_score, rfm.monetary_score],
            "rule_segment": rfm.rule_segment,
            "grid_segment": rfm.grid_segment,
        },
        "churn": None
        if churn is None
        else {
            "p_alive": churn.p_alive,
            "expected_purchases": churn.expected_purchases,
            "expected_value": None if churn.expected_value is None else str(churn.expected_value),
            "value_at_risk": str(churn.value_at_risk),
            "is_flagged": churn.is_flagged,
            "flag_p_alive": churn.flag_p_alive,
            "flag_gap": churn.flag_gap,
            "usual_gap_days": churn.usual_gap_days,
            "current_gap_days": churn.current_gap_days,
        },
        "guidance": [
            {
                "stage_code": g.stage_code,
                "decision_style": g.decision_style,
                "customer_tag": g.customer_tag,
                "text": g.label,
            }
            for g in data["guidance"]
        ],
    }


class TierIn(Schema):
    tier: str = Field(
        ..., description="strategic / growth / maintenance / development, or empty to clear."
    )
    version: int


class TierOut(Schema):
    account_id: int
    key_account_tier: str
    version: int


@router.post(
    "/accounts/{int:account_id}/tier", response=TierOut, operation_id="custops_account_tier"
)
def set_tier(request: HttpRequest, account_id: int, payload: TierIn):
    """Accept a tier proposal (or set a tier): versioned like any edit, and audited."""
    from salesloop.customers.models import Account

    get_object_or_404(access.restrict(Account.objects.all(), request.auth, "read"), pk=account_id)
    if (
        not access.restrict(Account.objects.all(), request.auth, "write")
        .filter(pk=account_id)
        .exists()
    ):
        raise Forbidden(_("You may read this account but not change it."))
    account = services.account_tier_set(
        account_id=account_id, tier=payload.tier, version=payload.version, user=request.auth
    )
    return {
        "account_id": account.pk,
        "key_account_tier": account.key_account_tier,
        "version": account.version,
    }


class ProposalOut(Schema):
    account_id: int
    account_name: str
    owner_id: int
    current_tier: str
    proposed_tier: str
    score: float
    value_score: float
    growth_score: float
    strategic_score: float
    growth_pct: float | None
    reasons: list[str]


class ProposalPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ProposalOut]


@router.get("/tier-proposals", response=ProposalPage, operation_id="custops_tier_proposals")
def tier_proposals(
    request: HttpRequest,
    only_changes: bool = False,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
):
    """Proposed key-account tiers from value, growth and strategic fields (``TierPolicy``)."""
    rows = tiers.tier_proposals(user=request.auth)
    if only_changes:
        rows = [p for p in rows if p.differs]
    offset = (page - 1) * page_size
    return {
        "count": len(rows),
        "page": page,
        "page_size": page_size,
        "items": [
            {
                "account_id": p.account.pk,
                "account_name": p.account.name,
                "owner_id": p.account.owner_id,
                "current_tier": p.account.key_account_tier,
                "proposed_tier": p.proposed,
                "score": p.score,
                "value_score": p.value_score,
                "growth_score": p.growth_score,
                "strategic_score": p.strategic_score,
                "growth_pct": p.growth_pct,
                "reasons": list(p.reasons),
            }
            for p in rows[offset : offset + page_size]
        ],
    }


# The rep's list, the manager's lists -------------------------------------------------------------


class ReasonOut(Schema):
    code: str
    text: str


class CallOut(Schema):
    account_id: int
    account_name: str
    rule_segment: str | None
    monetary: Decimal
    priority: float
    reasons: list[ReasonOut]


class CallListOut(Schema):
    owner_id: int
    start: dt.date
    end: dt.date
    items: list[CallOut]


@router.get("/call-list", response=CallListOut, operation_id="custops_call_list")
def call_list(request: HttpRequest, owner_id: int | None = None):
    """Whom to call this week and why (default: your own book; a lead may ask for a team member)."""
    from django.utils import timezone

    from salesloop.custops.models import CustomerOpsPolicy

    owner = _owner(request, owner_id)
    today = timezone.localdate()
    items = selectors.call_list(user=request.auth, owner=owner, today=today)
    return {
        "owner_id": owner.pk,
        "start": today,
        "end": today + dt.timedelta(days=CustomerOpsPolicy.current().call_list_days - 1),
        "items": [
            {
                "account_id": i.account.pk,
                "account_name": i.account.name,
                "rule_segment": getattr(getattr(i.account, "rfm", None), "rule_segment", None),
                "monetary": i.monetary,
                "priority": i.priority,
                "reasons": [{"code": r["code"], "text": r["text"]} for r in i.reasons],
            }
            for i in items
        ],
    }


class AtRiskOut(Schema):
    account_id: int
    account_name: str
    owner_id: int
    p_alive: float | None
    expected_value: Decimal | None
    value_at_risk: Decimal
    currency: str
    flag_p_alive: bool
    flag_gap: bool
    current_gap_days: int
    usual_gap_days: float | None
    flagged_since: dt.date | None
    window_revenue: Decimal | None
    winback_open: bool


class AtRiskPage(Schema):
    count: int
    value_at_risk: Decimal
    page: int
    page_size: int
    items: list[AtRiskOut]


def _at_risk_item(c) -> dict[str, Any]:
    rfm = getattr(c.account, "rfm", None)
    return {
        "account_id": c.account_id,
        "account_name": c.account.name,
        "owner_id": c.account.owner_id,
        "p_alive": c.p_alive,
        "expected_value": c.expected_value,
        "value_at_risk": c.value_at_risk,
        "currency": c.currency,
        "flag_p_alive": c.flag_p_alive,
        "flag_gap": c.flag_gap,
        "current_gap_days": c.current_gap_days,
        "usual_gap_days": c.usual_gap_days,
        "flagged_since": c.flagged_since,
        "window_revenue": rfm.monetary if rfm else None,
        "winback_open": c.winback_open,
    }


@router.get("/at-risk", response=AtRiskPage, operation_id="custops_at_risk")
def at_risk(
    request: HttpRequest,
    owner_id: int | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
):
    """Churn-flagged customers, largest value at risk first, with the total at risk."""
    qs = selectors.at_risk_list(user=request.auth, owner_id=owner_id)
    totals = selectors.at_risk_totals(qs)
    offset = (page - 1) * page_size
    return {
        "count": totals["accounts"],
        "value_at_risk": totals["value_at_risk"],
        "page": page,
        "page_size": page_size,
        "items": [_at_risk_item(c) for c in qs[offset : offset + page_size]],
    }


class CoverageOut(Schema):
    owner_id: int
    owner_name: str
    accounts: int
    overdue: int
    coverage_pct: float


class OverdueOut(Schema):
    account_id: int
    account_name: str
    owner_id: int
    cadence_days: int
    last_contact_at: dt.datetime | None
    due: dt.date
    overdue_days: int


class CoverageReportOut(Schema):
    date: dt.date
    reps: list[CoverageOut]
    overdue: list[OverdueOut]


@router.get("/coverage", response=CoverageReportOut, operation_id="custops_coverage")
def coverage(
    request: HttpRequest, owner_id: int | None = None, limit: int = Query(100, ge=1, le=1000)
):
    """Per rep: accounts under a cadence and how many are overdue for contact; the overdue list."""
    from django.utils import timezone

    today = timezone.localdate()
    reps = selectors.coverage_report(user=request.auth, today=today)
    overdue = []
    for a in selectors.overdue_accounts(user=request.auth, owner_id=owner_id, today=today)[:limit]:
        due = selectors.next_contact_date(a)
        overdue.append(
            {
                "account_id": a.pk,
                "account_name": a.name,
                "owner_id": a.owner_id,
                "cadence_days": a.cadence_days,
                "last_contact_at": a.last_contact_at,
                "due": due,
                "overdue_days": (today - due).days,
            }
        )
    return {
        "date": today,
        "reps": [
            {
                "owner_id": r.owner_id,
                "owner_name": r.owner_name,
                "accounts": r.accounts,
                "overdue": r.overdue,
                "coverage_pct": round(r.coverage_pct, 1),
            }
            for r in reps
        ],
        "overdue": overdue,
    }


class SlaRowOut(Schema):
    key: int | None
    label: str
    on_time: int
    late: int
    overdue_open: int
    breaches: int
    escalated: int
    compliance_pct: float | None


class BreachOut(Schema):
    task_id: int
    title: str
    assignee_id: int
    account_id: int | None
    due_at: dt.datetime
    completed_at: dt.datetime | None
    escalated: bool


class SlaOut(Schema):
    start: dt.date
    end: dt.date
    by_rep: list[SlaRowOut]
    by_team: list[SlaRowOut]
    by_rule: list[SlaRowOut]
    breaches: list[BreachOut]


def _sla_row(r) -> dict[str, Any]:
    return {
        "key": r.key,
        "label": r.label,
        "on_time": r.on_time,
        "late": r.late,
        "overdue_open": r.overdue_open,
        "breaches": r.breaches,
        "escalated": r.escalated,
        "compliance_pct": r.compliance_pct,
    }


@router.get("/sla", response=SlaOut, operation_id="custops_sla")
def sla(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = Query(100, ge=1, le=1000),
):
    """SOP and cadence rule tasks due in ``[start, end)`` (default: the last 30 days): on time vs
    breached, per rep, team and rule, and the breaches themselves."""
    from django.utils import timezone

    end = end or timezone.localdate() + dt.timedelta(days=1)
    start = start or end - dt.timedelta(days=30)
    if start >= end:
        raise FieldErrors({"end": [_("The end must be after the start.")]})
    report = selectors.sla_compliance(user=request.auth, start=start, end=end)
    return {
        "start": start,
        "end": end,
        "by_rep": [_sla_row(r) for r in report.by_rep],
        "by_team": [_sla_row(r) for r in report.by_team],
        "by_rule": [_sla_row(r) for r in report.by_rule],
        "breaches": [
            {
                "task_id": t.pk,
                "title": t.title,
                "assignee_id": t.assignee_id,
                "account_id": t.account_id,
                "due_at": t.due_at,
                "completed_at": t.completed_at,
                "escalated": t.was_escalated,
            }
            for t in report.breaches[:limit]
        ],
    }


# Needs report -----------------------------------------------------------------------------------


class TagRowOut(Schema):
    tag: str
    needs: int
    accounts: int
    revenue: Decimal
    is_new: bool
    quotes: list[dict[str, str]]


class NeedsReportOut(Schema):
    week: str
    start: dt.date
    end: dt.date
    currency: str
    total_needs: int
    total_accounts: int
    by_kind: list[dict[str, Any]]
    top_by_count: list[TagRowOut]
    top_by_revenue: list[TagRowOut]
    new_tags: list[TagRowOut]
    competitors: list[dict[str, Any]]


@router.get("/needs-report", response=NeedsReportOut, operation_id="custops_needs_report")
def needs_report_view(
    request: HttpRequest,
    week: str | None = Query(None, pattern=r"^(\d{4}-W\d{2}|\d{4}-\d{2}-\d{2})$"),
    format: str = Query("json", pattern="^(json|xlsx|pdf)$"),  # noqa: A002
):
    """The weekly customer-needs report (《客户需求白皮书》) as JSON, ``.xlsx`` or PDF."""
    try:
        report = needs_report.needs_report(user=request.auth, week=week)
    except ValueError as exc:
        raise FieldErrors({"week": [_("A week as YYYY-Www or a date.")]}) from exc
    if format == "xlsx":
        response = HttpResponse(
            needs_report.to_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="customer-needs-{report.week}.xlsx"'
        )
        return response
    if format == "pdf":
        response = HttpResponse(needs_report.to_pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="customer-needs-{report.week}.pdf"'
        return response
    return {
        "week": report.week,
        "start": report.start,
        "end": report.end,
        "currency": report.currency,
        "total_needs": report.total_needs,
        "total_accounts": report.total_accounts,
        "by_kind": [{"kind": k, "label": label, "needs": n} for k, label, n in report.by_kind],
        "top_by_count": [vars(r) for r in report.top_by_count],
        "top_by_revenue": [vars(r) for r in report.top_by_revenue],
        "new_tags": [vars(r) for r in report.new_tags],
        "competitors": [{"competitor": c, "needs": n} for c, n in report.competitors],
    }


# The model and the recompute ---------------------------------------------------------------------


class RunOut(Schema):
    id: int
    as_of: dt.date
    finished_at: dt.datetime | None
    accounts: int
    segment_changes: int
    flagged: int
    seconds: float
    bgnbd: dict[str, Any]
    gamma_gamma: dict[str, Any]


@router.get("/model", response={200: RunOut, 404: dict}, operation_id="custops_model")
def model(request: HttpRequest):
    """The latest scoring run: when, how many accounts, and the fitted BG/NBD and Gamma-Gamma."""
    run = selectors.latest_run()
    if run is None:
        return 404, {"message": _("Segments have not been computed yet."), "errors": {}}
    return run


class RecomputeIn(Schema):
    as_of: dt.date | None = None


@router.post("/recompute", response=RunOut, operation_id="custops_recompute")
def recompute(request: HttpRequest, payload: RecomputeIn):
    """Recompute segments and churn scores now (organisation-wide: directors and admin)."""
    user = request.auth
    if not (user.is_superuser or user.role in (Role.ADMIN, Role.DIRECTOR)):
        raise Forbidden(_("Only directors and administrators recompute the whole organisation."))
    return services.scoring_run_create(as_of=payload.as_of)
