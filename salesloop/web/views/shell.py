"""The shell around every page: login and logout, password, language, global search, alerts."""

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from salesloop.org import login_throttle as throttle
from salesloop.web import lookups, selectors


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form, refusing a username + address that failed too often (``throttle``)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": gettext_lazy(
            "Too many failed logins for this user from your address. "
            "Try again in %(minutes)s minutes."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = throttle.client_ip(self.request)
        locked = throttle.seconds_locked(username, ip)
        if locked:
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": max(1, -(-locked // 60))},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if username and self.cleaned_data.get("password"):
                throttle.record_failure(username, ip)
            raise
        throttle.reset(username, ip)
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    form_class = ThrottledLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # The saved language wins over whatever this device used before (remembered per user).
        language = form.get_user().language
        if language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


class LogoutView(auth_views.LogoutView):
    template_name = "registration/logged_out.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


class _LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)


@require_POST
@login_required
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: Django's ``set_language`` plus the user's saved choice."""
    form = _LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown language."))
    language = form.cleaned_data["language"]
    if request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    request.session["user_language"] = language
    return set_language(request)


@require_GET
@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Global search: a dropdown fragment for htmx, a full page otherwise."""
    query = request.GET.get("q", "")
    groups = selectors.global_search(user=request.user, query=query)
    context = {
        "query": query.strip(),
        "groups": groups,
        "too_short": 0 < len(query.strip()) < selectors.SEARCH_MIN_CHARS,
    }
    if request.htmx:
        return render(request, "web/partials/search_results.html", context)
    return render(request, "web/search.html", context)


@require_GET
@login_required
def task_alerts(request: HttpRequest) -> HttpResponse:
    """The header's dropdown: the user's overdue and due-today tasks."""
    context = {
        "alerts": selectors.task_alerts_for(user=request.user),
        "tasks": selectors.task_alert_list(user=request.user),
        "now": timezone.now(),
    }
    return render(request, "web/partials/task_alerts.html", context)


@require_GET
@login_required
def lookup(request: HttpRequest, key: str) -> HttpResponse:
    """``<option>`` rows for a form's search-as-you-type foreign key (see ``lookups``)."""
    if key not in lookups.LOOKUPS:
        raise Http404
    context = {
        "key": key,
        "options": lookups.lookup_options(
            key=key, user=request.user, query=request.GET.get("q", "")
        ),
        "optional": bool(request.GET.get("optional")),
    }
    return render(request, "web/partials/lookup_options.html", context)
