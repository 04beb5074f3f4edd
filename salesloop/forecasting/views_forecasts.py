"""Forecast pages: the four methods side by side for a scope and period, with forecast-vs-actual
lines over past periods; and the accuracy table (which method and which rep forecasts well).

Thin: query parameters in, ``selectors`` / ``services`` / ``accuracy`` out. Roles outside the
sales line get 403, a scope the viewer may not see 404, a malformed parameter 400 — the same
rules as ``/api/forecasts`` (both go through ``selectors.scope_for``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.forecasting import accuracy, api_forecasts, selectors, services
from salesloop.forecasting.models import ForecastSettings, Method, PeriodKind
from salesloop.org.models import OrgSettings


def _scope_arg(value: str | None) -> tuple[str | None, int | None]:
    """``"team:5"`` → ("team", 5); ``"company"`` → ("company", None); empty → (None, None)."""
    if not value:
        return None, None
    kind, _sep, rest = value.partition(":")
    if rest and not rest.isdigit():
        raise FieldErrors({"scope": [_("Unknown scope.")]})
    return kind, int(rest) if rest else None


def _input_labels() -> dict[str, str]:
    return {
        "model": _("Model"),
        "season_length": _("Season (months)"),
        "history_months": _("Months of history"),
        "history_start": _("History from"),
        "complete_months_in_period": _("Complete months in the period (counted at actual)"),
        "actual_of_complete_months": _("Actual of complete months"),
        "won_so_far": _("Won so far"),
        "open_deals": _("Open deals closing in the period"),
        "open_amount": _("Open amount (unweighted)"),
        "weighted_open": _("Open amount × probability"),
        "note_close_dates": _("Note"),
        "submitted": _("Submitted"),
        "adjusted": _("After managers' adjustments"),
        "closed": _("Closed (live)"),
        "commit": _("Commit (live, incl. closed)"),
        "best_case": _("Best case (live, incl. commit)"),
        "pipeline": _("Pipeline (live, incl. best case)"),
        "reps_submitted": _("Forecasters who submitted"),
        "reps_total": _("Forecasters"),
        "weighting": _("Weighting used"),
        "fixed_amount": _("With fixed weights"),
        "accuracy_amount": _("With accuracy weights"),
    }


def _model_names() -> dict[str, str]:
    return {
        "holt_winters": _("Holt-Winters (damped trend, additive season)"),
        "simple": _("Simple exponential smoothing (fallback)"),
        "mean": _("Monthly average (fallback)"),
        "zero": _("No revenue (zero)"),
        "none": _("None"),
        "fixed": _("Fixed weights"),
        "accuracy": _("Weights ∝ 1/MAPE"),
    }


def input_rows(result) -> list[tuple[str, str]]:
    """A method's inputs as (translated label, value) rows; weights as "method: share"."""
    labels, names = _input_labels(), _model_names()
    rows = []
    for key, value in result.inputs.items():
        if key in ("weights", "fixed_weights", "accuracy_weights"):
            if value and key == "weights":
                shares = ", ".join(f"{services.method_label(m)} {w:.0%}" for m, w in value.items())
                rows.append((str(_("Weights")), shares))
            continue
        if key not in labels or value is None:
            continue
        rows.append((str(labels[key]), str(names.get(value, value)) if isinstance(value, str) else str(value)))
    return rows


def _pct(rows: list[dict]) -> list[dict]:
    return [
        {
            **r,
            "mape_pct": None if r["mape"] is None else r["mape"] * 100,
            "bias_pct": None if r["bias"] is None else r["bias"] * 100,
        }
        for r in rows
    ]


