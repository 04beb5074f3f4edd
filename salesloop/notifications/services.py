"""Writes for notifications: create (in bulk, once per event), deliver with retries, mark read.

Delivery is at-least-once by design: a delivery is leased (``sending``) before the network call
and marked ``sent`` right after it, one by one, so a worker killed mid-batch leaves at most the
one in-flight message to be sent again after its lease runs out; everything else is either
sent once or still waiting. The ``X-Salesloop-Delivery`` header lets a receiver drop that copy.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.notifications import channels
from salesloop.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
    WebhookEndpoint,
)
from salesloop.notifications.preferences import effective_preferences, org_zone
from salesloop.org import access
from salesloop.org.models import LEADING_ROLES, Team, User

BATCH = 1000


@dataclass(frozen=True)
class Draft:
    """A notification to create: ``dedupe_key`` names the event so it is created only once."""

    recipient_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    dedupe_key: str | None = None


def notifications_create(
    *, drafts: Sequence[Draft], now: dt.datetime | None = None
) -> list[Notification]:
    """Create the in-app notifications not created before and plan their external deliveries.

    Returns only the notifications this call created (a retried job gets an empty list).
    """
    if not drafts:
        return []
    now = now or timezone.now()
    batch = uuid.uuid4().hex
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=d.recipient_id,
                kind=d.kind,
                title=d.title[:200],
                body=d.body,
                url=d.url[:300],
                dedupe_key=d.dedupe_key,
                created_at=now,
                batch=batch,
            )
            for d in drafts
        ],
        ignore_conflicts=True,
        batch_size=BATCH,
    )
    created = list(Notification.objects.filter(batch=batch).only("pk", "recipient_id", "kind"))
    deliveries_plan(notifications=created, now=now)
    return created


def deliveries_plan(*, notifications: Sequence[Notification], now: dt.datetime) -> int:
    """One delivery per channel the recipient wants, deferred past their quiet hours."""
    prefs = effective_preferences({n.recipient_id for n in notifications})
    tz = org_zone()
    planned: list[Delivery] = []
    for n in notifications:
        pref = prefs.get(n.recipient_id)
        if pref is None or n.kind in pref.muted_kinds:
            continue
        at = pref.not_before(now, tz)
        if pref.email and pref.email_address:
            planned.append(
                Delivery(
                    notification_id=n.pk,
                    channel=Channel.EMAIL,
                    target=f"email:{pref.email_address}"[:260],
                    next_attempt_at=at,
                    created_at=now,
                )
            )
        if pref.chat and pref.webhook_id:
            planned.append(
                Delivery(
                    notification_id=n.pk,
                    channel=Channel.WEBHOOK,
                    target=f"webhook:{pref.webhook_id}",
                    endpoint_id=pref.webhook_id,
                    next_attempt_at=at,
                    created_at=now,
                )
            )
    Delivery.objects.bulk_create(planned, ignore_conflicts=True, batch_size=BATCH)
    return len(planned)


def _backoff(attempts: int, base_seconds: int) -> dt.timedelta:
    return dt.timedelta(seconds=base_seconds * (2 ** max(attempts - 1, 0)))


def deliveries_send(*, now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send due deliveries: lease a batch, send each, record each result at once.

    A webhook that fails in this batch is not tried again in the same batch (its other
    deliveries wait for the back-off), so one dead robot never holds up the others.
    """
    from salesloop.automation.models import AutomationSettings

    now = now or timezone.now()
    conf = AutomationSettings.current()
    lease = dt.timedelta(
        seconds=max(conf.delivery_lease_seconds, int(channels.TIMEOUT_SECONDS * 2))
    )
    due = Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
    ids = list(
        Delivery.objects.filter(due, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"sent": 0, "failed": 0, "retry": 0, "deferred": 0}
    if not ids:
        return counts
    claim = uuid.uuid4().hex
    Delivery.objects.filter(due, pk__in=ids).update(
        status=DeliveryStatus.SENDING,
        claim=claim,
        lease_until=now + lease,
        attempts=F("attempts") + 1,
    )
    mine = list(
        Delivery.objects.filter(claim=claim, status=DeliveryStatus.SENDING)
        .select_related("notification", "notification__recipient", "endpoint")
        .order_by("pk")
    )
    connection = None
    broken_endpoints: set[int] = set()
    try:
        for delivery in mine:
            if delivery.endpoint_id in broken_endpoints:
                Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
                    status=DeliveryStatus.PENDING,
                    attempts=F("attempts") - 1,
                    lease_until=None,
                    next_attempt_at=timezone.now() + _backoff(1, conf.delivery_backoff_seconds),
                )
                counts["deferred"] += 1
                continue
            try:
                if delivery.channel == Channel.EMAIL:
                    if connection is None:
                        connection = get_connection(fail_silently=False)
                    channels.send_email(
                        _message(delivery), delivery.target.removeprefix("email:"), connection
                    )
                else:
                    endpoint = delivery.endpoint
                    if endpoint is None or not endpoint.is_active:
                        raise channels.DeliveryError(
                            _("The chat webhook was removed or switched off.")
                        )
                    channels.send_webhook(endpoint, _message(delivery))
            except Exception as exc:  # every failure is recorded on the delivery, none escapes
                if delivery.endpoint_id:
                    broken_endpoints.add(delivery.endpoint_id)
                gave_up = delivery.attempts >= conf.delivery_max_attempts
                Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
                    status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
                    lease_until=None,
                    last_error=str(exc)[:2000] or type(exc).__name__,
                    next_attempt_at=timezone.now()
                    + _backoff(delivery.attempts, conf.delivery_backoff_seconds),
                )
                counts["failed" if gave_up else "retry"] += 1
                continue
            Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
                status=DeliveryStatus.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
            )
            counts["sent"] += 1
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 closing a broken SMTP session must not hide the result
                pass
    return counts


