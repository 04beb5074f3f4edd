"""REST API for one's private calendar feed URL: status, issue (shown once), revoke."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status

from salesloop.calendarfeed import services

router = Router(tags=["calendar"])


class TokenStatusOut(Schema):
    active: bool
    prefix: str | None
    created_at: dt.datetime | None
    last_used_at: dt.datetime | None


class IssuedOut(Schema):
    url: str
    prefix: str


@router.get("/token", response=TokenStatusOut, operation_id="calendar_token_get")
def token_get(request: HttpRequest):
    token = services.active_token(user=request.auth)
    return {
        "active": token is not None,
        "prefix": token.prefix if token else None,
        "created_at": token.created_at if token else None,
        "last_used_at": token.last_used_at if token else None,
    }


@router.post("/token", response={201: IssuedOut}, operation_id="calendar_token_issue")
def token_issue(request: HttpRequest):
    """A new private feed URL (shown only in this answer); the previous one stops working."""
    token, key = services.token_issue(user=request.auth)
    return Status(201, {"url": services.feed_url(key), "prefix": token.prefix})


@router.delete("/token", response={204: None}, operation_id="calendar_token_revoke")
def token_revoke(request: HttpRequest):
    services.token_revoke(user=request.auth)
    return Status(204, None)
