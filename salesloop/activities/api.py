"""API declarations for activities and tasks."""

from datetime import datetime

from pydantic import Field

from salesloop.activities.models import Activity, Task
from salesloop.core.api_resources import Resource

ACTIVITIES = Resource(
    path="activities",
    model=Activity,
    read_fields=[
        "kind", "external_id", "subject", "occurred_at", "outcome", "notes", "owner", "performed_by", "account",
        "opportunity", "lead", "version", "created_at", "updated_at",
    ],
    write_fields=["kind", "external_id", "subject", "occurred_at", "outcome", "notes", "owner", "account", "opportunity", "lead"],
    filters={
        "q": (str, ["subject__icontains"]),
        "owner_id": (int, "owner_id"),
        "account_id": (int, "account_id"),
        "opportunity_id": (int, "opportunity_id"),
        "lead_id": (int, "lead_id"),
        "kind": (str, "kind"),
        "outcome": (str, "outcome"),
        "since": (datetime, "occurred_at__gte"),
        "until": (datetime, "occurred_at__lt"),
    },
    sort_fields=["id", "occurred_at", "kind", "created_at"],
    default_sort="-occurred_at",
    related=["owner", "account"],
    out_extra={
        "owner_name": (str | None, Field(None, alias="owner.username")),
        "account_name": (str | None, Field(None, alias="account.name")),
    },
    private_fields=("notes",),
)

TASKS = Resource(
    path="tasks",
    model=Task,
    read_fields=[
        "title", "kind", "due_at", "status", "assignee", "source", "account", "opportunity", "lead", "notes",
        "completed_at", "version", "created_at", "updated_at",
    ],
    write_fields=["title", "kind", "due_at", "status", "assignee", "source", "account", "opportunity", "lead", "notes", "completed_at"],
    filters={
        "q": (str, ["title__icontains"]),
        "assignee_id": (int, "assignee_id"),
        "status": (str, "status"),
        "kind": (str, "kind"),
        "account_id": (int, "account_id"),
        "due_before": (datetime, "due_at__lt"),
        "due_after": (datetime, "due_at__gte"),
    },
    sort_fields=["id", "due_at", "status", "created_at"],
    default_sort="due_at",
    related=["assignee", "account"],
    out_extra={
        "assignee_name": (str | None, Field(None, alias="assignee.username")),
        "account_name": (str | None, Field(None, alias="account.name")),
    },
)

RESOURCES = [ACTIVITIES, TASKS]
