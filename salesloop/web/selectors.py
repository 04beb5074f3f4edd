"""Reads behind the shell: global search and the header's task alerts.

Visibility is never decided here: every queryset comes through ``org.access.restrict``, so a
search result or an alert can only name a record the user may open.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from salesloop.activities.models import Task, TaskStatus
from salesloop.customers.models import Account, Contact, Lead
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline.models import Opportunity

#: Shortest query the search answers; one character would match half the book.
SEARCH_MIN_CHARS = 2


@dataclass(frozen=True)
class SearchGroup:
    key: str
    results: list


def _today_bounds() -> tuple[datetime, datetime]:
    """Start of today and of tomorrow in the active (organisation) time zone."""
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(today, time.min), tz)
    return start, start + timedelta(days=1)


def global_search(*, user: User, query: str, limit: int = 8) -> list[SearchGroup]:
    """Accounts, contacts, leads and deals whose name, phone or e-mail contains ``query``.

    Four small queries (one per kind, ``limit`` rows each); nothing when the query is shorter
    than ``SEARCH_MIN_CHARS``.
    """
    query = query.strip()
    if len(query) < SEARCH_MIN_CHARS:
        return []
    specs: list[tuple[str, QuerySet, Q]] = [
        (
            "accounts",
            Account.objects.select_related("owner"),
            Q(name__icontains=query) | Q(phone__icontains=query) | Q(external_id__iexact=query),
        ),
        (
            "contacts",
            Contact.objects.select_related("account"),
            Q(name__icontains=query) | Q(phone__icontains=query) | Q(email__icontains=query),
        ),
        (
            "leads",
            Lead.objects.select_related("owner"),
            Q(name__icontains=query)
            | Q(company__icontains=query)
            | Q(phone__icontains=query)
            | Q(email__icontains=query),
        ),
        (
            "opportunities",
            Opportunity.objects.select_related("account", "stage"),
            Q(name__icontains=query) | Q(account__name__icontains=query),
        ),
    ]
    groups = []
    for key, qs, condition in specs:
        if not access.can_read_model(user, qs.model):
            continue
        rows = list(access.restrict(qs, user, "read").filter(condition).order_by("-id")[:limit])
        if rows:
            groups.append(SearchGroup(key=key, results=rows))
    return groups


@dataclass(frozen=True)
class TaskAlerts:
    overdue: int
    due_today: int

    @property
    def total(self) -> int:
        return self.overdue + self.due_today


def _my_open_tasks(user: User) -> QuerySet[Task]:
    # The header is about the user's own to-do list, not their team's: assignee is the user,
    # and restrict() still applies so a deactivated user sees nothing.
    qs = access.restrict(Task.objects.all(), user, "read")
    return qs.filter(assignee=user, status=TaskStatus.OPEN)


def task_alerts_for(*, user: User) -> TaskAlerts:
    """How many of the user's open tasks are overdue and due later today (one query)."""
    now = timezone.now()
    _start, tomorrow = _today_bounds()
    counts = _my_open_tasks(user).aggregate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        due_today=Count("id", filter=Q(due_at__gte=now, due_at__lt=tomorrow)),
    )
    return TaskAlerts(overdue=counts["overdue"], due_today=counts["due_today"])


def task_alert_list(*, user: User, limit: int = 20) -> list[Task]:
    """The overdue and due-today tasks themselves, oldest due first."""
    _start, tomorrow = _today_bounds()
    return list(
        _my_open_tasks(user)
        .filter(due_at__lt=tomorrow)
        .select_related("account")
        .order_by("due_at", "id")[:limit]
    )
