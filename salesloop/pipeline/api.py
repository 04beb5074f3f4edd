"""API declarations for opportunities, stages and loss reasons."""

from datetime import date
from decimal import Decimal

from pydantic import Field

from salesloop.core.api_resources import Resource
from salesloop.pipeline import services
from salesloop.pipeline.models import LossReason, Opportunity, Stage

OPPORTUNITIES = Resource(
    path="opportunities",
    model=Opportunity,
    read_fields=[
        "name", "external_id", "account", "owner", "lead", "amount", "currency", "stage", "stage_entered_at",
        "expected_close_date", "probability", "decision_maker", "decision_date", "competitors", "next_step",
        "loss_reason", "loss_note", "closed_at", "version", "created_at", "updated_at",
    ],
    write_fields=[
        "name", "external_id", "account", "owner", "lead", "amount", "currency", "stage", "expected_close_date",
        "probability", "decision_maker", "decision_date", "competitors", "next_step", "loss_reason", "loss_note",
    ],
    filters={
        "q": (str, ["name__icontains", "account__name__icontains"]),
        "owner_id": (int, "owner_id"),
        "account_id": (int, "account_id"),
        "stage": (str, "stage__code"),
        "stage_id": (int, "stage_id"),
        "team_id": (int, "owner__team_id"),
        "close_from": (date, "expected_close_date__gte"),
        "close_to": (date, "expected_close_date__lte"),
        "amount_min": (Decimal, "amount__gte"),
        "is_open": (bool, "closed_at__isnull"),
    },
    sort_fields=["id", "name", "amount", "expected_close_date", "created_at", "updated_at", "stage__order"],
    default_sort="-created_at",
    related=["owner", "account", "stage"],
    out_extra={
        "owner_name": (str | None, Field(None, alias="owner.username")),
        "account_name": (str | None, Field(None, alias="account.name")),
        "stage_code": (str | None, Field(None, alias="stage.code")),
    },
    optional_on_create=frozenset({"stage"}),
    create=services.opportunity_create,
    update=lambda pk, **kw: services.opportunity_update(opportunity_id=pk, **kw),
)

STAGES = Resource(
    path="stages",
    model=Stage,
    read_fields=["code", "name", "name_en", "order", "probability", "is_won", "is_lost", "is_active"],
    write_fields=["code", "name", "name_en", "order", "probability", "is_won", "is_lost", "is_active"],
    filters={"is_active": (bool, "is_active")},
    sort_fields=["id", "order", "code"],
    default_sort="order",
)

LOSS_REASONS = Resource(
    path="loss-reasons",
    model=LossReason,
    read_fields=["code", "name", "name_en"],
    write_fields=["code", "name", "name_en"],
    filters={"q": (str, ["name__icontains", "code__icontains"])},
    sort_fields=["id", "name", "code"],
    default_sort="name",
)

RESOURCES = [OPPORTUNITIES, STAGES, LOSS_REASONS]
