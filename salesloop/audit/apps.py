from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "salesloop.audit"
    label = "audit"
