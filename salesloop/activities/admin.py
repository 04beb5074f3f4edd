"""Admin for activities and tasks."""

from django.contrib import admin

from salesloop.activities.models import Activity, Task
from salesloop.audit.admin import RecordAdmin


@admin.register(Activity)
class ActivityAdmin(RecordAdmin):
    list_display = ("occurred_at", "kind", "subject", "owner", "performed_by", "account", "outcome")
    list_filter = ("kind", "outcome", "occurred_at")
    search_fields = ("subject", "external_id", "account__name")
    list_select_related = ("owner", "performed_by", "account")
    autocomplete_fields = ("owner", "performed_by", "account", "opportunity", "lead")


@admin.register(Task)
class TaskAdmin(RecordAdmin):
    list_display = ("title", "kind", "assignee", "due_at", "status", "account", "source")
    list_filter = ("status", "kind", "due_at")
    search_fields = ("title", "source", "account__name")
    list_select_related = ("assignee", "account")
    autocomplete_fields = ("assignee", "account", "opportunity", "lead")
