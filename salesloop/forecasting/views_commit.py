"""Pages of the commit workflow (issue #7 §4 (c)): a person's call sheet and a leader's roll-up.

Thin: query parameters in, ``commit`` (reads) and ``services_commit`` (writes) out, the same
rules as the API (``/api/forecasts/commit``): invisible → 404, visible but not one's to change →
403, bad input → the form again with field errors (422). Putting a deal in a category is an htmx
post that swaps the sheet (or the deal page's panel) in place, without a full reload.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.forecasting import commit, services_commit
from salesloop.forecasting.models import Category, ScopeKind
from salesloop.forecasting.templatetags.forecast_commit_tags import OPEN_CHOICES, category_panel_context
from salesloop.org.models import OrgSettings, User
from salesloop.pipeline.models import Opportunity


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _period(params) -> tuple[dt.date, dt.date, dict[str, list[str]]]:
    """The period from ``start``/``end`` (else the current fiscal quarter), and any errors."""
    start, end = _date(params.get("start")), _date(params.get("end"))
    if start is None or end is None:
        start, end = commit.default_period()
        return start, end, {}
    try:
        return (*services_commit.clean_period(start, end), {})
    except FieldErrors as exc:
        start, end = commit.default_period()
        return start, end, exc.errors


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 < number < 2**63 else None


def _query(**params) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _shift(start: dt.date, end: dt.date, direction: int) -> tuple[dt.date, dt.date]:
    """The period of the same length just before (−1) or after (+1): a quarter steps a quarter."""
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1

        def add(day: dt.date, n: int) -> dt.date:
            index = day.year * 12 + day.month - 1 + n
            return dt.date(index // 12, index % 12 + 1, 1)

        new_start = add(start, direction * months)
        return new_start, add(new_start, months) - dt.timedelta(days=1)
    days = (end - start).days + 1
    return start + dt.timedelta(days=direction * days), end + dt.timedelta(days=direction * days)


def _nav(start: dt.date, end: dt.date, **extra) -> dict[str, str]:
    prev_start, prev_end = _shift(start, end, -1)
    next_start, next_end = _shift(start, end, 1)
    return {
        "prev": _query(start=prev_start, end=prev_end, **extra),
        "next": _query(start=next_start, end=next_end, **extra),
        "current": _query(start=start, end=end, **extra),
    }


# The call sheet ---------------------------------------------------------------------------------


def _sheet_context(request: HttpRequest, owner: User, start: dt.date, end: dt.date) -> dict:
    viewer = request.user
    deals = commit.sheet_deals(owner=owner, viewer=viewer, period_start=start, period_end=end)
    lines = commit.commit_by_rep(scope_kind=ScopeKind.REP, scope_id=owner.pk, period_start=start, period_end=end)
    totals = lines[0].totals if lines else commit.CategoryTotals()
    history = commit.submission_history(owner=owner, period_start=start, period_end=end)
    latest = history[0] if history else None
    for deal in deals:
        deal.editable = not deal.stage.is_closed and commit.may_categorise(viewer, deal.owner)
        deal.counts_as_label = Category(deal.counts_as).label
    chart = {
        "labels": [
            str(Category.CLOSED.label),
            str(Category.COMMIT.label),
            str(Category.BEST_CASE.label),
            str(Category.PIPELINE.label),
        ],
        "values": [float(totals.closed), float(totals.commit), float(totals.best_case), float(totals.pipeline)],
        "submitted": float(latest.amount) if latest else None,
        "submitted_label": _("Submitted"),
    }
    return {
        "owner": owner,
        "people": _people_for(viewer, owner),
        "start": start,
        "end": end,
        "nav": _nav(start, end, owner=owner.pk if owner.pk != viewer.pk else None),
        "currency": OrgSettings.current().currency,
        "totals": totals,
        "deals": deals,
        "choices": OPEN_CHOICES,
        "history": history,
        "latest": latest,
        "can_submit": owner.pk == viewer.pk and services_commit.may_submit(viewer),
        "is_leader": bool(commit.visible_teams(viewer)),
        "chart_json": json.dumps(chart),
    }


def _people_for(viewer: User, owner: User) -> list[User]:
    """Whose sheet the viewer may switch to: themselves and the people in their line."""
    teams = commit.visible_teams(viewer)
    if not teams:
        return [owner]
    people = User.objects.filter(is_active=True, team__in=teams).select_related("team").order_by("username")
    found = [p for p in people if p.pk == viewer.pk or commit.may_read_book(viewer, p)]
    if all(p.pk != viewer.pk for p in found) and services_commit.may_submit(viewer):
        found.insert(0, viewer)
    return found


def _sheet_owner(request: HttpRequest, owner_param: str | None) -> User:
    owner = commit.book_owner_for(request.user, _int(owner_param))
    if owner.pk == request.user.pk and not services_commit.may_submit(request.user):
        if commit.visible_teams(request.user):
            raise _GoToTeam
        raise Forbidden(_("Only people with their own sales book have a forecast call sheet."))
    return owner


class _GoToTeam(Exception):
    """A leader without a book of their own (admin) is sent to the team roll-up instead."""


@require_GET
@login_required
def commit_sheet(request: HttpRequest) -> HttpResponse:
    """A person's call sheet: deals of the period by category, cumulative roll-ups, submit, history."""
    start, end, errors = _period(request.GET)
    try:
        owner = _sheet_owner(request, request.GET.get("owner"))
    except _GoToTeam:
        return redirect(reverse("forecasting:commit_team") + "?" + _query(start=start, end=end))
    except Forbidden as exc:
        return HttpResponseForbidden(str(exc))
    context = _sheet_context(request, owner, start, end)
    context["period_errors"] = errors
    return render(request, "forecasting/commit_sheet.html", context, status=422 if errors else 200)


