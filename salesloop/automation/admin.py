"""Admin for the automation data: rules, holidays, settings, schedules and their runs."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from salesloop.automation import models
from salesloop.core.errors import FieldErrors


class RuleAdminForm(forms.ModelForm):
    """The same checks as the rules page and the API: conditions and placeholders per trigger."""

    class Meta:
        model = models.Rule
        fields = [
            "code",
            "name",
            "name_en",
            "description",
            "is_active",
            "trigger",
            "params",
            "active_since",
            "create_task",
            "task_kind",
            "task_title",
            "task_title_en",
            "assign_to",
            "due_amount",
            "due_unit",
            "notify_assignee",
            "notify_lead",
            "notify_role",
            "escalate_after_hours",
        ]

    def clean(self):
        from salesloop.automation.services import check_template, clean_params

        data = super().clean()
        trigger = data.get("trigger")
        if not trigger:
            return data
        try:
            data["params"] = clean_params(trigger, data.get("params") or {})
            for name in ("task_title", "task_title_en"):
                check_template(trigger, data.get(name) or "", name)
        except FieldErrors as exc:
            raise ValidationError({k.split(".")[0]: v for k, v in exc.errors.items()}) from exc
        return data


@admin.register(models.Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleAdminForm
    list_display = [
        "code",
        "name",
        "trigger",
        "is_active",
        "due_amount",
        "due_unit",
        "escalate_after_hours",
    ]
    list_filter = ["trigger", "is_active"]
    search_fields = ["code", "name", "name_en"]


@admin.register(models.Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "kind"]
    list_filter = ["kind"]
    date_hierarchy = "date"


@admin.register(models.AutomationSettings)
class AutomationSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "workday_start",
        "workday_end",
        "delivery_max_attempts",
        "job_max_attempts",
    ]


@admin.register(models.RuleFiring)
class RuleFiringAdmin(admin.ModelAdmin):
    list_display = ["rule", "target", "object_id", "slot", "task", "assignee", "fired_at"]
    list_filter = ["rule"]
    raw_id_fields = ["task", "assignee"]


@admin.register(models.Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["task", "rule", "level", "escalated_to", "at"]
    raw_id_fields = ["task", "escalated_to"]


class JobFailureInline(admin.TabularInline):
    model = models.JobFailure
    extra = 0
    readonly_fields = ["attempt", "at", "error", "traceback"]


@admin.register(models.ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "every_seconds",
        "at_time",
        "working_days_only",
        "is_active",
        "next_run_at",
        "last_status",
    ]


@admin.register(models.JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["job", "slot", "status", "attempts", "started_at", "finished_at", "worker"]
    list_filter = ["status", "job"]
    inlines = [JobFailureInline]


@admin.register(models.Brief)
class BriefAdmin(admin.ModelAdmin):
    list_display = ["user", "date", "created_at"]
    raw_id_fields = ["user"]


@admin.register(models.EveningReport)
class EveningReportAdmin(admin.ModelAdmin):
    list_display = ["user", "date", "submitted_at"]
    raw_id_fields = ["user"]
