from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "salesloop.org"
    label = "org"
