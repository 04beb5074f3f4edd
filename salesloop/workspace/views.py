"""The daily workspace pages. Thin: forms in, selectors/services, templates out.

htmx requests get the fragment they target (the team table, the board, the quick-log form); a
plain request gets the whole page, so every view also works without JavaScript.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.org import access
from salesloop.org.models import LEADING_ROLES, Role
from salesloop.pipeline.models import LossReason, Opportunity, Stage
from salesloop.pipeline.services import opportunity_move_stage
from salesloop.workspace import selectors, services
from salesloop.workspace.forms import BoardFilterForm, BoardMoveForm, QuickLogForm, TeamTableForm
from salesloop.workspace.templatetags.workspace_tags import money, stage_label

UNPROCESSABLE = 422


class _BadRequest(Exception):
    """Query parameters that do not validate: the page answers 400 with the form's errors."""

    def __init__(self, errors):
        self.errors = errors


def _leads_people(user) -> bool:
    return user.is_superuser or user.role in LEADING_ROLES or user.role == Role.ADMIN


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """``/``: a rep's day, a leader's team, or a support role's task list."""
    if _leads_people(request.user):
        return manager_home(request)
    if request.user.role == Role.REP:
        return rep_home(request)
    return support_home(request)


def _rep_home_context(request: HttpRequest, subject, *, form: QuickLogForm | None = None) -> dict:
    return {
        "data": selectors.rep_home(viewer=request.user, subject=subject),
        "is_self": subject.pk == request.user.pk,
        "quick_log_form": form or QuickLogForm(),
    }


@require_GET
@login_required
def rep_home(request: HttpRequest) -> HttpResponse:
    """My day: tasks due and overdue, targets (when a targets app exists), pipeline, activity."""
    if request.user.role not in access.SALES_ROLES and not request.user.is_superuser:
        return support_home(request)
    return render(request, "workspace/rep_home.html", _rep_home_context(request, request.user))


@require_GET
@login_required
def support_home(request: HttpRequest) -> HttpResponse:
    """Finance, legal, after-sales, marketing: their own tasks; the header menu has their lists."""
    digest = selectors.task_digest(viewer=request.user, assignee=request.user)
    return render(request, "workspace/support_home.html", {"tasks": digest})


def _team_table_options(request: HttpRequest) -> tuple[str, str]:
    form = TeamTableForm(request.GET)
    if not form.is_valid():
        raise _BadRequest(form.errors)
    return form.cleaned_data["period"], form.cleaned_data["sort"]


@require_GET
@login_required
def manager_home(request: HttpRequest) -> HttpResponse:
    """The team's today and this week, per rep, sortable, with a chart and drill-downs."""
    if not _leads_people(request.user):
        raise PermissionDenied
    try:
        period, sort = _team_table_options(request)
    except _BadRequest as exc:
        return render(request, "workspace/bad_request.html", {"errors": exc.errors}, status=400)
    performance = selectors.team_performance(viewer=request.user)
    rows = performance.sorted_rows(period, sort)
    context = {
        # Row links are built from this prefix: reversing five URLs per rep dominated the page.
        "team_base": reverse("manager_home"),
        "performance": performance,
        "period": period,
        "sort": sort,
        "rows": rows,
        "total": performance.totals[period],
        "chart": {
            "names": [str(r.user) for r in rows],
            "won": [float(r.won_amount) for r in rows],
            "visits": [r.visits for r in rows],
            "currency": performance.currency,
            "labels": {"won": _("Won amount"), "visits": _("Visits")},
        },
    }
    if request.htmx and request.htmx.target == "team-table":
        return render(request, "workspace/_team_table.html", context)
    return render(request, "workspace/manager_home.html", context)


def _member_or_404(request: HttpRequest, user_id: int):
    if not _leads_people(request.user):
        raise Http404
    member = selectors.team_member_or_none(request.user, user_id)
    if member is None:
        raise Http404
    return member


