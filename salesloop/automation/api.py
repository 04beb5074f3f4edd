"""REST API for automation: rules, the holiday calendar, jobs, briefs and evening reports.

Thin handlers: visibility comes from ``selectors`` (through ``org.access``), writes from
``services``/``briefs``; domain errors become 403/409/422 in ``salesloop.api``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from salesloop.activities.models import TaskKind
from salesloop.automation import briefs, scheduler, selectors, services
from salesloop.automation.models import AssignTo, DayKind, DueUnit, JobRun, Rule, ScheduledJob
from salesloop.automation.triggers import TRIGGERS
from salesloop.automation.workcalendar import WorkCalendar
from salesloop.core.errors import Forbidden
from salesloop.core.schemas import ConflictOut, ErrorOut, JsonValue, Text
from salesloop.org import access
from salesloop.org.models import Role

router = Router(tags=["automation"])


def _admin(request: HttpRequest) -> None:
    if not (request.auth.is_superuser or request.auth.is_admin_role):
        raise Forbidden()


# Rules -----------------------------------------------------------------------------------------


class RuleOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    description: str
    is_active: bool
    trigger: str
    trigger_kind: str = ""
    params: dict[str, Any]
    active_since: dt.datetime
    create_task: bool
    task_kind: str
    task_title: str
    task_title_en: str
    assign_to: str
    due_amount: int
    due_unit: str
    notify_assignee: bool
    notify_lead: bool
    notify_role: str
    escalate_after_hours: int | None
    version: int

    @staticmethod
    def resolve_trigger_kind(obj: Rule) -> str:
        return TRIGGERS[obj.trigger].kind


class RulePatch(Schema):
    version: int = Field(..., ge=1, le=2**31, description="The version you read (stale: 409).")
    name: Text | None = Field(None, min_length=1, max_length=120)
    name_en: Text | None = Field(None, max_length=120)
    description: Text | None = Field(None, max_length=4000)
    is_active: bool | None = None
    params: dict[Text, JsonValue] | None = None
    create_task: bool | None = None
    task_kind: TaskKind | None = None
    task_title: Text | None = Field(None, min_length=1, max_length=200)
    task_title_en: Text | None = Field(None, max_length=200)
    assign_to: AssignTo | None = None
    due_amount: int | None = Field(None, ge=0, le=1000)
    due_unit: DueUnit | None = None
    notify_assignee: bool | None = None
    notify_lead: bool | None = None
    notify_role: Literal["", *Role.values] | None = None  # type: ignore[valid-type]
    escalate_after_hours: int | None = Field(None, ge=0, le=10000)


@router.get("/rules", response=list[RuleOut], operation_id="automation_rules_list")
def rules_list(request: HttpRequest):
    """The reminder and SLA rules (everyone may read what drives their tasks)."""
    return list(selectors.rule_list(user=request.auth))


@router.get("/rules/{int:rule_id}", response=RuleOut, operation_id="automation_rules_get")
def rules_get(request: HttpRequest, rule_id: int):
    return get_object_or_404(selectors.rule_list(user=request.auth), pk=rule_id)


@router.patch(
    "/rules/{int:rule_id}",
    response={200: RuleOut, 403: ErrorOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="automation_rules_update",
)
def rules_update(request: HttpRequest, rule_id: int, payload: RulePatch):
    """Change a rule (admin). Send the version you read; conditions are checked per trigger."""
    get_object_or_404(selectors.rule_list(user=request.auth), pk=rule_id)
    if not access.can_write_model(request.auth, Rule):
        raise Forbidden()
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    if "escalate_after_hours" in payload.model_fields_set:
        data["escalate_after_hours"] = payload.escalate_after_hours
    return services.rule_update(rule_id=rule_id, user=request.auth, data=data, version=version)


# Holidays ----------------------------------------------------------------------------------------


class HolidayOut(Schema):
    id: int
    date: dt.date
    name: str
    kind: str


class HolidayIn(Schema):
    date: dt.date
    name: Text = Field(..., min_length=1, max_length=80)
    kind: DayKind = DayKind.HOLIDAY


@router.get("/holidays", response=list[HolidayOut], operation_id="automation_holidays_list")
def holidays_list(request: HttpRequest, year: int | None = Query(None, ge=1, le=9999)):
    return list(selectors.holiday_list(user=request.auth, year=year))


@router.post(
    "/holidays",
    response={201: HolidayOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="automation_holidays_create",
)
def holidays_create(request: HttpRequest, payload: HolidayIn):
    """Add a day off or a make-up working day (admin); SLA clocks follow at the next sweep."""
    return Status(201, services.holiday_create(user=request.auth, data=payload.model_dump()))


@router.delete(
    "/holidays/{int:holiday_id}",
    response={204: None, 403: ErrorOut},
    operation_id="automation_holidays_delete",
)
def holidays_delete(request: HttpRequest, holiday_id: int):
    holiday = get_object_or_404(selectors.holiday_list(user=request.auth), pk=holiday_id)
    services.holiday_delete(user=request.auth, holiday=holiday)
    return Status(204, None)


# Jobs --------------------------------------------------------------------------------------------


class FailureOut(Schema):
    attempt: int
    at: dt.datetime
    error: str
    traceback: str


class RunOut(Schema):
    id: int
    job: str = Field(..., alias="job.name")
    slot: dt.datetime
    status: str
    attempts: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    next_retry_at: dt.datetime | None
    worker: str
    result: dict[str, Any]
    error: str


class RunDetailOut(RunOut):
    failures: list[FailureOut]

    @staticmethod
    def resolve_failures(obj: JobRun) -> list:
        return list(obj.failures.all())


class JobOut(Schema):
    name: str
    kind: str
    every_seconds: int | None
    at_time: dt.time | None
    working_days_only: bool
    is_active: bool
    next_run_at: dt.datetime | None
    last_run: RunOut | None
    failures_24h: int
    queued_or_running: int


@router.get(
    "/jobs", response={200: list[JobOut], 403: ErrorOut}, operation_id="automation_jobs_list"
)
def jobs_list(request: HttpRequest):
    """Scheduled jobs with their last and next run and failures of the last 24 h (admin)."""
    _admin(request)
    return [
        {
            "name": row.job.name,
            "kind": row.job.kind,
            "every_seconds": row.job.every_seconds,
            "at_time": row.job.at_time,
            "working_days_only": row.job.working_days_only,
            "is_active": row.job.is_active,
            "next_run_at": row.job.next_run_at,
            "last_run": row.last_run,
            "failures_24h": row.failures_24h,
            "queued_or_running": row.running,
        }
        for row in selectors.jobs_overview(user=request.auth)
    ]


@router.post(
    "/jobs/{name}/run", response={202: RunOut, 403: ErrorOut}, operation_id="automation_jobs_run"
)
def jobs_run(request: HttpRequest, name: str):
    """Queue a run now; the scheduler (or a worker) picks it up within seconds (admin)."""
    _admin(request)
    job = get_object_or_404(ScheduledJob, name=name)
    run = scheduler.run_now(job=job)
    return Status(202, JobRun.objects.select_related("job").get(pk=run.pk))


@router.get(
    "/runs/{int:run_id}",
    response={200: RunDetailOut, 403: ErrorOut},
    operation_id="automation_runs_get",
)
def runs_get(request: HttpRequest, run_id: int):
    _admin(request)
    return selectors.run_detail(user=request.auth, run_id=run_id)


@router.post(
    "/runs/{int:run_id}/retry",
    response={200: RunOut, 403: ErrorOut, 409: ErrorOut},
    operation_id="automation_runs_retry",
)
def runs_retry(request: HttpRequest, run_id: int):
    _admin(request)
    run = selectors.run_detail(user=request.auth, run_id=run_id)
    if not scheduler.retry_run(run=run):
        return Status(409, {"message": _("Only failed runs can be retried."), "errors": {}})
    return JobRun.objects.select_related("job").get(pk=run.pk)


# Briefs and evening reports ---------------------------------------------------------------


class BriefOut(Schema):
    date: dt.date
    created_at: dt.datetime
    content: dict[str, Any]


def _day(value: str | None) -> dt.date:
    from salesloop.core.errors import FieldErrors

    if value in (None, "", "today"):
        return WorkCalendar.load().today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldErrors({"date": [_("Give a date as YYYY-MM-DD.")]}) from None


@router.get(
    "/briefs/{day}",
    response={200: BriefOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="automation_briefs_get",
)
def briefs_get(request: HttpRequest, day: str):
    """One's own morning brief for ``day`` (``today`` or YYYY-MM-DD); 404 before it is prepared."""
    brief = selectors.brief_for(user=request.auth, day=_day(day))
    if brief is None:
        return Status(404, {"message": _("No brief for this day yet."), "errors": {}})
    return brief


