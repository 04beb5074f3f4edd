"""The calendar page (issue, show once, revoke) and the token-protected feed itself."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from salesloop.calendarfeed import services


@require_GET
@login_required
def page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "calendarfeed/page.html",
        {"token": services.active_token(user=request.user), "new_url": None},
    )


@require_POST
@login_required
def issue(request: HttpRequest) -> HttpResponse:
    token, key = services.token_issue(user=request.user)
    return render(
        request, "calendarfeed/page.html", {"token": token, "new_url": services.feed_url(key)}
    )


@require_POST
@login_required
def revoke(request: HttpRequest) -> HttpResponse:
    services.token_revoke(user=request.user)
    messages.success(request, _("The calendar link no longer works."))
    return redirect("calendarfeed:page")


@require_GET
def feed(request: HttpRequest, key: str) -> HttpResponse:
    """No session here: phone calendars fetch the URL directly; the token is the credential."""
    user = services.user_for_key(key)
    if user is None:
        raise Http404
    response = HttpResponse(
        services.feed_for(user=user), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="salesloop-tasks.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
