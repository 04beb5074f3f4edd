"""Reads behind the record pages: the customer 360 and a deal's stage history.

Each related list is its own restricted query (``org.access.restrict``): finance opening an
account sees its money but not its contacts or activities, exactly as the API would answer.
Every list is a fixed number of queries whatever the number of rows (no N+1).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model

from salesloop.activities.models import Activity, Task, TaskStatus
from salesloop.customers.models import Account, Contact
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline.models import Opportunity, StageChange
from salesloop.sales.models import Contract, Invoice, Order, Payment

#: Rows per section of the 360 page; the section links to the full, filterable list.
SECTION_LIMIT = 20
TIMELINE_LIMIT = 50


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "activity" | "stage"
    obj: Model


@dataclass
class Account360:
    contacts: list[Contact]
    open_deals: list[Opportunity]
    closed_deals: list[Opportunity]
    timeline: list[TimelineEntry]
    orders: list[Order]
    invoices: list[Invoice]
    payments: list[Payment]
    contracts: list[Contract]
    open_tasks: list[Task]
    can_read: dict[str, bool]


def _visible(model: type[Model], user: User):
    return access.restrict(model._default_manager.all(), user, "read")


def related_activities(
    *, user: User, account: Account | None = None, opportunity: Opportunity | None = None
):
    qs = _visible(Activity, user).select_related("owner", "performed_by", "opportunity")
    if account is not None:
        qs = qs.filter(account=account)
    if opportunity is not None:
        qs = qs.filter(opportunity=opportunity)
    rows = list(qs.order_by("-occurred_at", "-id")[:TIMELINE_LIMIT])
    if not access.can_see_private_notes(user):
        for row in rows:
            row.notes = None
    return rows


def stage_history(*, opportunity: Opportunity, user: User) -> list[StageChange]:
    """Every move of the deal, oldest first (the caller already holds a readable deal)."""
    return list(
        _visible(StageChange, user)
        .filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def account_360(*, account: Account, user: User) -> Account360:
    """Everything about one customer that ``user`` may see, for the account page."""
    deals = _visible(Opportunity, user).filter(account=account).select_related("stage", "owner")
    stage_changes = list(
        _visible(StageChange, user)
        .filter(opportunity__account=account)
        .select_related("opportunity", "from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-id")[:TIMELINE_LIMIT]
    )
    activities = related_activities(user=user, account=account)
    timeline = sorted(
        [TimelineEntry(a.occurred_at, "activity", a) for a in activities]
        + [TimelineEntry(c.changed_at, "stage", c) for c in stage_changes],
        key=lambda e: (e.at, e.obj.pk),
        reverse=True,
    )[:TIMELINE_LIMIT]
    models: dict[str, Any] = {
        "contacts": Contact,
        "opportunities": Opportunity,
        "activities": Activity,
        "orders": Order,
        "invoices": Invoice,
        "payments": Payment,
        "contracts": Contract,
        "tasks": Task,
    }
    return Account360(
        contacts=list(
            _visible(Contact, user)
            .filter(account=account)
            .order_by("-is_decision_maker", "name")[:SECTION_LIMIT]
        ),
        open_deals=list(
            deals.filter(closed_at__isnull=True).order_by("expected_close_date", "-id")[
                :SECTION_LIMIT
            ]
        ),
        closed_deals=list(
            deals.filter(closed_at__isnull=False).order_by("-closed_at", "-id")[:SECTION_LIMIT]
        ),
        timeline=timeline,
        orders=list(
            _visible(Order, user).filter(account=account).select_related("owner")[:SECTION_LIMIT]
        ),
        invoices=list(_visible(Invoice, user).filter(account=account)[:SECTION_LIMIT]),
        payments=list(
            _visible(Payment, user)
            .filter(account=account)
            .select_related("invoice")[:SECTION_LIMIT]
        ),
        contracts=list(_visible(Contract, user).filter(account=account)[:SECTION_LIMIT]),
        open_tasks=list(
            _visible(Task, user)
            .filter(account=account, status=TaskStatus.OPEN)
            .select_related("assignee")[:SECTION_LIMIT]
        ),
        can_read={name: access.can_read_model(user, model) for name, model in models.items()},
    )