@require_POST
@login_required
def deal_category(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a deal's category (htmx). ``panel=deal`` answers with the deal page's panel; otherwise
    with the call sheet of the deal's owner for the posted period (htmx swaps ``#commit-sheet``)."""
    version = _int(request.POST.get("version"))
    panel = request.POST.get("panel")
    error = ""
    status = 200
    try:
        services_commit.deal_category_set(
            opportunity_id=pk,
            category=request.POST.get("category", ""),
            by=request.user,
            version=version,
            source="web",
        )
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc
    except Forbidden as exc:
        return HttpResponseForbidden(str(exc))
    except FieldErrors as exc:
        error, status = " ".join(str(m) for msgs in exc.errors.values() for m in msgs), 422
    except Conflict:
        error, status = _("Someone else changed this deal's category; here is the current one."), 409
    deal = Opportunity.objects.select_related("stage", "owner__team", "forecast_category").get(pk=pk)
    if panel == "deal" and not request.htmx:  # the no-script form: back to the deal page
        return redirect("opportunity_detail", pk)
    if panel == "deal":
        context = category_panel_context(request.user, deal)
        context["error"] = error
        return render(request, "forecasting/commit_deal_panel.html", context, status=status)
    start, end, _errors = _period(request.POST)
    context = _sheet_context(request, deal.owner, start, end)
    context["row_error"] = {"deal": pk, "message": error} if error else None
    # htmx swaps only 2xx answers by default; the sheet shows the message in the row instead.
    return render(request, "forecasting/commit_sheet.html", context, status=200 if request.htmx else status)


@require_POST
@login_required
def commit_submit(request: HttpRequest) -> HttpResponse:
    """Submit the viewer's number for the period (a resubmission adds a row)."""
    start, end = _date(request.POST.get("start")), _date(request.POST.get("end"))
    try:
        services_commit.submission_create(
            by=request.user,
            period_start=start,
            period_end=end,
            amount=request.POST.get("amount", "").strip().replace(",", ""),
            note=request.POST.get("note", ""),
        )
    except Forbidden as exc:
        return HttpResponseForbidden(str(exc))
    except FieldErrors as exc:
        s, e, _errors = _period(request.POST)
        context = _sheet_context(request, request.user, s, e)
        context.update(
            submit_errors=exc.errors,
            submit_amount=request.POST.get("amount", ""),
            submit_note=request.POST.get("note", ""),
        )
        return render(request, "forecasting/commit_sheet.html", context, status=422)
    messages.success(request, _("Your forecast is submitted."))
    return redirect(reverse("forecasting:commit") + "?" + _query(start=start, end=end))


# The team roll-up -------------------------------------------------------------------------------


def _team_context(request: HttpRequest, team_param: str | None, start: dt.date, end: dt.date) -> dict:
    viewer = request.user
    scope_kind, scope_id, scope_name = commit.team_scope_for(viewer, _int(team_param))
    lines = commit.commit_by_rep(
        scope_kind=scope_kind, scope_id=scope_id, period_start=start, period_end=end, viewer=viewer
    )
    currency = OrgSettings.current().currency
    rollup = commit.rollup_of(lines, currency)
    for line in lines:
        line.can_adjust = line.submission is not None and commit.is_manager_of(viewer, line.owner)
    chart = {
        "people": [str(line.owner) for line in lines],
        "submitted": [float(line.submitted) if line.submitted is not None else None for line in lines],
        "adjusted": [float(line.adjusted) if line.adjusted is not None else None for line in lines],
        "commit": [float(line.totals.commit) for line in lines],
        "labels": {
            "submitted": _("Submitted"),
            "adjusted": _("Adjusted (your view)"),
            "commit": str(Category.COMMIT.label),
        },
    }
    return {
        "scope_kind": scope_kind,
        "scope_id": scope_id,
        "scope_name": scope_name,
        "teams": commit.visible_teams(viewer),
        "start": start,
        "end": end,
        "nav": _nav(start, end, team=scope_id),
        "currency": currency,
        "lines": lines,
        "rollup": rollup,
        "chart_json": json.dumps(chart),
    }


@require_GET
@login_required
def commit_team(request: HttpRequest) -> HttpResponse:
    """A leader's roll-up: each person's submitted and adjusted number, adjustments, totals."""
    start, end, errors = _period(request.GET)
    try:
        context = _team_context(request, request.GET.get("team"), start, end)
    except Forbidden as exc:
        return HttpResponseForbidden(str(exc))
    context["period_errors"] = errors
    return render(request, "forecasting/commit_team.html", context, status=422 if errors else 200)


@require_POST
@login_required
def commit_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    """A leader adjusts a person's latest submission with a reason; back to the roll-up."""
    try:
        adjustment = services_commit.adjustment_create(
            by=request.user,
            submission_id=pk,
            amount=request.POST.get("amount", "").strip().replace(",", ""),
            reason=request.POST.get("reason", ""),
        )
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    except Forbidden as exc:
        return HttpResponseForbidden(str(exc))
    except FieldErrors as exc:
        start, end, _errors = _period(request.POST)
        context = _team_context(request, request.POST.get("team"), start, end)
        context.update(
            adjust_errors={"submission": pk, "errors": exc.errors},
            adjust_values={"amount": request.POST.get("amount", ""), "reason": request.POST.get("reason", "")},
        )
        return render(request, "forecasting/commit_team.html", context, status=422)
    sub = adjustment.submission
    messages.success(request, _("Adjustment saved for %(name)s.") % {"name": str(sub.owner)})
    query = _query(team=request.POST.get("team"), start=sub.period_start, end=sub.period_end)
    return redirect(reverse("forecasting:commit_team") + "?" + query)
