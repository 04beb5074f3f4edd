"""Automation pages: the morning brief, the evening report, rules, holidays and the jobs page.

Thin: forms in, services and selectors, templates out. Field errors from services are shown on
the form (422), a stale rule edit answers 409 with the current values, and a page someone may
not use answers 403.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salesloop.automation import briefs, queue, scheduler, selectors, services
from salesloop.automation.forms import EveningReportForm, HolidayForm, RuleForm
from salesloop.automation.models import EveningReport, Holiday, JobRun, Rule, ScheduledJob
from salesloop.automation.workcalendar import WorkCalendar
from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.org import access
from salesloop.org.models import OrgSettings

UNPROCESSABLE = 422


def _is_admin(user) -> bool:
    return user.is_superuser or user.is_admin_role


def _require_admin(user) -> None:
    if not _is_admin(user):
        raise PermissionDenied


def _parse_day(value: str | None, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Http404 from None


def _apply_errors(form, errors: dict[str, list[str]]) -> None:
    for key, messages_ in errors.items():
        name = key.removeprefix("numbers.").split(".")[0]
        field = key if key in form.fields else (f"n_{name}" if f"n_{name}" in form.fields else None)
        if key.startswith("params."):
            field = (
                f"param_{key.split('.', 1)[1]}"
                if f"param_{key.split('.', 1)[1]}" in form.fields
                else None
            )
        for message in messages_:
            form.add_error(field, message)


# Morning brief ------------------------------------------------------------------------------------


@require_GET
@login_required
def brief(request: HttpRequest) -> HttpResponse:
    today = WorkCalendar.load().today()
    return brief_day(request, today.isoformat())


@require_GET
@login_required
def brief_day(request: HttpRequest, day: str) -> HttpResponse:
    date = _parse_day(day, WorkCalendar.load().today())
    row = selectors.brief_for(user=request.user, day=date)
    return render(
        request,
        "automation/brief.html",
        {
            "day": date,
            "brief": row,
            "content": row.content if row else None,
            "previous": date - dt.timedelta(days=1),
            "next": date + dt.timedelta(days=1),
        },
    )


# Evening report -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def evening(request: HttpRequest) -> HttpResponse:
    cal = WorkCalendar.load()
    day = _parse_day(request.GET.get("date") or request.POST.get("date"), cal.today())
    currency = OrgSettings.current().currency
    status = 200
    if request.method == "POST":
        form = EveningReportForm(request.POST, currency=currency)
        if form.is_valid():
            try:
                briefs.evening_report_submit(
                    user=request.user,
                    day=day,
                    data=form.payload(),
                    version=form.cleaned_data.get("version"),
                )
            except FieldErrors as exc:
                _apply_errors(form, exc.errors)
                status = UNPROCESSABLE
            except Conflict:
                messages.error(
                    request,
                    _("You changed this report in another window; here is the saved version."),
                )
                return redirect(f"{request.path}?date={day.isoformat()}")
            else:
                messages.success(request, _("Evening report saved."))
                return redirect(f"{request.path}?date={day.isoformat()}")
        else:
            status = UNPROCESSABLE
        draft = briefs.evening_report_draft(user=request.user, day=day)
    else:
        draft = briefs.evening_report_draft(user=request.user, day=day)
        form = EveningReportForm(
            initial=EveningReportForm.initial_from(draft, currency), currency=currency
        )
    return render(
        request,
        "automation/evening.html",
        {
            "form": form,
            "draft": draft,
            "day": day,
            "currency": currency,
            "sees_team": access.scope_for(request.user, EveningReport)
            in (access.Scope.SUBTREE, access.Scope.ALL),
        },
        status=status,
    )


@require_GET
@login_required
def evening_team(request: HttpRequest) -> HttpResponse:
    day = _parse_day(request.GET.get("date"), WorkCalendar.load().today())
    rows = briefs.evening_status(viewer=request.user, day=day)
    submitted = sum(1 for r in rows if r["submitted"])
    return render(
        request,
        "automation/evening_team.html",
        {
            "rows": rows,
            "day": day,
            "submitted": submitted,
            "missing": len(rows) - submitted,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
        },
    )


# Rules ------------------------------------------------------------------------------------------


@require_GET
@login_required
def rules(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "automation/rules.html",
        {
            "rules": selectors.rule_list(user=request.user),
            "can_edit": access.can_write_model(request.user, Rule),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if not access.can_write_model(request.user, Rule):
        raise PermissionDenied
    rule = get_object_or_404(selectors.rule_list(user=request.user), pk=pk)
    status = 200
    if request.method == "POST":
        form = RuleForm(request.POST, instance=Rule.objects.get(pk=rule.pk))
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.Meta.fields}
            data["params"] = form.params()
            try:
                version = int(request.POST.get("version", ""))
            except ValueError:
                version = None
            try:
                services.rule_update(rule_id=rule.pk, user=request.user, data=data, version=version)
            except FieldErrors as exc:
                _apply_errors(form, exc.errors)
                status = UNPROCESSABLE
            except Conflict:
                messages.error(
                    request,
                    _("Someone else changed this rule; review the current values and save again."),
                )
                return redirect("automation:rule_edit", pk=rule.pk)
            else:
                messages.success(request, _("Rule saved."))
                return redirect("automation:rules")
        else:
            status = UNPROCESSABLE
    else:
        form = RuleForm(instance=rule)
    return render(request, "automation/rule_edit.html", {"form": form, "rule": rule}, status=status)


# Holidays ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def holidays(request: HttpRequest) -> HttpResponse:
    can_edit = access.can_write_model(request.user, Holiday)
    status = 200
    form = HolidayForm()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = HolidayForm(request.POST)
        if form.is_valid():
            try:
                services.holiday_create(user=request.user, data=form.cleaned_data)
            except FieldErrors as exc:
                _apply_errors(form, exc.errors)
                status = UNPROCESSABLE
            else:
                messages.success(request, _("Day added to the calendar."))
                return redirect("automation:holidays")
        else:
            status = UNPROCESSABLE
    cal = WorkCalendar.load()
    return render(
        request,
        "automation/holidays.html",
        {
            "holidays": selectors.holiday_list(user=request.user),
            "form": form,
            "can_edit": can_edit,
            "working_days": sorted(cal.working_weekdays),
            "calendar": cal,
        },
        status=status,
    )


@require_POST
@login_required
def holiday_delete(request: HttpRequest, pk: int) -> HttpResponse:
    holiday = get_object_or_404(Holiday, pk=pk)
    try:
        services.holiday_delete(user=request.user, holiday=holiday)
    except Forbidden as exc:
        raise PermissionDenied from exc
    messages.success(request, _("Day removed from the calendar."))
    return redirect("automation:holidays")


# Jobs (operability) ---------------------------------------------------------------------


@require_GET
@login_required
def jobs(request: HttpRequest) -> HttpResponse:
    _require_admin(request.user)
    return render(
        request,
        "automation/jobs.html",
        {
            "jobs": selectors.jobs_overview(user=request.user),
            "failed": selectors.failed_runs(user=request.user, limit=30),
            "broker": queue.broker_configured(),
        },
    )


@require_POST
@login_required
def job_run_now(request: HttpRequest, name: str) -> HttpResponse:
    _require_admin(request.user)
    job = get_object_or_404(ScheduledJob, name=name)
    run = scheduler.run_now(job=job)
    messages.success(
        request,
        _("Run of %(job)s queued; the scheduler picks it up within seconds.") % {"job": job.name},
    )
    return redirect("automation:run", pk=run.pk)


@require_GET
@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request.user)
    try:
        run = selectors.run_detail(user=request.user, run_id=pk)
    except Exception as exc:  # DoesNotExist
        raise Http404 from exc
    return render(
        request, "automation/run.html", {"run": run, "failures": list(run.failures.all())}
    )


@require_POST
@login_required
def run_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request.user)
    run = get_object_or_404(JobRun, pk=pk)
    if scheduler.retry_run(run=run):
        messages.success(request, _("Run queued again."))
    else:
        messages.warning(request, _("Only failed runs can be retried."))
    return redirect("automation:run", pk=run.pk)