def _message(delivery: Delivery) -> channels.Message:
    n = delivery.notification
    return channels.Message(
        title=n.title,
        text=n.body or n.title,
        url=n.url,
        mention_phone=n.recipient.phone,
        language=n.recipient.language,
        delivery_id=delivery.pk,
    )


# The notification centre ---------------------------------------------------------------------


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    qs = access.restrict(Notification.objects.all(), user, "write")
    notification = qs.get(pk=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# Preferences and webhooks --------------------------------------------------------------------

PREFERENCE_FIELDS = ("email", "chat", "webhook_id", "quiet_start", "quiet_end", "muted_kinds")


def _may_manage_team(user: User, team: Team) -> bool:
    if user.is_superuser or user.is_admin_role:
        return True
    if user.role not in LEADING_ROLES or user.team_id is None:
        return False
    return team.path.startswith(user.team.path)


def usable_webhooks(*, user: User):
    """Chat webhooks a person may route notifications to: their own and their teams' up the tree."""
    team_ids = [int(x) for x in (user.team.path if user.team_id else "").strip("/").split("/") if x]
    return WebhookEndpoint.objects.filter(is_active=True).filter(
        Q(owner=user) | Q(team_id__in=team_ids)
    )


def _clean_preference(data: dict[str, Any], *, allowed_hooks) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(PREFERENCE_FIELDS)
    for key in unknown:
        errors[key] = [_("Unknown field.")]
    if (
        data.get("webhook_id") is not None
        and not allowed_hooks.filter(pk=data["webhook_id"]).exists()
    ):
        errors["webhook_id"] = [_("Unknown chat webhook id %(id)s.") % {"id": data["webhook_id"]}]
    if (data.get("quiet_start") is None) != (data.get("quiet_end") is None) and (
        "quiet_start" in data or "quiet_end" in data
    ):
        errors["quiet_end"] = [_("Give both the start and the end of the quiet hours, or neither.")]
    kinds = data.get("muted_kinds")
    if kinds is not None:
        bad = [k for k in kinds if k not in NotificationKind.values]
        if bad:
            errors["muted_kinds"] = [
                _("Unknown kinds: %(kinds)s.") % {"kinds": ", ".join(map(str, bad))}
            ]
    if errors:
        raise FieldErrors(errors)
    return data


@transaction.atomic
def preference_update(*, user: User, data: dict[str, Any]) -> NotificationPreference:
    """Set the calling person's own preferences (fields left out keep their value)."""
    data = _clean_preference(dict(data), allowed_hooks=usable_webhooks(user=user))
    pref, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    for key, value in data.items():
        setattr(pref, key, value if key != "muted_kinds" else list(value or []))
    pref.save()
    return pref


@transaction.atomic
def team_preference_update(
    *, user: User, team: Team, data: dict[str, Any]
) -> NotificationPreference:
    """A team's default for its members; its leads (and admin) may set it."""
    if not _may_manage_team(user, team):
        raise Forbidden(_("Only the team's leads may change its notification defaults."))
    team_ids = [int(x) for x in team.path.strip("/").split("/") if x]
    hooks = WebhookEndpoint.objects.filter(is_active=True, team_id__in=team_ids)
    data = _clean_preference(dict(data), allowed_hooks=hooks)
    pref, _created = NotificationPreference.objects.select_for_update().get_or_create(team=team)
    for key, value in data.items():
        setattr(pref, key, value if key != "muted_kinds" else list(value or []))
    pref.save()
    return pref


WEBHOOK_FIELDS = ("name", "kind", "url", "secret", "team_id", "owner_id", "is_active")


def _check_webhook_owner(user: User, team_id: int | None, owner_id: int | None) -> None:
    if (team_id is None) == (owner_id is None):
        raise FieldErrors({"team_id": [_("A chat webhook belongs to one team or to one person.")]})
    if owner_id is not None:
        if owner_id != user.pk and not (user.is_superuser or user.is_admin_role):
            raise Forbidden(_("You may only add chat webhooks for yourself."))
        if not User.objects.filter(pk=owner_id, is_active=True).exists():
            raise FieldErrors({"owner_id": [_("Unknown user id %(id)s.") % {"id": owner_id}]})
        return
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise FieldErrors({"team_id": [_("Unknown team id %(id)s.") % {"id": team_id}]})
    if not _may_manage_team(user, team):
        raise Forbidden(_("Only the team's leads may add its chat webhooks."))


@transaction.atomic
def webhook_create(*, user: User, data: dict[str, Any]) -> WebhookEndpoint:
    from salesloop.core.records import validate

    data = {k: v for k, v in data.items() if k in WEBHOOK_FIELDS}
    _check_webhook_owner(user, data.get("team_id"), data.get("owner_id"))
    endpoint = WebhookEndpoint(**data)
    validate(endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_update(
    *, user: User, endpoint: WebhookEndpoint, data: dict[str, Any]
) -> WebhookEndpoint:
    from salesloop.core.records import validate

    _check_webhook_owner(user, endpoint.team_id, endpoint.owner_id)
    data = {k: v for k, v in data.items() if k in WEBHOOK_FIELDS}
    for key, value in data.items():
        setattr(endpoint, key, value)
    _check_webhook_owner(user, endpoint.team_id, endpoint.owner_id)
    validate(endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_delete(*, user: User, endpoint: WebhookEndpoint) -> None:
    _check_webhook_owner(user, endpoint.team_id, endpoint.owner_id)
    endpoint.delete()


def webhook_test(*, user: User, endpoint: WebhookEndpoint) -> None:
    """Send a test message now (not queued): the person setting it up sees the answer at once."""
    _check_webhook_owner(user, endpoint.team_id, endpoint.owner_id)
    channels.send_webhook(
        endpoint,
        channels.Message(
            title=_("Salesloop test message"),
            text=_("If you can read this, notifications reach this chat."),
            url="",
            language=user.language,
        ),
    )
