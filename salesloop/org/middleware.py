"""Remember each user's interface language across devices.

On login the user's saved language is put in the session (``web.signals``); this middleware runs
before Django's ``LocaleMiddleware`` and offers it as the language cookie when the browser has none.
"""

from django.conf import settings


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        lang = request.session.get("user_language")
        if lang in dict(settings.LANGUAGES) and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = lang
        return self.get_response(request)
