"""Issuing and revoking feed tokens, and reading a feed by its token."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from salesloop.activities.models import Task, TaskStatus
from salesloop.calendarfeed.ics import render_calendar
from salesloop.calendarfeed.models import CalendarToken
from salesloop.org.models import User

#: The feed shows open tasks due from a month ago to half a year ahead.
PAST = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=183)
MAX_EVENTS = 2000
_TOUCH_EVERY = dt.timedelta(minutes=5)


def feed_url(key: str) -> str:
    return settings.SALESLOOP_BASE_URL.rstrip("/") + reverse("calendarfeed:feed", args=[key])


@transaction.atomic
def token_issue(*, user: User) -> tuple[CalendarToken, str]:
    """A new private feed URL; any earlier one stops working at once."""
    now = timezone.now()
    CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    key = CalendarToken.new_key()
    token = CalendarToken.objects.create(
        user=user, key_hash=CalendarToken.hash_key(key), prefix=key[:8]
    )
    return token, key


def token_revoke(*, user: User) -> int:
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def active_token(*, user: User) -> CalendarToken | None:
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).first()


def user_for_key(key: str) -> User | None:
    token = (
        CalendarToken.objects.select_related("user")
        .filter(key_hash=CalendarToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        CalendarToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def feed_for(*, user: User, now: dt.datetime | None = None) -> str:
    """The person's open tasks as an iCalendar document (one query)."""
    now = now or timezone.now()
    rows = (
        Task.objects.filter(
            assignee=user, status=TaskStatus.OPEN, due_at__gte=now - PAST, due_at__lte=now + AHEAD
        )
        .order_by("due_at", "pk")
        .values("pk", "title", "due_at", "updated_at", "notes", "account__name", "kind")[
            :MAX_EVENTS
        ]
    )
    base = settings.SALESLOOP_BASE_URL.rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0] or "salesloop"
    events = []
    for row in rows:
        description = "\n".join(
            part for part in (row["account__name"] or "", row["notes"] or "") if part
        )
        try:
            url = base + reverse("task_detail", args=[row["pk"]])
        except Exception:  # noqa: BLE001 the web UI may not be mounted (API-only deployments)
            url = ""
        events.append(
            {
                "id": row["pk"],
                "title": row["title"],
                "due_at": row["due_at"],
                "updated_at": row["updated_at"],
                "description": description,
                "url": url,
            }
        )
    return render_calendar(name=f"Salesloop · {user}", events=events, now=now, host=host)
