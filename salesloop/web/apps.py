from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "salesloop.web"
    label = "web"

    def ready(self) -> None:
        from salesloop.web import signals  # noqa: F401  (connects the login receivers)
