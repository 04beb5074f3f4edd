"""REST API for the notification centre, preferences and chat webhooks."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from salesloop.core.errors import Forbidden
from salesloop.core.schemas import DbId, ErrorOut, Text
from salesloop.notifications import selectors, services
from salesloop.notifications.channels import DeliveryError
from salesloop.notifications.models import NotificationKind, WebhookKind
from salesloop.org.models import Team

router = Router(tags=["notifications"])

MAX_PAGE_SIZE = 200


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    count: int
    unread: int
    page: int
    page_size: int
    items: list[NotificationOut]


@router.get("", response=NotificationPage, operation_id="notifications_list")
def notification_list(
    request: HttpRequest,
    unread: bool = False,
    kind: NotificationKind | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
):
    """One's own notifications, newest first."""
    qs = selectors.notification_list(user=request.auth, unread_only=unread, kind=kind)
    start = (page - 1) * page_size
    return {
        "count": qs.count(),
        "unread": selectors.unread_count(user=request.auth),
        "page": page,
        "page_size": page_size,
        "items": list(qs[start : start + page_size]),
    }


class UnreadOut(Schema):
    unread: int


@router.get("/unread-count", response=UnreadOut, operation_id="notifications_unread_count")
def unread_count(request: HttpRequest):
    return {"unread": selectors.unread_count(user=request.auth)}


@router.post(
    "/{int:notification_id}/read", response=NotificationOut, operation_id="notifications_mark_read"
)
def mark_read(request: HttpRequest, notification_id: int):
    return services.notification_mark_read(user=request.auth, notification_id=notification_id)


class MarkedOut(Schema):
    marked: int


@router.post("/read-all", response=MarkedOut, operation_id="notifications_mark_all_read")
def mark_all_read(request: HttpRequest):
    return {"marked": services.notifications_mark_all_read(user=request.auth)}


# Preferences -------------------------------------------------------------------------------


class PreferenceIn(Schema):
    email: bool | None = None
    chat: bool | None = None
    webhook_id: DbId | None = None
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None
    muted_kinds: list[NotificationKind] | None = None


class PreferenceOut(Schema):
    email: bool | None
    chat: bool | None
    webhook_id: int | None
    quiet_start: dt.time | None
    quiet_end: dt.time | None
    muted_kinds: list[str]


_EMPTY_PREFERENCE = {
    "email": None,
    "chat": None,
    "webhook_id": None,
    "quiet_start": None,
    "quiet_end": None,
    "muted_kinds": [],
}


@router.get("/preferences", response=PreferenceOut, operation_id="notifications_preferences_get")
def preferences_get(request: HttpRequest):
    """One's own settings (empty = inherited from the team, else the default)."""
    return selectors.preference_for(user=request.auth) or _EMPTY_PREFERENCE


@router.put(
    "/preferences",
    response={200: PreferenceOut, 422: ErrorOut},
    operation_id="notifications_preferences_set",
)
def preferences_set(request: HttpRequest, payload: PreferenceIn):
    return services.preference_update(
        user=request.auth, data=payload.model_dump(exclude_unset=True)
    )


@router.put(
    "/team-preferences/{int:team_id}",
    response={200: PreferenceOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="notifications_team_preferences_set",
)
def team_preferences_set(request: HttpRequest, team_id: int, payload: PreferenceIn):
    """A team's defaults for its members (its leads and admin)."""
    team = get_object_or_404(Team, pk=team_id)
    return services.team_preference_update(
        user=request.auth, team=team, data=payload.model_dump(exclude_unset=True)
    )


# Chat webhooks -----------------------------------------------------------------------------


class WebhookOut(Schema):
    id: int
    name: str
    kind: str
    url: str
    has_secret: bool
    team_id: int | None
    owner_id: int | None
    is_active: bool

    @staticmethod
    def resolve_has_secret(obj) -> bool:
        return bool(obj.secret)


class WebhookIn(Schema):
    name: Text = Field(..., min_length=1, max_length=80)
    kind: WebhookKind
    url: Text = Field(..., max_length=500)
    secret: Text = Field("", max_length=200)
    team_id: DbId | None = None
    owner_id: DbId | None = None
    is_active: bool = True


class WebhookPatch(Schema):
    name: Text | None = Field(None, min_length=1, max_length=80)
    url: Text | None = Field(None, max_length=500)
    secret: Text | None = Field(None, max_length=200)
    is_active: bool | None = None


@router.get("/webhooks", response=list[WebhookOut], operation_id="notifications_webhooks_list")
def webhooks_list(request: HttpRequest):
    """Chat webhooks one manages: one's own, one's teams' (leads), all (admin); secrets hidden."""
    return list(selectors.webhooks_visible(user=request.auth))


@router.post(
    "/webhooks",
    response={201: WebhookOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="notifications_webhooks_create",
)
def webhooks_create(request: HttpRequest, payload: WebhookIn):
    data = payload.model_dump()
    if data["team_id"] is None and data["owner_id"] is None:
        data["owner_id"] = request.auth.pk
    return Status(201, services.webhook_create(user=request.auth, data=data))


@router.patch(
    "/webhooks/{int:webhook_id}",
    response={200: WebhookOut, 403: ErrorOut, 422: ErrorOut},
    operation_id="notifications_webhooks_update",
)
def webhooks_update(request: HttpRequest, webhook_id: int, payload: WebhookPatch):
    endpoint = get_object_or_404(selectors.webhooks_visible(user=request.auth), pk=webhook_id)
    return services.webhook_update(
        user=request.auth, endpoint=endpoint, data=payload.model_dump(exclude_unset=True)
    )


@router.delete(
    "/webhooks/{int:webhook_id}",
    response={204: None, 403: ErrorOut},
    operation_id="notifications_webhooks_delete",
)
def webhooks_delete(request: HttpRequest, webhook_id: int):
    endpoint = get_object_or_404(selectors.webhooks_visible(user=request.auth), pk=webhook_id)
    services.webhook_delete(user=request.auth, endpoint=endpoint)
    return Status(204, None)


class TestOut(Schema):
    ok: bool
    error: str = ""


@router.post(
    "/webhooks/{int:webhook_id}/test",
    response={200: TestOut, 403: ErrorOut, 502: TestOut},
    operation_id="notifications_webhooks_test",
)
def webhooks_test(request: HttpRequest, webhook_id: int):
    """Send a test message now; 502 with the platform's answer when it refuses."""
    endpoint = get_object_or_404(selectors.webhooks_visible(user=request.auth), pk=webhook_id)
    try:
        services.webhook_test(user=request.auth, endpoint=endpoint)
    except DeliveryError as exc:
        return Status(502, {"ok": False, "error": str(exc)})
    except Forbidden:
        raise
    return {"ok": True, "error": ""}