def _bad_request(exc: FieldErrors) -> HttpResponseBadRequest:
    return HttpResponseBadRequest("; ".join(m for msgs in exc.errors.values() for m in msgs))


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    try:
        kind, sid = _scope_arg(request.GET.get("scope"))
        scope = selectors.scope_for(request.user, kind, sid)
        today = timezone.localdate()
        period = selectors.parse_period(request.GET.get("period"), today=today)
        history_kind = request.GET.get("history", period.kind)
        if history_kind not in PeriodKind.values:
            raise FieldErrors({"history": [_("Choose month or quarter.")]})
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except FieldErrors as exc:
        return _bad_request(exc)
    fc = services.forecast(scope, period, viewer=request.user)
    points = accuracy.history(
        scope, history_kind, periods=12 if history_kind == PeriodKind.MONTH else 6, now=timezone.now()
    )
    track = accuracy.track_record(scope.kind, scope.id, period.kind)
    fiscal = selectors.fiscal_start_month()
    period_options = [
        *selectors.periods_around(PeriodKind.QUARTER, today, before=4, after=1, fiscal_start=fiscal),
        *selectors.periods_around(PeriodKind.MONTH, today, before=6, after=2, fiscal_start=fiscal),
    ]
    chart_methods = [Method.TIME_SERIES, Method.SEASONAL_NAIVE, Method.PIPELINE, Method.COMMIT, Method.COMBINED]
    chart = {
        "x": [selectors.period_code(p.period, fiscal_start=fiscal) for p in points],
        "actual": [float(p.actual) for p in points],
        "actual_label": str(_("Actual")),
        "title": str(_("Forecast (snapshot at period start) vs actual")),
        "series": [
            {
                "name": services.method_label(m),
                "y": [float(p.forecasts[m]) if m in p.forecasts else None for p in points],
            }
            for m in chart_methods
        ],
    }
    context = {
        "forecast": fc,
        "methods": [(r, services.method_label(r.method), input_rows(r)) for r in fc.ordered()],
        "history_rows": [
            {
                "code": selectors.period_code(p.period, fiscal_start=fiscal),
                "closed": p.closed,
                "actual": p.actual,
                "values": [p.forecasts.get(m) for m in chart_methods],
            }
            for p in points
        ],
        "scope": scope,
        "scope_value": scope.key if scope.id else scope.kind,
        "scopes": selectors.visible_scopes(request.user),
        "period": period,
        "period_code": selectors.period_code(period, fiscal_start=fiscal),
        "period_options": [(selectors.period_code(p, fiscal_start=fiscal), p) for p in period_options],
        "history_kind": history_kind,
        "points": points,
        "chart": chart,
        "track": [{"label": services.method_label(m), "mape": v[0], "periods": v[1]} for m, v in sorted(track.items())],
        "settings": ForecastSettings.current(),
        "currency": OrgSettings.current().currency,
        "rule": api_forecasts.accuracy_rule(),
    }
    return render(request, "forecasting/overview.html", context)


@require_GET
@login_required
def accuracy_page(request: HttpRequest) -> HttpResponse:
    period_kind = request.GET.get("period_kind", PeriodKind.MONTH)
    if period_kind not in PeriodKind.values:
        return HttpResponseBadRequest(_("Choose month or quarter."))
    try:
        report = api_forecasts.accuracy_report(request.user, period_kind, None)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    levels = report["levels"]
    level_names = {"company": _("Company"), "team": _("Teams"), "rep": _("Reps")}
    methods = sorted({row["method"] for row in levels}, key=lambda m: list(Method.values).index(m))
    chart = {
        "title": str(_("MAPE by method and level (lower is better)")),
        "levels": [str(level_names[k]) for k in ("company", "team", "rep")],
        "series": [
            {
                "name": services.method_label(m),
                "y": [
                    next(
                        (
                            r["mape"] * 100
                            for r in levels
                            if r["method"] == m and r["level"] == k and r["mape"] is not None
                        ),
                        None,
                    )
                    for k in ("company", "team", "rep")
                ],
            }
            for m in methods
        ],
    }
    context = {
        "period_kind": period_kind,
        "levels": [
            {
                **r,
                "level_label": level_names.get(r["level"], r["level"]),
                "is_best": report["best"].get(r["level"]) == r["method"],
            }
            for r in _pct(levels)
        ],
        "level_names": level_names,
        "best": report["best"],
        "reps": _pct([r for r in report["scopes"] if r["level"] == "rep"]),
        "teams": _pct([r for r in report["scopes"] if r["level"] != "rep"]),
        "rule": report["rule"],
        "chart": chart,
    }
    return render(request, "forecasting/accuracy.html", context)
