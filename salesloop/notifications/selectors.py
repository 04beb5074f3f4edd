"""Reads for the notification centre: what a person may see is decided here, through org.access."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from salesloop.notifications.models import Notification, NotificationPreference, WebhookEndpoint
from salesloop.org import access
from salesloop.org.models import LEADING_ROLES, User


def notification_list(
    *, user: User, unread_only: bool = False, kind: str | None = None
) -> QuerySet:
    qs = access.restrict(Notification.objects.all(), user, "read").filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def unread_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def preference_for(*, user: User) -> NotificationPreference | None:
    return NotificationPreference.objects.filter(user=user).first()


def webhooks_visible(*, user: User) -> QuerySet:
    """Chat webhooks a person may see and manage: admin all; leads their subtree's teams; own."""
    qs = WebhookEndpoint.objects.select_related("team", "owner")
    if user.is_superuser or user.is_admin_role:
        return qs
    mine = Q(owner=user)
    if user.role in LEADING_ROLES and user.team_id:
        mine |= Q(team__path__startswith=user.team.path)
    return qs.filter(mine)
