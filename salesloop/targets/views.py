"""Pages for targets and the daily loop. Thin: parse the request, call services/selectors, render.

Visibility is the selectors' (a page and its fragments are protected alike); a domain
``Forbidden`` becomes 403 and field errors are shown on the form they came from.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salesloop.audit.selectors import history_for
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.org import access
from salesloop.org.models import Role, Team, User
from salesloop.targets import selectors, services
from salesloop.targets.metrics import METRICS, Metric
from salesloop.targets.models import BottleneckRule, Flag, FlagStatus, SeasonalProfile, Target, Tier
from salesloop.targets.periods import Period, PeriodKind, finer_kinds
from salesloop.targets.selectors import TargetScope


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _teams_for(user: User) -> list[Team]:
    """Teams whose numbers ``user`` may see, for the team pickers."""
    teams = Team.objects.order_by("path")
    level = access.scope_for(user, Target, "read")
    if level == access.Scope.ALL:
        return list(teams)
    if level == access.Scope.NONE or not user.team_id:
        return []
    if level == access.Scope.OWN:
        return [user.team]
    return list(teams.filter(path__startswith=user.team.path))


def _context(request: HttpRequest) -> dict:
    """Team, period kind and date from the query string, defaulting to the user's team, this month."""
    teams = _teams_for(request.user)
    if not teams:
        raise PermissionDenied(_("You have no team numbers to see."))
    team_id = request.GET.get("team")
    team = next((t for t in teams if str(t.pk) == team_id), None) or selectors.home_team(request.user)
    if team not in teams:
        team = teams[0]
    kind = request.GET.get("period") if request.GET.get("period") in PeriodKind.values else PeriodKind.MONTH
    day = _date(request.GET.get("date")) or timezone.localdate()
    return {
        "teams": teams,
        "team": team,
        "period_kind": kind,
        "date": day,
        "period": selectors.current_period(kind, day),
        "period_kinds": PeriodKind.choices,
    }


def _guard(fn):
    """Domain refusals → 403 pages; unknown rows → 404."""

    def wrapped(request, *args, **kwargs):
        try:
            return fn(request, *args, **kwargs)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ObjectDoesNotExist as exc:
            raise Http404 from exc

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return login_required(wrapped)


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value not in (None, "") else None
    except InvalidOperation:
        return None


# Targets ----------------------------------------------------------------------------------------


@_guard
@require_http_methods(["GET", "POST"])
def target_list(request: HttpRequest) -> HttpResponse:
    """Targets of the chosen period, and the form to set a new one top-down (or submit your own)."""
    ctx = _context(request)
    errors: dict = {}
    form = {
        "metric": Metric.REVENUE,
        "period_kind": PeriodKind.QUARTER,
        "rep_id": "",
        "amount": "",
        "tier": "",
        "period_start": timezone.localdate().isoformat(),
        "team_id": ctx["team"].pk,
    }
    if request.method == "POST":
        form = {
            k: request.POST.get(k, "")
            for k in ("metric", "period_kind", "period_start", "team_id", "rep_id", "amount", "tier", "note")
        }
        data = {
            "metric": form["metric"],
            "period_kind": form["period_kind"],
            "period_start": _date(form["period_start"]),
            "amount": form["amount"] or None,
            "team_id": int(form["team_id"]) if form["team_id"].isdigit() else None,
            "rep_id": int(form["rep_id"]) if form["rep_id"].isdigit() else None,
            "tier": form["tier"],
            "note": form.get("note", "")[:300],
        }
        try:
            if request.POST.get("submit_own"):
                target = services.target_submit(by=request.user, data=data, source="web")
                messages.success(request, _("Submitted for approval."))
            else:
                target = services.target_create(by=request.user, data=data, source="web")
                messages.success(request, _("Target set."))
            return redirect("targets:detail", pk=target.pk)
        except FieldErrors as exc:
            errors = exc.errors
        except Forbidden as exc:
            errors = {"__all__": [str(exc)]}
    targets = selectors.target_list(user=request.user, on_date=ctx["date"], top_level=True).order_by(
        "metric", "period_kind", "scope_key"
    )[:300]
    submissions = selectors.target_list(user=request.user, status="submitted")[:50]
    may_set = access.scope_for(request.user, Target, "write") in (access.Scope.SUBTREE, access.Scope.ALL)
    reps = User.objects.filter(team__in=ctx["teams"], role=Role.REP, is_active=True).order_by("username")
    return render(
        request,
        "targets/list.html",
        {
            **ctx,
            "targets": targets,
            "submissions": submissions,
            "form": form,
            "errors": errors,
            "may_set": may_set,
            "metrics": [(code, Metric(code).label) for code in METRICS],
            "tiers": Tier.choices,
            "reps": reps,
        },
    )


