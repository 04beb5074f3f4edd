"""Pages of pipeline intelligence: funnel review, activity heatmap, lead routing (issue #7).

Thin: the request is parsed by ``forms``, numbers come from ``analytics.queries`` over querysets
narrowed by ``org.access.restrict`` (so a page shows exactly the book its viewer may read, as the
API does), writes go through ``intel.services``. A role without access gets 403, a record it
cannot see 404, bad input re-renders the page with the field errors (422).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from salesloop.activities.models import Activity, ActivityKind
from salesloop.analytics.queries.funnel import funnel_review
from salesloop.analytics.queries.heatmap import activity_heatmap
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.customers.models import Lead
from salesloop.intel import services
from salesloop.intel.forms import (
    DIMENSION_LABELS,
    BenchmarkForm,
    FunnelForm,
    HeatmapForm,
    RoutingPreviewForm,
    RoutingRuleForm,
)
from salesloop.intel.models import FunnelBenchmark, LeadAssignment, RoutingRule
from salesloop.org import access
from salesloop.org.models import Seniority, Team, User
from salesloop.pipeline.models import LossReason, Opportunity, Stage

#: Rows of the by-dimension comparison table (largest entry cohorts first).
COMPARE_ROWS = 60


def _put_errors(form, errors: dict[str, list[str]]) -> None:
    for name, msgs in errors.items():
        field = name.removesuffix("_id")
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


@dataclass(frozen=True)
class Named:
    """A stage or loss reason as shown: its code and its name in the viewer's language."""

    code: str
    label: str

    def __str__(self) -> str:
        return self.label


def _local_name(obj) -> str:
    english = (get_language() or "").startswith("en")
    return (obj.name_en if english and getattr(obj, "name_en", "") else obj.name) or obj.code


def _key_labels(dimension: str, keys: list) -> dict[Any, str]:
    """Readable names of a dimension's values (people and teams by name)."""
    if dimension == "rep":
        names = {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in keys if k is not None])}
    elif dimension == "team":
        names = {t.pk: t.name for t in Team.objects.filter(pk__in=[k for k in keys if k is not None])}
    elif dimension == "company":
        names = {k: _("Whole company") for k in keys}
    else:
        names = {k: str(k) for k in keys if k not in (None, "")}
    return {k: names.get(k) or _("Not set") for k in keys}


# Funnel review ----------------------------------------------------------------------------------


def _step_row(step, stages: dict[int, Named], reasons: dict) -> dict[str, Any]:
    return {
        "from": stages[step.from_order],
        "to": stages[step.to_order],
        "cohort": step.cohort,
        "converted": step.converted,
        "rate": step.rate,
        "benchmark": step.benchmark,
        "benchmark_label": step.benchmark_label,
        "is_leak": step.is_leak,
        "avg_days": step.avg_days,
        "lost": step.leaked,
        "reasons": [(reasons.get(r, _("No reason")), n) for r, n in step.loss_reasons],
    }


def _pair_row(pair, adjacent: list, stages: dict[int, Named], reasons: dict) -> dict[str, Any]:
    """A benchmarked pair (maybe several stages apart); its loss reasons are those of the deals
    that dropped out at each stage-to-stage step between the two stages."""
    lost: Counter = Counter()
    for step in adjacent:
        if pair.from_order <= step.from_order < pair.to_order:
            for reason, n in step.loss_reasons:
                lost[reason] += n
    row = _step_row(pair, stages, reasons)
    row["reasons"] = [(reasons.get(r, _("No reason")), n) for r, n in lost.most_common()]
    row["lost"] = sum(lost.values())
    row["gap"] = (pair.benchmark - pair.rate) if pair.is_leak else None
    return row