@require_GET
@login_required
def team_member(request: HttpRequest, user_id: int) -> HttpResponse:
    """Drill-down to one rep: their day as they see it, read-only, plus links to their records."""
    member = _member_or_404(request, user_id)
    performance = selectors.team_performance(viewer=request.user)
    metrics = {
        period: next((r for r in performance.rows[period] if r.user.pk == member.pk), None)
        for period in ("today", "week")
    }
    context = _rep_home_context(request, member) | {"member": member, "metrics": metrics}
    return render(request, "workspace/team_member.html", context)


@require_GET
@login_required
def team_member_records(request: HttpRequest, user_id: int, metric: str) -> HttpResponse:
    """The records behind one number of the manager table (same filters as the number)."""
    if metric not in selectors.DRILL_METRICS:
        raise Http404
    member = _member_or_404(request, user_id)
    try:
        period_code, _sort = _team_table_options(request)
    except _BadRequest as exc:
        return render(request, "workspace/bad_request.html", {"errors": exc.errors}, status=400)
    today, week = selectors.today_and_week()
    period = today if period_code == "today" else week
    records = selectors.metric_records(
        viewer=request.user, rep=member, metric=metric, period=period
    )
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "workspace/team_member_records.html",
        {"member": member, "metric": metric, "period": period_code, "page": page},
    )


# --------------------------------------------------------------------------- quick log


@require_POST
@login_required
def quick_log(request: HttpRequest) -> HttpResponse:
    """Log a visit/call now. htmx: the fresh form plus the updated recent-activity list."""
    form = QuickLogForm(request.POST)
    activity = None
    if form.is_valid():
        kind, pk = form.cleaned_data["link"]
        try:
            activity = services.activity_log_quick(
                user=request.user,
                kind=form.cleaned_data["kind"],
                account_id=pk if kind == "account" else None,
                opportunity_id=pk if kind == "opportunity" else None,
                note=form.cleaned_data["note"],
            )
        except Forbidden:
            form.add_error(None, _("You may not log activities."))
        except FieldErrors as exc:
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
    if activity is None:
        if request.htmx:
            return render(
                request, "workspace/_quick_log.html", {"quick_log_form": form}, status=UNPROCESSABLE
            )
        context = _rep_home_context(request, request.user, form=form)
        return render(request, "workspace/rep_home.html", context, status=UNPROCESSABLE)
    if request.htmx:
        context = {
            "quick_log_form": QuickLogForm(),
            "logged": activity,
            "recent": selectors.recent_activities(viewer=request.user, owner=request.user),
        }
        return render(request, "workspace/_quick_log.html", context)
    messages.success(request, _("Logged: %(activity)s") % {"activity": activity.get_kind_display()})
    return redirect("home")


@require_GET
@login_required
def quick_log_links(request: HttpRequest) -> HttpResponse:
    """The picker's search results: accounts and open deals the user can see."""
    query = request.GET.get("q", "")[:100]
    options = selectors.link_options(user=request.user, query=query)
    return render(request, "workspace/_link_options.html", {"options": options, "query": query})


# --------------------------------------------------------------------------- board