@_guard
@require_http_methods(["GET", "POST"])
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One target: attainment, its children (which add up), and decomposition with a preview."""
    target = selectors.target_get(user=request.user, target_id=pk)
    errors: dict = {}
    preview = None
    choice = {"axis": "members", "to": "", "period_kind": "", "profile": ""}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action in ("preview", "decompose"):
                choice = {k: request.POST.get(k, "") for k in choice}
                options = {
                    "to": choice["to"] or None,
                    "period_kind": choice["period_kind"] or None,
                    "profile": choice["profile"] or None,
                }
                result = services.target_decompose(
                    target_id=target.pk,
                    by=request.user,
                    axis=choice["axis"],
                    options=options,
                    preview=action == "preview",
                    replace=bool(request.POST.get("replace")),
                )
                if action == "preview":
                    preview = result
                else:
                    messages.success(
                        request, _("Split into %(n)s parts that add up to the target.") % {"n": len(result.created)}
                    )
                    return redirect("targets:detail", pk=target.pk)
            elif action in ("approve", "reject"):
                services.target_decide(
                    target_id=target.pk,
                    by=request.user,
                    approve=action == "approve",
                    version=int(request.POST.get("version", 0)),
                    note=request.POST.get("note", ""),
                )
                return redirect("targets:detail", pk=target.pk)
            elif action == "update":
                data = {"amount": request.POST.get("amount"), "note": request.POST.get("note", "")}
                services.target_update(
                    target_id=target.pk, by=request.user, data=data, version=int(request.POST.get("version", 0))
                )
                messages.success(request, _("Saved."))
                return redirect("targets:detail", pk=target.pk)
        except FieldErrors as exc:
            errors = exc.errors
        except ObjectDoesNotExist as exc:
            raise Forbidden(_("You may read this target but not change it.")) from exc
        target = selectors.target_get(user=request.user, target_id=pk)
    scope = TargetScope(team=None if target.rep_id else target.team, rep=target.rep)
    period = Period(target.period_start, target.period_end, target.period_kind)
    attainment = selectors.attainment_for(
        user=request.user, scope=scope, period=period, metric=target.metric, tier=target.tier
    )
    children = list(target.children.select_related("team", "rep").order_by("period_start", "scope_key", "tier"))
    series = (
        selectors.run_rate_series(user=request.user, scope=scope, period=period, metric=target.metric)
        if not target.tier and period.days > 1
        else None
    )
    return render(
        request,
        "targets/detail.html",
        {
            "target": target,
            "attainment": attainment,
            "children": children,
            "children_sum": sum((c.amount for c in children), Decimal(0)),
            "errors": errors,
            "preview": preview,
            "choice": choice,
            "finer_kinds": [(k, PeriodKind(k).label) for k in finer_kinds(target.period_kind)],
            "profiles": SeasonalProfile.objects.all(),
            "history": list(history_for(target)[:20]),
            "may_write": services.may_set_targets(request.user),
            "series": series,
            "gauges": [
                {
                    "label": str(Metric(target.metric).label),
                    "value": str(attainment.actual),
                    "target": str(attainment.target or 0),
                }
            ],
        },
    )


# Tracking ---------------------------------------------------------------------------------------


@_guard
def tracking(request: HttpRequest) -> HttpResponse:
    """Live tracking: the team's children × metrics against target, run rate, funnel."""
    ctx = _context(request)
    board = selectors.tracking_board(
        user=request.user,
        team=ctx["team"],
        period=ctx["period"],
        metrics=[Metric.REVENUE, Metric.WON_DEALS, Metric.VISITS, Metric.QUALIFIED_LEADS, Metric.PROPOSALS],
    )
    series = selectors.run_rate_series(
        user=request.user, scope=ctx["team"], period=ctx["period"], metric=Metric.REVENUE
    )
    funnel = [
        (str(Metric(m).label), str(board.total.cells[m].actual))
        for m in (Metric.VISITS, Metric.QUALIFIED_LEADS, Metric.PROPOSALS, Metric.WON_DEALS)
    ]
    gauges = [
        {
            "label": str(Metric(m).label),
            "value": str(board.total.cells[m].actual),
            "target": str(board.total.cells[m].target or 0),
        }
        for m in board.metrics
    ]
    template = "targets/partials/board.html" if request.htmx else "targets/tracking.html"
    return render(
        request,
        template,
        {
            **ctx,
            "board": board,
            "derived": board.derived,
            "series": series,
            "funnel": funnel,
            "gauges": gauges,
        },
    )


