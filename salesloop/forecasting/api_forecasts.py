"""REST API for forecasts, mounted under ``/api/forecasts`` (issue #7 §4).

* ``GET /api/forecasts`` — one scope and period: every method side by side with its inputs, and
  the actual so far;
* ``GET /api/forecasts/history`` — forecast-vs-actual lines over past periods;
* ``GET /api/forecasts/accuracy`` — MAPE and bias per method, per level and per scope;
* ``GET /api/forecasts/scopes`` — the scopes the caller may forecast (the picker).

Thin handlers: scopes are checked by ``selectors.scope_for`` (403 outside the sales line, 404 for
a scope the caller may not see, 422 for a malformed scope or period).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from salesloop.core.errors import FieldErrors
from salesloop.forecasting import accuracy, selectors, services
from salesloop.forecasting.selectors import ForecastScope
from salesloop.org.models import Role, Team, User

router = Router(tags=["forecasting"])

ScopeCode = Literal["company", "team", "rep"]
PeriodKindCode = Literal["month", "quarter"]


class ScopeOut(Schema):
    kind: str
    id: int | None
    label: str


class PeriodOut(Schema):
    code: str
    kind: str
    start: dt.date
    end: dt.date


class MethodOut(Schema):
    method: str
    label: str
    amount: Decimal | None
    available: bool
    explanation: str
    note: str
    inputs: dict[str, Any]


class ForecastOut(Schema):
    scope: ScopeOut
    period: PeriodOut
    as_of: dt.datetime
    currency: str
    actual_so_far: Decimal
    closed: bool
    methods: list[MethodOut]


class HistoryPointOut(Schema):
    period: PeriodOut
    actual: Decimal
    closed: bool
    forecasts: dict[str, Decimal]


class HistoryOut(Schema):
    scope: ScopeOut
    period_kind: str
    currency: str
    rule: str
    points: list[HistoryPointOut]


class ScoreOut(Schema):
    method: str
    label: str
    level: str
    scope_id: int | None
    scope_label: str | None
    periods: int
    zero_actual: int
    mape: float | None
    bias: float | None


class AccuracyOut(Schema):
    period_kind: str
    rule: str
    levels: list[ScoreOut]
    scopes: list[ScoreOut]
    best: dict[str, str]


def scope_out(scope: ForecastScope) -> dict:
    return {"kind": scope.kind, "id": scope.id, "label": scope.label}


def period_out(period) -> dict:
    return {"code": selectors.period_code(period), "kind": period.kind, "start": period.start, "end": period.end}


def forecast_out(f: services.Forecast) -> dict:
    return {
        "scope": scope_out(f.scope),
        "period": period_out(f.period),
        "as_of": f.as_of,
        "currency": f.currency,
        "actual_so_far": f.actual_so_far,
        "closed": f.closed,
        "methods": [
            {
                "method": r.method,
                "label": services.method_label(r.method),
                "amount": r.amount,
                "available": r.available,
                "explanation": r.explanation,
                "note": r.note,
                "inputs": r.inputs,
            }
            for r in f.ordered()
        ],
    }


def as_of_moment(as_of: dt.date | None) -> dt.datetime:
    """``as_of`` (a past or today's date) → local midnight starting it; none → now."""
    if as_of is None:
        return timezone.now()
    if as_of > timezone.localdate():
        raise FieldErrors({"as_of": [_("A forecast cannot be made as of a future date.")]})
    return services.local_midnight(as_of)


def accuracy_rule() -> str:
    return _(
        "Each period is scored with the last snapshot taken on or before its first day "
        "(minus the configured horizon); MAPE = mean |forecast − actual| / actual, bias = mean "
        "(forecast − actual) / actual, over closed periods with revenue."
    )


@router.get("", response=ForecastOut, operation_id="forecasts_get", summary="All methods for one scope and period")
def get_forecast(
    request: HttpRequest,
    scope_kind: ScopeCode | None = None,
    scope_id: int | None = None,
    period: str | None = None,
    as_of: dt.date | None = None,
):
    scope = selectors.scope_for(request.auth, scope_kind, scope_id)
    moment = as_of_moment(as_of)
    p = selectors.parse_period(period, today=timezone.localdate(moment))
    return forecast_out(services.forecast(scope, p, as_of=moment, viewer=request.auth))


@router.get(
    "/history", response=HistoryOut, operation_id="forecasts_history", summary="Forecast vs actual over past periods"
)
def get_history(
    request: HttpRequest,
    scope_kind: ScopeCode | None = None,
    scope_id: int | None = None,
    period_kind: PeriodKindCode = "month",
    periods: int = Query(12, ge=1, le=36),
):
    from salesloop.org.models import OrgSettings

    scope = selectors.scope_for(request.auth, scope_kind, scope_id)
    points = accuracy.history(scope, period_kind, periods=periods, now=timezone.now())
    return {
        "scope": scope_out(scope),
        "period_kind": period_kind,
        "currency": OrgSettings.current().currency,
        "rule": accuracy_rule(),
        "points": [
            {"period": period_out(pt.period), "actual": pt.actual, "closed": pt.closed, "forecasts": pt.forecasts}
            for pt in points
        ],
    }


def visible_keys(user: User) -> set[tuple[str, int | None]] | None:
    if user.is_superuser or user.role == Role.ADMIN:
        return None
    return {(s.kind, s.id) for s in selectors.visible_scopes(user)}


def score_rows(items: list[accuracy.Score], labels: dict[tuple[str, int | None], str]) -> list[dict]:
    return [
        {
            "method": s.method,
            "label": services.method_label(s.method),
            "level": s.scope_kind,
            "scope_id": s.scope_id,
            "scope_label": labels.get((s.scope_kind, s.scope_id)),
            "periods": s.periods,
            "zero_actual": s.zero_actual,
            "mape": s.mape,
            "bias": s.bias,
        }
        for s in items
    ]


def scope_labels(items: list[accuracy.Score]) -> dict[tuple[str, int | None], str]:
    teams = {s.scope_id for s in items if s.scope_kind == "team"}
    reps = {s.scope_id for s in items if s.scope_kind == "rep"}
    labels: dict[tuple[str, int | None], str] = {("company", None): str(_("Company"))}
    labels.update({("team", t.pk): t.name for t in Team.objects.filter(pk__in=teams)})
    labels.update({("rep", u.pk): str(u) for u in User.objects.filter(pk__in=reps)})
    return labels


def accuracy_report(user: User, period_kind: str, since: dt.date | None) -> dict:
    selectors.ensure_may_forecast(user)
    rep = accuracy.report(period_kind, visible=visible_keys(user), since=since)
    labels = scope_labels(rep.scopes)
    return {
        "period_kind": period_kind,
        "rule": accuracy_rule(),
        "levels": score_rows(rep.levels, labels),
        "scopes": score_rows(rep.scopes, labels),
        "best": rep.best,
    }


@router.get(
    "/accuracy", response=AccuracyOut, operation_id="forecasts_accuracy", summary="MAPE and bias per method and level"
)
def get_accuracy(request: HttpRequest, period_kind: PeriodKindCode = "month", since: dt.date | None = None):
    return accuracy_report(request.auth, period_kind, since)


@router.get("/scopes", response=list[ScopeOut], operation_id="forecasts_scopes", summary="Scopes you may forecast")
def get_scopes(request: HttpRequest):
    selectors.ensure_may_forecast(request.auth)
    return [scope_out(s) for s in selectors.visible_scopes(request.auth)]
