"""REST API of the commit workflow, mounted under ``/api/forecasts/commit`` (issue #7 §4 (c)).

Thin handlers: query and body in, ``commit`` (reads) and ``services_commit`` (writes) out. Who may
see which book follows the sales line (``commit.may_read_book``, ``commit.may_view_scope``):
invisible → 404, visible but not theirs to change → 403, bad input → 422 with field errors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from salesloop.core.errors import Forbidden
from salesloop.core.schemas import ConflictOut, DbId, ErrorOut
from salesloop.forecasting import commit, services_commit
from salesloop.forecasting.models import Adjustment, ScopeKind, Submission
from salesloop.org.models import OrgSettings, User

router = Router(tags=["forecasting"])


# Schemas ----------------------------------------------------------------------------------------


class Totals(Schema):
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal


class DealLine(Schema):
    id: int
    name: str
    account_name: str
    stage_code: str
    stage_name: str
    amount: Decimal
    currency: str
    expected_close_date: dt.date | None
    closed_at: dt.datetime | None
    category: str = Field(..., description="The category the deal counts in (won deals: closed).")
    category_version: int | None = Field(None, description="Send it back to detect a concurrent change.")
    editable: bool


class AdjustmentOut(Schema):
    id: int
    submission_id: int
    adjusted_by_id: int
    adjusted_by_name: str
    amount: Decimal
    currency: str
    reason: str
    adjusted_at: dt.datetime


class SubmissionOut(Schema):
    id: int
    owner_id: int
    owner_name: str
    period_start: dt.date
    period_end: dt.date
    amount: Decimal
    currency: str
    closed_amount: Decimal
    commit_amount: Decimal
    best_case_amount: Decimal
    pipeline_amount: Decimal
    note: str
    submitted_at: dt.datetime
    adjustments: list[AdjustmentOut]


class SheetOut(Schema):
    owner_id: int
    owner_name: str
    period_start: dt.date
    period_end: dt.date
    currency: str
    totals: Totals
    can_submit: bool
    deals: list[DealLine]
    history: list[SubmissionOut]


class RollupOut(Schema):
    submitted: Decimal
    adjusted: Decimal
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    currency: str
    reps_submitted: int
    reps_total: int


class TeamRepOut(Schema):
    owner_id: int
    owner_name: str
    team_name: str | None
    totals: Totals
    submission: SubmissionOut | None
    submitted: Decimal | None
    adjusted: Decimal | None = Field(None, description="The number the viewer's roll-up uses for this person.")
    applied_adjustment_id: int | None
    can_adjust: bool


class TeamOut(Schema):
    scope_kind: str
    scope_id: int | None
    scope_name: str
    period_start: dt.date
    period_end: dt.date
    rollup: RollupOut
    reps: list[TeamRepOut]


class CategoryIn(Schema):
    category: str = Field(..., max_length=12)
    version: int | None = Field(None, ge=0)


class SubmissionIn(Schema):
    period_start: dt.date
    period_end: dt.date
    amount: Decimal
    note: str = Field("", max_length=2000)


class AdjustmentIn(Schema):
    amount: Decimal
    reason: str = Field(..., max_length=2000)


# Shapes -----------------------------------------------------------------------------------------


def _totals(t: commit.CategoryTotals) -> dict:
    return {"closed": t.closed, "commit": t.commit, "best_case": t.best_case, "pipeline": t.pipeline}


def adjustment_out(a: Adjustment) -> dict:
    return {
        "id": a.pk,
        "submission_id": a.submission_id,
        "adjusted_by_id": a.adjusted_by_id,
        "adjusted_by_name": str(a.adjusted_by),
        "amount": a.amount,
        "currency": a.currency,
        "reason": a.reason,
        "adjusted_at": a.adjusted_at,
    }


def submission_out(s: Submission, adjustments: list[Adjustment] | None = None) -> dict:
    adjs = adjustments if adjustments is not None else list(s.adjustments.all())
    return {
        "id": s.pk,
        "owner_id": s.owner_id,
        "owner_name": str(s.owner),
        "period_start": s.period_start,
        "period_end": s.period_end,
        "amount": s.amount,
        "currency": s.currency,
        "closed_amount": s.closed_amount,
        "commit_amount": s.commit_amount,
        "best_case_amount": s.best_case_amount,
        "pipeline_amount": s.pipeline_amount,
        "note": s.note,
        "submitted_at": s.submitted_at,
        "adjustments": [adjustment_out(a) for a in adjs],
    }


def deal_line(deal, viewer: User) -> dict:
    row = getattr(deal, "forecast_category", None)
    return {
        "id": deal.pk,
        "name": deal.name,
        "account_name": deal.account.name,
        "stage_code": deal.stage.code,
        "stage_name": str(deal.stage),
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date,
        "closed_at": deal.closed_at,
        "category": commit.effective_category(deal),
        "category_version": row.version if row is not None else None,
        "editable": not deal.stage.is_closed and commit.may_categorise(viewer, deal.owner),
    }


# Inputs -----------------------------------------------------------------------------------------


def period_of(period_start: dt.date | None, period_end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The asked period (both days given), else the current fiscal quarter; 422 when inverted."""
    if period_start is None or period_end is None:
        return commit.default_period()
    return services_commit.clean_period(period_start, period_end)


