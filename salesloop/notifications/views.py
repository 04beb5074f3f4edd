"""The notification centre, the header badge, and notification preferences with chat webhooks."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.notifications import selectors, services
from salesloop.notifications.channels import DeliveryError
from salesloop.notifications.models import (
    Notification,
    NotificationKind,
    WebhookEndpoint,
    WebhookKind,
)

UNPROCESSABLE = 422


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": selectors.unread_count(user=request.user),
        },
    )


@require_GET
@login_required
def badge(request: HttpRequest) -> HttpResponse:
    """The header's unread count, refreshed by htmx every minute."""
    return render(
        request, "notifications/_badge.html", {"unread": selectors.unread_count(user=request.user)}
    )


@require_POST
@login_required
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    if request.htmx:
        return render(request, "notifications/_item.html", {"n": notification})
    if notification.url and request.POST.get("open"):
        return redirect(notification.url)
    return redirect("notifications:list")


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("notifications:list")


class PreferenceForm(forms.Form):
    email = forms.BooleanField(
        label=gettext_lazy("Send me notifications by e-mail"), required=False
    )
    chat = forms.BooleanField(label=gettext_lazy("Send me notifications by chat"), required=False)
    webhook_id = forms.TypedChoiceField(
        label=gettext_lazy("Chat"), required=False, coerce=int, empty_value=None
    )
    quiet_start = forms.TimeField(
        label=gettext_lazy("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    quiet_end = forms.TimeField(
        label=gettext_lazy("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    muted_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Only in the app for"),
        required=False,
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, hooks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["webhook_id"].choices = [("", "—"), *[(h.pk, str(h)) for h in hooks]]


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=gettext_lazy("webhook URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "kind", "url", "secret"]
        widgets = {"secret": forms.PasswordInput(render_value=True)}


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    hooks = list(services.usable_webhooks(user=user))
    pref = selectors.preference_for(user=user)
    status = 200
    initial = {
        "email": pref.email if pref and pref.email is not None else True,
        "chat": bool(pref and pref.chat),
        "webhook_id": pref.webhook_id if pref else None,
        "quiet_start": pref.quiet_start if pref else None,
        "quiet_end": pref.quiet_end if pref else None,
        "muted_kinds": pref.muted_kinds if pref else [],
    }
    form = PreferenceForm(initial=initial, hooks=hooks)
    hook_form = WebhookForm()
    if request.method == "POST" and request.POST.get("action") == "add_webhook":
        hook_form = WebhookForm(request.POST)
        if hook_form.is_valid():
            try:
                services.webhook_create(
                    user=user, data={**hook_form.cleaned_data, "owner_id": user.pk}
                )
            except FieldErrors as exc:
                for key, errs in exc.errors.items():
                    for err in errs:
                        hook_form.add_error(key if key in hook_form.fields else None, err)
                status = UNPROCESSABLE
            else:
                messages.success(
                    request, _("Chat webhook added. Choose it below and send a test message.")
                )
                return redirect("notifications:preferences")
        else:
            status = UNPROCESSABLE
    elif request.method == "POST":
        form = PreferenceForm(request.POST, hooks=hooks)
        if form.is_valid():
            try:
                services.preference_update(user=user, data=form.cleaned_data)
            except FieldErrors as exc:
                for key, errs in exc.errors.items():
                    for err in errs:
                        form.add_error(key if key in form.fields else None, err)
                status = UNPROCESSABLE
            else:
                messages.success(request, _("Preferences saved."))
                return redirect("notifications:preferences")
        else:
            status = UNPROCESSABLE
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "hook_form": hook_form,
            "webhooks": selectors.webhooks_visible(user=user),
            "kinds": WebhookKind.choices,
        },
        status=status,
    )


@require_POST
@login_required
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(selectors.webhooks_visible(user=request.user), pk=pk)
    try:
        services.webhook_test(user=request.user, endpoint=endpoint)
    except Forbidden as exc:
        raise PermissionDenied from exc
    except DeliveryError as exc:
        messages.error(
            request, _("The chat did not accept the test message: %(error)s") % {"error": exc}
        )
    else:
        messages.success(request, _("Test message sent to %(name)s.") % {"name": endpoint.name})
    return redirect("notifications:preferences")


@require_POST
@login_required
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(selectors.webhooks_visible(user=request.user), pk=pk)
    try:
        services.webhook_delete(user=request.user, endpoint=endpoint)
    except Forbidden as exc:
        raise PermissionDenied from exc
    messages.success(request, _("Chat webhook removed."))
    return redirect("notifications:preferences")
