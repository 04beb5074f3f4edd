"""Automation: the working calendar, rules that create tasks and reminders, scheduled jobs.

Everything the seeds' rhythm depends on is data here (SLA lengths, reminder windows, the 08:30
brief), so an administrator changes it without a release:

* :class:`AutomationSettings` — working hours, retry and back-off numbers (one row);
* :class:`Holiday` — days off and make-up working days (调休) on top of the working weekdays;
* :class:`Rule` — trigger → conditions (``params``) → actions (task, notification, escalation);
* :class:`RuleFiring` — the idempotency ledger: one row per (rule, record, due slot), enforced by a
  unique constraint, so retries, double delivery and two schedulers never act twice;
* :class:`Escalation` — a breached rule task escalated one level up the team tree, once per level;
* :class:`ScheduledJob` / :class:`JobRun` / :class:`JobFailure` — schedules, one run per
  (job, slot), every failure with its traceback;
* :class:`Brief` / :class:`EveningReport` — the morning brief and the evening report.
"""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesloop.activities.models import TaskKind
from salesloop.core.models import SingleRow, TimeStamped, Versioned
from salesloop.org.models import Role


class AutomationSettings(SingleRow, TimeStamped):
    """Organisation-wide numbers for the automation; one row (``AutomationSettings.current()``).

    Working hours are in the organisation's time zone (``OrgSettings.time_zone``); SLA clocks
    measured in working hours only run inside them.
    """

    workday_start = models.TimeField(_("working day starts"), default=dt.time(9, 0))
    workday_end = models.TimeField(_("working day ends"), default=dt.time(18, 0))
    deals_to_push_days = models.PositiveSmallIntegerField(
        _("deals to push: closing within (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("The morning brief lists open deals expected to close within this many days."),
    )
    delivery_max_attempts = models.PositiveSmallIntegerField(
        _("delivery attempts"), default=6, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    delivery_backoff_seconds = models.PositiveIntegerField(
        _("delivery back-off (seconds)"),
        default=60,
        validators=[MinValueValidator(1)],
        help_text=_("Wait before the first retry; doubled after each failed attempt."),
    )
    delivery_lease_seconds = models.PositiveIntegerField(
        _("delivery lease (seconds)"),
        default=60,
        validators=[MinValueValidator(10)],
        help_text=_(
            "A delivery still marked as sending after this time is sent again (its worker died)."
        ),
    )
    job_max_attempts = models.PositiveSmallIntegerField(
        _("job attempts"), default=5, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    job_retry_backoff_seconds = models.PositiveIntegerField(
        _("job retry back-off (seconds)"), default=60, validators=[MinValueValidator(1)]
    )
    job_lease_seconds = models.PositiveIntegerField(
        _("job lease (seconds)"),
        default=900,
        validators=[MinValueValidator(30)],
        help_text=_("A run not finished within this time is considered lost and run again."),
    )
    keep_runs_days = models.PositiveSmallIntegerField(
        _("keep finished job runs (days)"), default=14, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("automation settings")
        verbose_name_plural = _("automation settings")

    def __str__(self) -> str:
        return str(_("Automation settings"))

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.workday_end <= self.workday_start:
            raise ValidationError({"workday_end": _("The working day must end after it starts.")})


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Day off")
    WORKDAY = "workday", _("Make-up working day")


class Holiday(TimeStamped):
    """A public holiday (a day off on a working weekday) or a make-up working day (调休)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(
        _("kind"), max_length=10, choices=DayKind.choices, default=DayKind.HOLIDAY
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Trigger(models.TextChoices):
    CONTACT_BIRTHDAY = "contact_birthday", _("A contact's birthday is coming")
    CONTRACT_ENDING = "contract_ending", _("A contract ends soon")
    INVOICE_OVERDUE = "invoice_overdue", _("An invoice is overdue")
    LEAD_CREATED = "lead_created", _("A lead was created and not yet touched")
    FIRST_CONTACT = "first_contact", _("First contact with an account")
    STAGE_ENTERED = "stage_entered", _("A deal entered a stage")
    IN_STAGE = "in_stage", _("A deal is in a stage (every day or week)")
    COMPETITOR_NOTE = "competitor_note", _("An activity mentions a competitor")
    # Customer operations (salesloop.custops.triggers registers their specs at start-up).
    CADENCE_DUE = "cadence_due", _("An account is due for contact by its follow-up cadence")
    CHURN_FLAGGED = "churn_flagged", _("The churn model flagged an account")


class AssignTo(models.TextChoices):
    OWNER = "owner", _("The record's owner")
    OWNER_LEAD = "owner_lead", _("The owner's lead (one level up)")


class DueUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class Rule(Versioned):
    """Trigger → conditions → actions, as data. Seeds' defaults come from ``automation.defaults``.

    ``params`` holds the trigger's conditions (e.g. ``{"days_before": 3}``); each trigger declares
    the keys it accepts and their defaults (``automation.triggers``). Event triggers only look at
    events after ``active_since`` so that enabling a rule never floods people with tasks for
    history.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices)
    params = models.JSONField(_("conditions"), default=dict, blank=True)
    active_since = models.DateTimeField(
        _("active since"),
        default=timezone.now,
        help_text=_("Events before this moment are ignored."),
    )
    create_task = models.BooleanField(_("create a task"), default=True)
    task_kind = models.CharField(
        _("task kind"), max_length=12, choices=TaskKind.choices, default=TaskKind.FOLLOW_UP
    )
    task_title = models.CharField(
        _("task title"),
        max_length=200,
        help_text=_("May use placeholders such as {account} or {date}."),
    )
    task_title_en = models.CharField(_("task title (English)"), max_length=200, blank=True)
    assign_to = models.CharField(
        _("assign to"), max_length=12, choices=AssignTo.choices, default=AssignTo.OWNER
    )
    due_amount = models.PositiveIntegerField(
        _("due within"), default=1, validators=[MaxValueValidator(1000)]
    )
    due_unit = models.CharField(
        _("unit"), max_length=14, choices=DueUnit.choices, default=DueUnit.WORKING_DAYS
    )
    notify_assignee = models.BooleanField(_("notify the assignee"), default=True)
    notify_lead = models.BooleanField(_("notify the owner's lead"), default=False)
    notify_role = models.CharField(
        _("also notify everyone with role"),
        max_length=20,
        choices=Role.choices,
        blank=True,
    )
    escalate_after_hours = models.PositiveIntegerField(
        _("escalate after (working hours past due)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10000)],
        help_text=_("Empty: never escalate. 0: escalate as soon as the deadline passes."),
    )

    class Meta:
        ordering = ["trigger", "code"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """One action of a rule on one record for one due slot; the unique key makes it happen once.

    ``slot`` names the occurrence: the birthday's date this year, the contract's end date, the ISO
    week of a weekly review, the stage change that entered a stage, or empty for once-only events.
    ``claim`` is the sweep that inserted the row: a sweep that lost a race to another scheduler
    finds its claim missing and rolls its own work back.
    """

    rule = models.ForeignKey(
        "automation.Rule", verbose_name=_("rule"), on_delete=models.CASCADE, related_name="firings"
    )
    target = models.CharField(_("record type"), max_length=40)
    object_id = models.BigIntegerField(_("record id"))
    slot = models.CharField(_("slot"), max_length=40, blank=True)
    task = models.ForeignKey(
        "activities.Task",
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fired_at = models.DateTimeField(_("fired at"), default=timezone.now, db_index=True)
    claim = models.CharField(max_length=32, db_index=True, editable=False)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = _("rule firing")
        verbose_name_plural = _("rule firings")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "target", "object_id", "slot"], name="rulefiring_once_per_slot"
            )
        ]
        indexes = [models.Index(fields=["task"])]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.target}#{self.object_id}@{self.slot}"


class Escalation(models.Model):
    """A rule task not done in time, escalated to the lead one level up (once per level)."""

    task = models.ForeignKey(
        "activities.Task", verbose_name=_("task"), on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(
        "automation.Rule",
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    claim = models.CharField(max_length=32, db_index=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(fields=["task", "level"], name="escalation_once_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.escalated_to_id}"


class ScheduleKind(models.TextChoices):
    INTERVAL = "interval", _("Every N seconds")
    DAILY = "daily", _("Daily at a time")


class ScheduledJob(TimeStamped):
    """A periodic job. ``name`` is the key of the job function in ``automation.jobs.JOBS``.

    Daily times are in the organisation's time zone; ``working_days_only`` skips weekends and
    holidays by the working calendar.
    """

    name = models.SlugField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("schedule"), max_length=10, choices=ScheduleKind.choices)
    every_seconds = models.PositiveIntegerField(
        _("every (seconds)"), null=True, blank=True, validators=[MinValueValidator(10)]
    )
    at_time = models.TimeField(_("at"), null=True, blank=True)
    working_days_only = models.BooleanField(_("working days only"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_status = models.CharField(_("last status"), max_length=10, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="interval", every_seconds__isnull=False)
                    | models.Q(kind="daily", at_time__isnull=False)
                ),
                name="scheduledjob_schedule_complete",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Failed, gave up")
    SKIPPED = "skipped", _("Skipped (missed)")


class JobRun(models.Model):
    """One run of a job for one slot. The unique (job, slot) lets only one scheduler claim it.

    A run is executed by whoever moves it from ``queued`` to ``running`` (a conditional UPDATE);
    a run whose lease ran out (its worker died) is queued again, a failed one is retried with
    back-off until ``AutomationSettings.job_max_attempts``.
    """

    job = models.ForeignKey(
        "automation.ScheduledJob",
        verbose_name=_("job"),
        on_delete=models.CASCADE,
        related_name="runs",
    )
    slot = models.DateTimeField(_("slot"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RunStatus.choices,
        default=RunStatus.QUEUED,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    next_retry_at = models.DateTimeField(_("next retry"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=120, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-slot", "-id"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="jobrun_once_per_slot")]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"{self.job_id}@{self.slot:%Y-%m-%d %H:%M:%S}"

    @property
    def error_summary(self) -> str:
        """The last line of the traceback: the exception and its message."""
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class JobFailure(models.Model):
    """One failed attempt of a run, with its traceback (kept with the run for the ops page)."""

    run = models.ForeignKey(
        "automation.JobRun",
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="failures",
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    error = models.CharField(_("error"), max_length=300)
    traceback = models.TextField(_("traceback"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("job failure")
        verbose_name_plural = _("job failures")

    def __str__(self) -> str:
        return self.error


class Brief(models.Model):
    """A person's morning brief for one working day (the content is a snapshot at 08:30)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="briefs",
    )
    date = models.DateField(_("date"))
    content = models.JSONField(_("content"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claim = models.CharField(max_length=32, db_index=True, editable=False)

    class Meta:
        ordering = ["-date", "user_id"]
        verbose_name = _("morning brief")
        verbose_name_plural = _("morning briefs")
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="brief_once_per_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.date}"


class EveningReport(Versioned):
    """What a person did today against plan, tomorrow's plan and blockers (seed §A二.1 晚会)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="evening_reports",
    )
    date = models.DateField(_("date"), db_index=True)
    numbers = models.JSONField(_("today's numbers"), default=dict, blank=True)
    logged = models.JSONField(_("numbers from logged activities"), default=dict, blank=True)
    results_note = models.TextField(_("results and learnings"), blank=True)
    tomorrow_plan = models.TextField(_("tomorrow's plan"))
    blockers = models.TextField(_("blockers, help needed"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)

    class Meta:
        ordering = ["-date", "user_id"]
        verbose_name = _("evening report")
        verbose_name_plural = _("evening reports")
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="eveningreport_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.date}"