# Handlers ---------------------------------------------------------------------------------------


@router.get(
    "/sheet",
    response={200: SheetOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="forecast_commit_sheet",
    summary="A person's deals for a period with their forecast categories, roll-ups and submissions",
)
def get_sheet(
    request: HttpRequest,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    owner_id: DbId | None = None,
):
    viewer = request.auth
    owner = commit.book_owner_for(viewer, owner_id)
    if owner.pk == viewer.pk and not services_commit.may_submit(viewer):
        raise Forbidden(_("Only people with their own sales book have a forecast call sheet."))
    start, end = period_of(period_start, period_end)
    deals = commit.sheet_deals(owner=owner, viewer=viewer, period_start=start, period_end=end)
    lines = commit.commit_by_rep(scope_kind=ScopeKind.REP, scope_id=owner.pk, period_start=start, period_end=end)
    totals = lines[0].totals if lines else commit.CategoryTotals()
    history = commit.submission_history(owner=owner, period_start=start, period_end=end)
    return {
        "owner_id": owner.pk,
        "owner_name": str(owner),
        "period_start": start,
        "period_end": end,
        "currency": OrgSettings.current().currency,
        "totals": _totals(totals),
        "can_submit": owner.pk == viewer.pk and services_commit.may_submit(viewer),
        "deals": [deal_line(d, viewer) for d in deals],
        "history": [submission_out(s) for s in history],
    }


@router.put(
    "/deals/{int:opportunity_id}/category",
    response={200: DealLine, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="forecast_commit_set_category",
    summary="Put an open deal in a forecast category (pipeline, best_case, commit, omitted)",
)
def set_category(request: HttpRequest, opportunity_id: DbId, payload: CategoryIn):
    row = services_commit.deal_category_set(
        opportunity_id=opportunity_id, category=payload.category, by=request.auth, version=payload.version
    )
    deal = row.opportunity
    deal.forecast_category = row
    return deal_line(deal, request.auth)


@router.post(
    "/submissions",
    response={201: SubmissionOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="forecast_commit_submit",
    summary="Submit your number for a period (a resubmission adds a row; the latest counts)",
)
def submit(request: HttpRequest, payload: SubmissionIn):
    sub = services_commit.submission_create(
        by=request.auth,
        period_start=payload.period_start,
        period_end=payload.period_end,
        amount=payload.amount,
        note=payload.note,
    )
    return Status(201, submission_out(sub, []))


@router.get(
    "/team",
    response={200: TeamOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="forecast_commit_team",
    summary="A leader's roll-up: each person's submitted and adjusted number, adjustments and totals",
)
def get_team(
    request: HttpRequest,
    team_id: DbId | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
):
    viewer = request.auth
    scope_kind, scope_id, scope_name = commit.team_scope_for(viewer, team_id)
    start, end = period_of(period_start, period_end)
    lines = commit.commit_by_rep(
        scope_kind=scope_kind, scope_id=scope_id, period_start=start, period_end=end, viewer=viewer
    )
    rollup = commit.rollup_of(lines, OrgSettings.current().currency)
    return {
        "scope_kind": scope_kind,
        "scope_id": scope_id,
        "scope_name": scope_name,
        "period_start": start,
        "period_end": end,
        "rollup": rollup.__dict__,
        "reps": [
            {
                "owner_id": line.owner.pk,
                "owner_name": str(line.owner),
                "team_name": line.owner.team.name if line.owner.team_id else None,
                "totals": _totals(line.totals),
                "submission": submission_out(line.submission, line.adjustments) if line.submission else None,
                "submitted": line.submitted,
                "adjusted": line.adjusted,
                "applied_adjustment_id": line.applied.pk if line.applied else None,
                "can_adjust": line.submission is not None and commit.is_manager_of(viewer, line.owner),
            }
            for line in lines
        ],
    }


@router.post(
    "/submissions/{int:submission_id}/adjustments",
    response={201: AdjustmentOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="forecast_commit_adjust",
    summary="Adjust a person's latest submission, with a reason (stored beside their number)",
)
def adjust(request: HttpRequest, submission_id: DbId, payload: AdjustmentIn):
    adj = services_commit.adjustment_create(
        by=request.auth, submission_id=submission_id, amount=payload.amount, reason=payload.reason
    )
    return Status(201, adjustment_out(adj))
