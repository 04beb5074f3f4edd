from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "salesloop.core"
    label = "core"
