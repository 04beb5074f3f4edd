"""Customer-operations pages: segments, call list, at-risk, coverage, SLA, key accounts, needs.

Thin: query parameters in, selectors out; visibility is decided by the selectors (``org.access``),
so every page shows exactly the book the viewer may read. Writes (accepting a tier, capturing a
need) go through ``services``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.customers.models import Account, KeyAccountTier
from salesloop.custops import needs_report, selectors, services, tiers
from salesloop.custops.models import (
    AccountPlan,
    CustomerNeed,
    CustomerOpsPolicy,
    NeedKind,
    SegmentScheme,
)
from salesloop.org import access
from salesloop.org.models import LEADING_ROLES, OrgSettings, Role, User


def _is_leader(user: User) -> bool:
    return user.is_superuser or user.role in LEADING_ROLES or user.role == Role.ADMIN


def _team_people(user: User) -> list[User]:
    """People whose book the viewer may open (themselves first)."""
    scope = access.scope_for(user, Account, "read")
    if scope == access.Scope.ALL:
        people = User.objects.filter(is_active=True, role__in=[Role.REP, *LEADING_ROLES])
    elif scope == access.Scope.SUBTREE:
        people = User.objects.filter(pk__in=access.subtree_user_ids(user), is_active=True)
    else:
        people = User.objects.filter(pk=user.pk)
    return sorted(people, key=lambda p: (p.pk != user.pk, str(p)))


@require_GET
@login_required
def segments(request: HttpRequest) -> HttpResponse:
    """Segment distribution (both schemes) and this month's movements, for the viewer's book."""
    try:
        start, end = selectors.month_bounds(request.GET.get("month"))
    except ValueError:
        return HttpResponseBadRequest(_("A month as YYYY-MM."))
    scheme = request.GET.get("scheme", SegmentScheme.RULE)
    if scheme not in SegmentScheme.values:
        return HttpResponseBadRequest(_("Unknown scheme."))
    rule_rows = selectors.segment_distribution(user=request.user, scheme=SegmentScheme.RULE)
    grid_rows = selectors.segment_distribution(user=request.user, scheme=SegmentScheme.GRID)
    moves = selectors.segment_movements(user=request.user, scheme=scheme, start=start, end=end)
    changes = (
        selectors.segment_changes(user=request.user, scheme=scheme, start=start, end=end)
        .select_related("account__owner")
        .order_by("direction", "-changed_on", "-id")
    )
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    chart = {
        "rule": [
            {"label": r.label, "accounts": r.accounts, "monetary": float(r.monetary)}
            for r in rule_rows
        ],
        "grid": [
            {"label": r.label, "accounts": r.accounts}
            for r in grid_rows
            if r.accounts or r.value_rank >= 0
        ],
        "flows": [
            {"from": moves.labels.get(f, f), "to": moves.labels.get(t, t), "accounts": n}
            for (f, t), n in sorted(moves.flows.items(), key=lambda kv: -kv[1])
        ],
        "titles": {
            "rule": _("Accounts per rule segment"),
            "grid": _("Accounts per R×F segment"),
            "flows": _("Moves this month (from → to)"),
        },
    }
    previous = (start - dt.timedelta(days=1)).replace(day=1)
    return render(
        request,
        "custops/segments.html",
        {
            "rule_rows": rule_rows,
            "grid_rows": grid_rows,
            "moves": moves,
            "page": page,
            "labels": moves.labels,
            "scheme": scheme,
            "month": start,
            "previous_month": previous.strftime("%Y-%m"),
            "next_month": end.strftime("%Y-%m"),
            "chart": chart,
            "run": selectors.latest_run(),
            "currency": OrgSettings.current().currency,
        },
    )


@require_GET
@login_required
def call_list(request: HttpRequest) -> HttpResponse:
    owner = request.user
    people = _team_people(request.user)
    if request.GET.get("owner"):
        try:
            wanted = int(request.GET["owner"])
        except ValueError:
            return HttpResponseBadRequest(_("Unknown person."))
        match = [p for p in people if p.pk == wanted]
        if not match:
            return HttpResponseBadRequest(_("Unknown person."))
        owner = match[0]
    today = timezone.localdate()
    items = selectors.call_list(user=request.user, owner=owner, today=today)
    days = CustomerOpsPolicy.current().call_list_days
    return render(
        request,
        "custops/call_list.html",
        {
            "items": items,
            "owner": owner,
            "people": people,
            "start": today,
            "end": today + dt.timedelta(days=days - 1),
            "currency": OrgSettings.current().currency,
        },
    )


@require_GET
@login_required
def at_risk(request: HttpRequest) -> HttpResponse:
    qs = selectors.at_risk_list(user=request.user)
    totals = selectors.at_risk_totals(qs)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "custops/at_risk.html",
        {
            "page": page,
            "totals": totals,
            "policy": CustomerOpsPolicy.current(),
            "run": selectors.latest_run(),
            "currency": OrgSettings.current().currency,
        },
    )


@require_GET
@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    reps = selectors.coverage_report(user=request.user, today=today)
    overdue = []
    for account in selectors.overdue_accounts(user=request.user, today=today)[:200]:
        due = selectors.next_contact_date(account)
        overdue.append({"account": account, "due": due, "days": (today - due).days})
    return render(
        request, "custops/coverage.html", {"reps": reps, "overdue": overdue, "today": today}
    )


@require_GET
@login_required
def sla(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        end = (
            dt.date.fromisoformat(request.GET["end"])
            if request.GET.get("end")
            else today + dt.timedelta(days=1)
        )
        start = (
            dt.date.fromisoformat(request.GET["start"])
            if request.GET.get("start")
            else end - dt.timedelta(days=30)
        )
    except ValueError:
        return HttpResponseBadRequest(_("Dates as YYYY-MM-DD."))
    if start >= end:
        return HttpResponseBadRequest(_("The end must be after the start."))
    report = selectors.sla_compliance(user=request.user, start=start, end=end)
    return render(
        request,
        "custops/sla.html",
        {"report": report, "breaches": report.breaches[:100], "start": start, "end": end},
    )


@require_http_methods(["GET", "POST"])
@login_required
def key_accounts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            account_id = int(request.POST["account_id"])
            version = int(request.POST["version"])
            tier = request.POST["tier"]
            account = services.account_tier_set(
                account_id=account_id, tier=tier, version=version, user=request.user
            )
            messages.success(
                request,
                _("%(account)s is now %(tier)s.")
                % {
                    "account": account,
                    "tier": account.get_key_account_tier_display() or _("no tier"),
                },
            )
        except (KeyError, ValueError):
            messages.error(request, _("The form was incomplete."))
        except FieldErrors as exc:
            messages.error(request, "; ".join(m for ms in exc.errors.values() for m in ms))
        except Conflict:
            messages.error(
                request,
                _("This record was changed by someone else; reload and apply your change again."),
            )
        except (Forbidden, Account.DoesNotExist):
            messages.error(request, _("You may not change this account."))
        return redirect("custops_key_accounts")
    proposals = tiers.tier_proposals(user=request.user)
    if request.GET.get("changes") == "1":
        proposals = [p for p in proposals if p.differs]
    page = Paginator(proposals, 50).get_page(request.GET.get("page"))
    plans = access.restrict(
        AccountPlan.objects.select_related("account"), request.user, "read"
    ).order_by("-period_start", "account__name")[:100]
    return render(
        request,
        "custops/key_accounts.html",
        {
            "page": page,
            "plans": plans,
            "tiers": KeyAccountTier.choices,
            "only_changes": request.GET.get("changes") == "1",
        },
    )


@require_GET
@login_required
def needs(request: HttpRequest) -> HttpResponse:
    week = request.GET.get("week") or None
    try:
        report = needs_report.needs_report(user=request.user, week=week)
    except ValueError:
        return HttpResponseBadRequest(_("A week as YYYY-Www or a date."))
    fmt = request.GET.get("format")
    if fmt == "xlsx":
        response = HttpResponse(
            needs_report.to_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="customer-needs-{report.week}.xlsx"'
        )
        return response
    if fmt == "pdf":
        response = HttpResponse(needs_report.to_pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="customer-needs-{report.week}.pdf"'
        return response
    monday = report.start
    writable = access.restrict(Account.objects.all(), request.user, "write").order_by("name")[:500]
    chart = {
        "count": [{"tag": r.tag, "needs": r.needs} for r in report.top_by_count],
        "title": _("Top needs this week"),
    }
    return render(
        request,
        "custops/needs.html",
        {
            "report": report,
            "title": needs_report.report_title(report),
            "previous_week": (monday - dt.timedelta(days=7)).isoformat(),
            "next_week": (monday + dt.timedelta(days=7)).isoformat(),
            "accounts": writable,
            "kinds": NeedKind.choices,
            "chart": chart,
            "can_capture": access.can_write_model(request.user, CustomerNeed),
        },
    )


@require_POST
@login_required
def need_capture(request: HttpRequest) -> HttpResponse:
    data = {
        "account_id": request.POST.get("account_id") or None,
        "kind": request.POST.get("kind", ""),
        "summary": request.POST.get("summary", "").strip(),
        "quote": request.POST.get("quote", "").strip(),
        "competitor": request.POST.get("competitor", "").strip(),
        "tags": request.POST.get("tags", ""),
    }
    try:
        data["account_id"] = int(data["account_id"]) if data["account_id"] else None
        services.need_create(user=request.user, data=data, source="web")
        messages.success(request, _("Need recorded."))
    except ValueError:
        messages.error(request, _("Choose an account."))
    except FieldErrors as exc:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))
    except Forbidden:
        messages.error(request, _("You may not record needs on this account."))
    return redirect("custops_needs")