@login_required
@require_http_methods(["GET", "POST"])
def funnel(request: HttpRequest) -> HttpResponse:
    """Where the funnel leaks: cohort conversion stage to stage, benchmarks, loss reasons."""
    user = request.user
    if not access.can_read_model(user, Opportunity):
        raise PermissionDenied
    may_edit = access.can_write_model(user, FunnelBenchmark)
    bench_form = BenchmarkForm(prefix="bench")
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        bench_form = BenchmarkForm(request.POST, prefix="bench")
        raw_id = request.POST.get("benchmark_id", "")
        if bench_form.is_valid():
            try:
                services.benchmark_save(
                    user=user, data=bench_form.service_data(), benchmark_id=int(raw_id) if raw_id.isdigit() else None
                )
            except FieldErrors as exc:
                _put_errors(bench_form, exc.errors)
            except Forbidden as exc:
                raise PermissionDenied(str(exc)) from exc
            except ObjectDoesNotExist as exc:
                raise Http404 from exc
            else:
                messages.success(request, _("Benchmark saved."))
                return redirect(request.get_full_path())
        status = 422

    form = FunnelForm(request.GET or None)
    period = form.period()
    ctx: dict[str, Any] = {"form": form, "bench_form": bench_form, "may_edit": may_edit}
    ctx["benchmarks"] = list(FunnelBenchmark.objects.select_related("from_stage", "to_stage"))
    if period is None:
        return render(request, "intel/funnel.html", ctx, status=422)
    start, end = period
    dimension = (form.cleaned_data.get("dimension") if form.is_bound else "") or "company"
    result = funnel_review(
        visible_opportunities=access.restrict(Opportunity.objects.all(), user, "read"),
        start=start,
        end=end,
        dimension=dimension,
    )
    stages = {
        s.order: Named(s.code, _local_name(s))
        for s in Stage.objects.filter(is_active=True, is_lost=False).order_by("-id")
    }
    reasons = {r.pk: _local_name(r) for r in LossReason.objects.all()}
    keys = result.keys()
    labels = _key_labels(dimension, keys)
    wanted = request.GET.get("key")
    key = next((k for k in keys if str(k) == wanted), keys[0] if keys else None)

    adjacent = [s for s in result.steps if s.key == key]
    steps = [_step_row(s, stages, reasons) for s in adjacent]
    pairs = [_pair_row(p, adjacent, stages, reasons) for p in result.pairs if p.key == key and p.benchmark is not None]
    leaks = sorted((p for p in pairs if p["is_leak"]), key=lambda p: -p["gap"])
    weakest = min((s for s in steps if s["rate"] is not None), key=lambda s: s["rate"], default=None)
    first = result.levels[0] if result.levels else None
    entry = next((s.cohort for s in adjacent if s.from_order == first), 0)
    reached = {p.to_order: p.converted for p in result.pairs if p.key == key and p.from_order == first}
    funnel_levels = [(stages[lvl], entry if lvl == first else reached.get(lvl, 0)) for lvl in result.levels]
    times = sorted((t for t in result.stage_times if t.key == key), key=lambda t: t.order)
    outcome = next((o for o in result.outcomes if o.key == key), None)

    compare = []
    if dimension != "company":
        entry_of = {s.key: s.cohort for s in result.steps if s.from_order == first}
        outcome_of = {o.key: o for o in result.outcomes}
        by_key: dict[Any, list] = defaultdict(list)
        for s in result.steps:
            by_key[s.key].append(s)
        leaking = Counter(p.key for p in result.pairs if p.is_leak)
        for k in sorted(keys, key=lambda k: -entry_of.get(k, 0))[:COMPARE_ROWS]:
            compare.append(
                {
                    "key": k,
                    "label": labels[k],
                    "entry": entry_of.get(k, 0),
                    "steps": by_key.get(k, []),
                    "outcome": outcome_of.get(k),
                    "leaks": leaking.get(k, 0),
                }
            )
    chart = {
        "funnel": {"labels": [str(s) for s, _n in funnel_levels], "values": [n for _s, n in funnel_levels]},
        "leaks": [
            {
                "target": f"leak-chart-{i}",
                "labels": [r for r, _n in p["reasons"]],
                "values": [n for _r, n in p["reasons"]],
            }
            for i, p in enumerate(pairs)
            if p["is_leak"] and p["reasons"]
        ],
        "times": {
            "labels": [str(stages[t.order]) for t in times if t.order in stages],
            "values": [t.avg_days for t in times if t.order in stages],
        },
        "titles": {
            "funnel": _("Deals that entered the funnel in the period and the stages they reached"),
            "times": _("Average days in stage"),
            "leak": _("Loss reasons"),
        },
    }
    for i, p in enumerate(pairs):
        p["chart_id"] = f"leak-chart-{i}"
    ctx.update(
        {
            "start": start,
            "end": end,
            "dimension": dimension,
            "dimension_label": DIMENSION_LABELS.get(dimension, dimension),
            "keys": [(str(k), labels[k]) for k in keys],
            "key": str(key) if key is not None else "",
            "key_label": labels.get(key, "") if key is not None else "",
            "steps": steps,
            "pairs": pairs,
            "leaks": leaks,
            "weakest": weakest,
            "funnel_levels": funnel_levels,
            "times": [(stages.get(t.order), t) for t in times],
            "outcome": outcome,
            "compare": compare,
            "compare_stages": [(stages[s.from_order], stages[s.to_order]) for s in adjacent]
            if adjacent
            else [(stages[a], stages[b]) for a, b in zip(result.levels, result.levels[1:], strict=False)],
            "chart": chart,
            "as_of": result.as_of,
        }
    )
    return render(request, "intel/funnel.html", ctx, status=status)