@_guard
def today(request: HttpRequest) -> HttpResponse:
    """The morning meeting's board (晨会): yesterday per rep, today's numbers, follow-ups, blockers."""
    ctx = _context(request)
    board = selectors.today_board(user=request.user, team=ctx["team"], day=ctx["date"])
    labels = [Metric(m).label for m in board.metrics]
    return render(request, "targets/today.html", {**ctx, "board": board, "labels": labels})


@_guard
def flags(request: HttpRequest) -> HttpResponse:
    from salesloop.targets.bottlenecks import explain

    ctx = _context(request)
    status = request.GET.get("status", "open")
    qs = access.restrict(Flag.objects.select_related("rule", "rep", "task__assignee"), request.user, "read").filter(
        rep__team__path__startswith=ctx["team"].path
    )
    if status in FlagStatus.values:
        qs = qs.filter(status=status)
    rows = [(f, explain(f)) for f in qs.order_by("-opened_at")[:200]]
    return render(
        request,
        "targets/flags.html",
        {
            **ctx,
            "rows": rows,
            "status": status,
            "rules": BottleneckRule.objects.all(),
            "may_detect": access.scope_for(request.user, Flag, "read") not in (access.Scope.NONE, access.Scope.OWN),
        },
    )


@_guard
@require_POST
def flags_detect(request: HttpRequest) -> HttpResponse:
    from salesloop.targets.bottlenecks import bottlenecks_detect

    if access.scope_for(request.user, Flag, "read") in (access.Scope.NONE, access.Scope.OWN):
        raise Forbidden(_("Leads and managers run the detectors."))
    team = get_object_or_404(Team, pk=request.POST.get("team"))
    selectors.check_scope(request.user, TargetScope(team=team))
    r = bottlenecks_detect(team=team)
    messages.success(
        request,
        _("Detectors ran: %(o)s new, %(r)s still open, %(c)s cleared, %(t)s coaching tasks.")
        % {"o": r.opened, "r": r.refreshed, "c": r.cleared, "t": r.tasks_created},
    )
    return redirect(f"{reverse('targets:flags')}?team={team.pk}")