class NumbersDraft(Schema):
    date: dt.date
    submitted: bool
    version: int | None
    numbers: dict[str, Any]
    logged: dict[str, Any]
    results_note: str
    tomorrow_plan: str
    blockers: str
    submitted_at: dt.datetime | None


class EveningIn(Schema):
    numbers: dict[Text, JsonValue] = Field(default_factory=dict)
    results_note: Text = Field("", max_length=4000)
    tomorrow_plan: Text = Field(..., max_length=4000)
    blockers: Text = Field("", max_length=4000)
    version: int | None = Field(None, ge=1, le=2**31)


class EveningOut(Schema):
    id: int
    user_id: int
    username: str = Field(..., alias="user.username")
    date: dt.date
    numbers: dict[str, Any]
    logged: dict[str, Any]
    results_note: str
    tomorrow_plan: str
    blockers: str
    submitted_at: dt.datetime
    version: int


class EveningStatusOut(Schema):
    user_id: int
    username: str
    team: str
    submitted: bool
    submitted_at: dt.datetime | None


@router.get(
    "/evening-reports/draft",
    response={200: NumbersDraft, 422: ErrorOut},
    operation_id="automation_evening_draft",
)
def evening_draft(request: HttpRequest, date: str | None = None):
    """The evening form pre-filled: the filed report, else the numbers of logged activities."""
    return briefs.evening_report_draft(user=request.auth, day=_day(date))