def _list_query(filters: selectors.BoardFilters) -> str:
    """The deal list's filters matching the board's, for a column's "+ N more" link."""
    params = {}
    if filters.owner is not None:
        params["owner_id"] = filters.owner.pk
    if filters.close_month is not None:
        end = (filters.close_month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        params.update(close_from=filters.close_month.isoformat(), close_to=end.isoformat())
    return urlencode(params)


@require_GET
@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The pipeline as a kanban; filters by owner, team and expected close month."""
    if not access.can_read_model(request.user, Opportunity):
        raise PermissionDenied
    form = BoardFilterForm(request.GET or None, user=request.user)
    status = 400 if form.is_bound and not form.is_valid() else 200
    filters = form.filters()
    data = selectors.board(viewer=request.user, filters=filters)
    context = {
        "board": data,
        "filter_form": form,
        "loss_reasons": LossReason.objects.all(),
        "list_query": _list_query(filters),
        # Cards link to ``<deal_base><id>/`` (the deal's page): one reverse instead of one per card.
        "deal_base": reverse("opportunity_list"),
        # Owner and team filters only make sense to someone who sees more than their own book.
        "show_people_filters": access.scope_for(request.user, Opportunity)
        in (access.Scope.SUBTREE, access.Scope.ALL),
    }
    if context["show_people_filters"] and not request.htmx:
        # Plain (value, label) pairs: Django's Select widget renders a template per option,
        # which for a director's few hundred people cost more than the board's queries.
        context["owner_choices"] = [(u.pk, str(u)) for u in form.fields["owner"].queryset]
        context["team_choices"] = [(t.pk, str(t)) for t in form.fields["team"].queryset]
    if request.htmx and request.htmx.target == "board":
        return render(request, "workspace/_board.html", context, status=status)
    return render(request, "workspace/board.html", context, status=status)


def _totals_payload(request: HttpRequest, currency: str) -> dict[str, dict[str, str | int]]:
    form = BoardFilterForm(request.POST, user=request.user)
    qs = selectors.board_queryset(viewer=request.user, filters=form.filters())
    totals = selectors.board_totals(qs, currency)
    return {
        str(stage.pk): {
            "count": totals.get(stage.pk, {}).get("count", 0),
            "amount": money(totals.get(stage.pk, {}).get("amount", 0)),
        }
        for stage in selectors.board_stages()
    }


def _card_payload(request: HttpRequest, opportunity_id: int, can_move: bool) -> dict:
    deal = selectors.board_card(viewer=request.user, opportunity_id=opportunity_id)
    if deal is None:
        return {}
    html = render_to_string(
        "workspace/_card.html", {"deal": deal, "can_move": can_move}, request=request
    )
    return {"card": html, "stage_id": deal.stage_id, "version": deal.version}


@require_http_methods(["POST"])
@login_required
def board_move(request: HttpRequest) -> JsonResponse:
    """Drag and drop: move a deal to a stage with the version its card showed.

    Answers JSON: 200 with the new card and stage totals; 409 with the current card when someone
    else changed the deal meanwhile (nothing is applied, the card snaps back with fresh data);
    422 with field errors (a lost deal needs a reason); 403 when the deal is visible but not the
    user's to move; 404 when it is not visible at all.
    """
    form = BoardMoveForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=UNPROCESSABLE)
    data = form.cleaned_data
    deal = selectors.board_card(viewer=request.user, opportunity_id=data["opportunity_id"])
    if deal is None:
        return JsonResponse({"message": _("No such opportunity.")}, status=404)
    stage = Stage.objects.filter(pk=data["stage_id"], is_active=True).first()
    can_move = access.can_write_model(request.user, Opportunity)
    if stage is None:
        return JsonResponse(
            {
                "errors": {"stage_id": [{"message": _("Unknown stage.")}]},
                **_card_payload(request, deal.pk, can_move),
            },
            status=UNPROCESSABLE,
        )
    extra = {}
    if stage.is_lost:
        extra = {"loss_reason_id": data["loss_reason_id"], "loss_note": data["loss_note"] or ""}
    try:
        opportunity_move_stage(
            opportunity_id=deal.pk,
            stage_id=stage.pk,
            version=data["version"],
            user=request.user,
            **extra,
        )
    except (Opportunity.DoesNotExist, Forbidden):
        body = {
            "message": _("You may not move this deal."),
            **_card_payload(request, deal.pk, can_move),
        }
        return JsonResponse(body, status=403)
    except Conflict:
        body = _card_payload(request, deal.pk, can_move)
        current = selectors.board_card(viewer=request.user, opportunity_id=deal.pk)
        body["message"] = _(
            "Someone else changed “%(deal)s” meanwhile; it is now in %(stage)s. "
            "Your move was not applied."
        ) % {"deal": current.name, "stage": stage_label(current.stage)}
        body["conflict"] = True
        body["totals"] = _totals_payload(request, selectors.org_currency())
        return JsonResponse(body, status=409)
    except FieldErrors as exc:
        body = {
            "errors": {k: [{"message": m} for m in v] for k, v in exc.errors.items()},
            "message": " ".join(m for msgs in exc.errors.values() for m in msgs),
            **_card_payload(request, deal.pk, can_move),
        }
        return JsonResponse(body, status=UNPROCESSABLE)
    body = _card_payload(request, deal.pk, can_move)
    body["totals"] = _totals_payload(request, selectors.org_currency())
    return JsonResponse(body)