@_guard
def attribution(request: HttpRequest) -> HttpResponse:
    """Variance attribution: a waterfall from target to actual whose steps add up exactly."""
    from salesloop.targets.attribution import DRIVER_LABELS, DRIVERS, variance_attribution

    ctx = _context(request)
    rep_id = request.GET.get("rep")
    scope = get_object_or_404(User, pk=rep_id) if rep_id and rep_id.isdigit() else ctx["team"]
    result, error = None, ""
    try:
        result = variance_attribution(user=request.user, scope=scope, period=ctx["period"])
    except FieldErrors as exc:
        error = "; ".join(m for msgs in exc.errors.values() for m in msgs)
    waterfall = result.waterfall() if result else []
    rows = []
    if result:
        for tier in Tier.values:
            cells = [result.by_tier_driver.get((tier, d), Decimal(0)) for d in DRIVERS]
            rows.append((Tier(tier).label, cells, sum(cells, Decimal(0))))
    return render(
        request,
        "targets/attribution.html",
        {
            **ctx,
            "result": result,
            "error": error,
            "waterfall": waterfall,
            "rows": rows,
            "driver_labels": [DRIVER_LABELS[d] for d in DRIVERS],
            "scope": scope,
            "reps": User.objects.filter(team__path__startswith=ctx["team"].path, role=Role.REP).order_by("username"),
            "by_driver": [(DRIVER_LABELS[d], a, result.share_pct(a)) for d, a in result.by_driver.items()]
            if result
            else [],
        },
    )


@_guard
def funnel(request: HttpRequest) -> HttpResponse:
    """Reverse funnel calculator: revenue target → activity per day, with the arithmetic shown."""
    from salesloop.targets.funnel import RATE_KEYS, RATE_LABELS, measured_inputs, reverse_funnel

    ctx = _context(request)
    selectors.check_scope(request.user, TargetScope(team=ctx["team"]))
    fields = ["revenue", "avg_deal", *RATE_KEYS, "cycle_days", "reps"]
    values = {k: request.GET.get(k, "") for k in fields}
    plan, errors = None, {}
    measured = measured_inputs(ctx["team"])
    if values["revenue"]:
        given = {}
        for k in fields[1:]:
            v = _decimal(values[k])
            if v is not None and k in RATE_KEYS:
                v = v / 100  # the form takes percentages
            given[k] = v
        try:
            revenue = _decimal(values["revenue"])
            if revenue is None:
                raise FieldErrors({"revenue": [_("Enter a number.")]})
            plan = reverse_funnel(team=ctx["team"], period=ctx["period"], revenue=revenue, given=given)
        except FieldErrors as exc:
            errors = exc.errors
    if request.GET.get("apply") and plan is not None:
        created = services.funnel_targets_create(by=request.user, team=ctx["team"], plan=plan)
        messages.success(
            request, _("%(n)s activity targets set for %(team)s.") % {"n": len(created), "team": ctx["team"]}
        )
        return redirect(f"{reverse('targets:list')}?team={ctx['team'].pk}&date={ctx['period'].start}")
    measured_view = {RATE_LABELS.get(k, k): v for k, v in measured.items() if not k.startswith("_")}
    return render(
        request,
        "targets/funnel.html",
        {
            **ctx,
            "values": values,
            "plan": plan,
            "errors": errors,
            "measured": measured_view,
            "rate_fields": [(k, RATE_LABELS[k]) for k in RATE_KEYS],
            "may_set": services.may_set_targets(request.user),
        },
    )


@_guard
def pack(request: HttpRequest, kind: str) -> HttpResponse:
    """A meeting pack on screen, with links to the same pack as .xlsx and PDF."""
    from salesloop.targets.packs import PACK_KINDS, pack_build

    if kind not in PACK_KINDS:
        raise Http404
    ctx = _context(request)
    as_of = _date(request.GET.get("date"))
    p = pack_build(user=request.user, team=ctx["team"], kind=kind, as_of=as_of)
    api = reverse("api:targets_pack", kwargs={"kind": kind})
    query = f"team_id={ctx['team'].pk}&date={p.as_of.isoformat()}"
    waterfall = p.attribution.waterfall() if p.attribution else []
    return render(
        request,
        "targets/pack.html",
        {
            **ctx,
            "pack": p,
            "kind": kind,
            "xlsx_url": f"{api}?{query}&format=xlsx",
            "pdf_url": f"{api}?{query}&format=pdf",
            "waterfall": waterfall,
        },
    )