@router.get(
    "/evening-reports",
    response={200: list[EveningOut], 422: ErrorOut},
    operation_id="automation_evening_list",
)
def evening_list(request: HttpRequest, date: str | None = None):
    """Reports of ``date`` one may read: one's own; a lead's subtree; admin all."""
    return list(
        selectors.evening_reports(user=request.auth, day=_day(date)).order_by("user__username")
    )


@router.get(
    "/evening-reports/status",
    response={200: list[EveningStatusOut], 422: ErrorOut},
    operation_id="automation_evening_status",
)
def evening_status(request: HttpRequest, date: str | None = None):
    """Who has and has not filed for ``date``, among the people one may see."""
    rows = briefs.evening_status(viewer=request.auth, day=_day(date))
    return [
        {
            "user_id": row["user"].pk,
            "username": row["user"].username,
            "team": str(row["user"].team or ""),
            "submitted": row["submitted"],
            "submitted_at": row["report"].submitted_at if row["report"] else None,
        }
        for row in rows
    ]


@router.put(
    "/evening-reports/{day}",
    response={200: EveningOut, 409: ConflictOut, 422: ErrorOut},
    operation_id="automation_evening_submit",
)
def evening_submit(request: HttpRequest, day: str, payload: EveningIn):
    """File one's own report for ``day``; correcting it needs the version read (409 if stale)."""
    data = payload.model_dump()
    version = data.pop("version")
    report = briefs.evening_report_submit(
        user=request.auth, day=_day(day), data=data, version=version
    )
    return briefs.EveningReport.objects.select_related("user").get(pk=report.pk)