# Activity heatmap -------------------------------------------------------------------------------


def _weekday_names() -> list[str]:
    return [str(WEEKDAYS[i]) for i in range(7)]  # ISO weekday w is WEEKDAYS[w - 1]


def _rate(positive: int, recorded: int) -> float | None:
    return round(100.0 * positive / recorded, 1) if recorded else None


@login_required
@require_http_methods(["GET"])
def heatmap(request: HttpRequest) -> HttpResponse:
    """When activities work: weekday × hour and weekday × rep, count and positive-outcome rate."""
    user = request.user
    if not access.can_read_model(user, Activity):
        raise PermissionDenied
    form = HeatmapForm(request.GET or None, kinds=list(ActivityKind.choices))
    period = form.period()
    ctx: dict[str, Any] = {"form": form}
    if period is None:
        return render(request, "intel/heatmap.html", ctx, status=422)
    start, end = period
    kind = (form.cleaned_data.get("kind") if form.is_bound else "") or None
    visible = access.restrict(Activity.objects.all(), user, "read")
    by_hour = activity_heatmap(visible_activities=visible, start=start, end=end, by="hour", kind=kind)
    by_rep = activity_heatmap(visible_activities=visible, start=start, end=end, by="rep", kind=kind)
    days = _weekday_names()

    hours = sorted({int(c.column) for c in by_hour if c.column is not None})
    grid = {(c.weekday, int(c.column)): c for c in by_hour if c.column is not None}
    reps = {u.pk: str(u) for u in User.objects.filter(pk__in={c.column for c in by_rep if c.column is not None})}
    rep_ids = sorted(reps, key=lambda pk: reps[pk])
    rep_grid = {(c.weekday, c.column): c for c in by_rep}

    totals: dict[int, list[int]] = {wd: [0, 0, 0] for wd in range(1, 8)}
    for c in by_hour:
        t = totals[c.weekday]
        t[0], t[1], t[2] = t[0] + c.activities, t[1] + c.recorded, t[2] + c.positive
    weekdays = [
        {"weekday": wd, "name": days[wd - 1], "activities": a, "recorded": r, "positive": p, "rate": _rate(p, r)}
        for wd, (a, r, p) in totals.items()
    ]
    ranked = sorted((w for w in weekdays if w["rate"] is not None), key=lambda w: -w["rate"])
    best = ranked[:2]
    for w in weekdays:
        w["best"] = w in best

    def matrix(cells: dict, columns: list, value) -> list[list]:
        return [[value(cells.get((wd, col))) for col in columns] for wd in range(1, 8)]

    chart = {
        "days": days,
        "hours": [f"{h:02d}:00" for h in hours],
        "reps": [reps[pk] for pk in rep_ids],
        "hour_count": matrix(grid, hours, lambda c: c.activities if c else 0),
        "hour_rate": matrix(grid, hours, lambda c: _rate(c.positive, c.recorded) if c else None),
        "rep_count": matrix(rep_grid, rep_ids, lambda c: c.activities if c else 0),
        "rep_rate": matrix(rep_grid, rep_ids, lambda c: _rate(c.positive, c.recorded) if c else None),
        "titles": {
            "hour_count": _("Activities by weekday and hour"),
            "hour_rate": _("Positive outcomes (%) by weekday and hour"),
            "rep_count": _("Activities by weekday and rep"),
            "rep_rate": _("Positive outcomes (%) by weekday and rep"),
        },
    }
    ctx.update(
        {
            "start": start,
            "end": end,
            "kind": kind or "",
            "kind_label": dict(ActivityKind.choices).get(kind, _("All kinds")) if kind else _("All kinds"),
            "weekdays": weekdays,
            "best": best,
            "total": sum(c.activities for c in by_hour),
            "chart": chart,
        }
    )
    return render(request, "intel/heatmap.html", ctx)


# Lead routing -----------------------------------------------------------------------------------


