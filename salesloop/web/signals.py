"""Remember the user's interface language in the session at login (see ``org.middleware``)."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="web.remember_language")
def remember_language(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if user.language in dict(settings.LANGUAGES):
        request.session["user_language"] = user.language
