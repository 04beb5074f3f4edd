"""API for the organisation: people, teams, tokens, moving a book."""

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from salesloop.core.api_resources import Resource
from salesloop.core.errors import FieldErrors
from salesloop.core.schemas import DbId, Text
from salesloop.org import access, login_throttle, services
from salesloop.org.models import ApiToken, Team, User

USERS = Resource(
    path="users",
    model=User,
    read_fields=["username", "display_name", "email", "role", "team", "language", "is_active"],
    write_fields=["username", "display_name", "email", "role", "team", "language", "is_active"],
    filters={"q": (str, ["username__icontains", "display_name__icontains"]), "role": (str, "role"), "team_id": (int, "team_id")},
    sort_fields=["id", "username", "role"],
    default_sort="username",
    create=services.user_create,
    allow_delete=False,
)

TEAMS = Resource(
    path="teams",
    model=Team,
    read_fields=["name", "kind", "parent", "path", "lead", "region"],
    write_fields=["name", "kind", "parent", "lead", "region"],
    filters={"q": (str, "name__icontains"), "kind": (str, "kind"), "parent_id": (int, "parent_id")},
    sort_fields=["id", "name", "path"],
    default_sort="path",
    update=lambda pk, **kw: services.team_update(team_id=pk, **kw),
    allow_delete=False,
)

RESOURCES = [USERS, TEAMS]

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: Text = Field(..., max_length=150)
    password: Text = Field(..., max_length=4096)
    name: Text = Field("api", max_length=80)


class TokenOut(Schema):
    token: str
    name: str
    user_id: int


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    team_id: int | None
    language: str


@router.post("/auth/token", auth=None, response={201: TokenOut, 401: dict, 429: dict}, operation_id="auth_token")
def issue_token(request: HttpRequest, payload: TokenIn):
    """Exchange a username and password for a bearer token (shown once; store it safely).

    Throttled like the login page: too many failures for a username from one address lock it.
    """
    ip = login_throttle.client_ip(request)
    locked = login_throttle.seconds_locked(payload.username, ip)
    if locked:
        return Status(
            429,
            {"message": _("Too many failed attempts; try again in %(seconds)s seconds.") % {"seconds": locked}, "errors": {}},
        )
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        login_throttle.record_failure(payload.username, ip)
        return Status(401, {"message": _("Wrong username or password."), "errors": {}})
    login_throttle.reset(payload.username, ip)
    _token, key = ApiToken.issue(user=user, name=payload.name)
    return Status(201, {"token": key, "name": payload.name, "user_id": user.pk})


@router.get("/me", response=MeOut, operation_id="me")
def me(request: HttpRequest):
    return request.auth


class ReassignIn(Schema):
    from_user_id: DbId
    to_user_id: DbId


class ReassignOut(Schema):
    accounts: int
    leads: int
    opportunities: int
    activities: int
    open_tasks: int
    contracts: int


@router.post("/org/reassign-book", response={200: ReassignOut}, operation_id="org_reassign_book")
def reassign_book(request: HttpRequest, payload: ReassignIn):
    """Move a leaver's whole book to a colleague; history stays on each record."""
    people = access.restrict(User.objects.select_related("team"), request.auth, "read")
    from_user = people.filter(pk=payload.from_user_id).first()
    to_user = people.filter(pk=payload.to_user_id).first()
    errors = {}
    if from_user is None:
        errors["from_user_id"] = [_("Unknown user id %(id)s.") % {"id": payload.from_user_id}]
    if to_user is None:
        errors["to_user_id"] = [_("Unknown user id %(id)s.") % {"id": payload.to_user_id}]
    if errors:
        raise FieldErrors(errors)
    return services.book_reassign(from_user=from_user, to_user=to_user, by=request.auth).__dict__


__all__ = ["RESOURCES", "router", "get_object_or_404"]