def _unassigned(user: User) -> list[Lead]:
    """Leads without an owner that ``user`` may see, with the routing log's last word on why."""
    leads = list(
        access.restrict(Lead.objects.filter(owner__isnull=True), user, "read").order_by("-created_at", "-id")[:100]
    )
    why: dict[int, str] = {}
    for lead_id, reason in (
        LeadAssignment.objects.filter(lead__in=leads, assignee__isnull=True)
        .order_by("assigned_at", "id")
        .values_list("lead_id", "reason")
    ):
        why[lead_id] = reason
    for lead in leads:
        lead.routing_reason = why.get(lead.pk, "")
    return leads


@login_required
@require_http_methods(["GET", "POST"])
def routing_page(request: HttpRequest) -> HttpResponse:
    """The rules in order (kept by admin), the routing log, unassigned leads, and a dry run."""
    user = request.user
    if not access.can_read_model(user, Lead):
        raise PermissionDenied
    may_edit = access.can_write_model(user, RoutingRule)
    may_route = services.may_route(user)
    rule_form = RoutingRuleForm(prefix="rule")
    editing: RoutingRule | None = None
    preview_form = RoutingPreviewForm(prefix="try")
    preview = None
    status = 200
    here = reverse("intel:routing")

    if request.method == "POST":
        action = request.POST.get("action")
        raw_id = request.POST.get("rule_id", "")
        rule_id = int(raw_id) if raw_id.isdigit() else None
        try:
            if action == "save_rule":
                if not may_edit:
                    raise PermissionDenied
                editing = RoutingRule.objects.get(pk=rule_id) if rule_id else None
                rule_form = RoutingRuleForm(request.POST, prefix="rule")
                if rule_form.is_valid():
                    try:
                        services.routing_rule_save(user=user, data=rule_form.service_data(), rule_id=rule_id)
                    except FieldErrors as exc:
                        _put_errors(rule_form, exc.errors)
                    else:
                        messages.success(request, _("Routing rule saved."))
                        return redirect(here)
                status = 422
            elif action in ("up", "down"):
                if rule_id is None:
                    return HttpResponseBadRequest(_("Which rule?"))
                services.routing_rule_move(user=user, rule_id=rule_id, offset=-1 if action == "up" else 1)
                return redirect(here)
            elif action == "route":
                raw_lead = request.POST.get("lead_id", "")
                if not raw_lead.isdigit():
                    return HttpResponseBadRequest(_("Which lead?"))
                try:
                    assignment = services.lead_route_now(user=user, lead_id=int(raw_lead))
                except FieldErrors as exc:
                    messages.error(request, " ".join(m for msgs in exc.errors.values() for m in msgs))
                else:
                    if assignment.assignee_id:
                        messages.success(
                            request,
                            _("%(lead)s went to %(rep)s: %(why)s")
                            % {"lead": assignment.lead, "rep": assignment.assignee, "why": assignment.reason},
                        )
                    else:
                        messages.warning(request, _("Still unassigned: %(why)s") % {"why": assignment.reason})
                return redirect(here)
            elif action == "preview":
                if not may_route:
                    raise PermissionDenied
                preview_form = RoutingPreviewForm(request.POST, prefix="try")
                if preview_form.is_valid():
                    preview = services.lead_route_preview(user=user, data=preview_form.preview_data())
                else:
                    status = 422
            else:
                return HttpResponseBadRequest(_("Unknown action."))
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ObjectDoesNotExist as exc:
            raise Http404 from exc
    elif request.GET.get("edit", "").isdigit() and may_edit:
        editing = RoutingRule.objects.filter(pk=int(request.GET["edit"])).first()
        if editing is None:
            raise Http404
        rule_form = RoutingRuleForm.for_rule(editing)
        rule_form.prefix = "rule"

    rules = list(access.restrict(RoutingRule.objects.select_related("team", "user"), user, "read"))
    seniorities = dict(Seniority.choices)
    for rule in rules:
        rule.seniority_label = seniorities.get(rule.seniority, rule.seniority)
    log = list(
        access.restrict(LeadAssignment.objects.select_related("lead", "assignee", "rule"), user, "read").order_by(
            "-assigned_at", "-id"
        )[:50]
    )
    return render(
        request,
        "intel/routing.html",
        {
            "rules": rules,
            "log": log,
            "unassigned": _unassigned(user),
            "may_edit": may_edit,
            "may_route": may_route,
            "rule_form": rule_form,
            "editing": editing,
            "preview_form": preview_form,
            "preview": preview,
        },
        status=status,
    )
