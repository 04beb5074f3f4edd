"""The REST API root: authentication, uniform JSON errors, and every app's routers."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.org.models import ApiToken

_TOUCH_EVERY = timezone.timedelta(minutes=5)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` for API clients (tokens from ``POST /api/auth/token``)."""

    def authenticate(self, request: HttpRequest, token: str):
        row = (
            ApiToken.objects.select_related("user__team")
            .filter(key_hash=ApiToken.hash_key(token), revoked=False, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


class BrowserSession(SessionAuth):
    """The browser's session cookie; unsafe methods need the CSRF token, as on any form."""

    def _get_key(self, request: HttpRequest):
        # No logged-in session: nothing for CSRF to protect. Answer 401 (e.g. a revoked bearer
        # token on a POST) rather than a misleading "CSRF check failed" 403.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


api = NinjaAPI(
    title="Salesloop API",
    version="1.0",
    description="Sales management on a real CRM. Money is a decimal string with a currency; times are ISO 8601 with offset.",
    auth=[TokenAuth(), BrowserSession()],
    urls_namespace="api",
)


def _loc_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "filters", "path")]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        errors.setdefault(_loc_name(err.get("loc", ())), []).append(err.get("msg", _("Invalid value.")))
    return api.create_response(request, {"message": _("Invalid input."), "errors": errors}, status=422)


@api.exception_handler(FieldErrors)
def on_field_errors(request, exc: FieldErrors):
    return api.create_response(request, {"message": str(exc), "errors": exc.errors}, status=422)


@api.exception_handler(Conflict)
def on_conflict(request, exc: Conflict):
    from salesloop.api_registry import serialize_current

    return api.create_response(
        request,
        {
            "message": _("This record was changed by someone else; reload and apply your change again."),
            "current": serialize_current(exc.current),
        },
        status=409,
    )


@api.exception_handler(Forbidden)
@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return api.create_response(request, {"message": str(exc) or _("You may not do this."), "errors": {}}, status=403)


@api.exception_handler(Http404)
@api.exception_handler(ObjectDoesNotExist)
def on_not_found(request, exc):
    return api.create_response(request, {"message": _("Not found."), "errors": {}}, status=404)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return api.create_response(request, {"message": _("The request is too large."), "errors": {}}, status=413)


@api.exception_handler(ProtectedError)
def on_protected(request, exc):
    return api.create_response(
        request,
        {"message": _("This record is still used by other records and cannot be deleted."), "errors": {}},
        status=409,
    )


@api.exception_handler(IntegrityError)
def on_integrity(request, exc):
    return api.create_response(
        request,
        {"message": _("This change conflicts with existing data (a duplicate or a broken link)."), "errors": {}},
        status=409,
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, {"message": _("Log in or send a valid API token."), "errors": {}}, status=401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return api.create_response(request, {"message": str(exc), "errors": {}}, status=exc.status_code)


from salesloop import api_registry  # noqa: E402  (routers import the api's error types)

api_registry.register(api)
