from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustopsConfig(AppConfig):
    """Customer operations (issue #6): segments, cadence, SOP, key accounts, churn, needs."""

    name = "salesloop.custops"
    label = "custops"
    verbose_name = _("Customer operations")

    def ready(self) -> None:
        # Cadence and win-back tasks run through the automation rule engine: give it our
        # triggers and the daily recompute job (the rules and the schedule are data).
        from salesloop.custops import tasks, triggers

        triggers.register()
        tasks.register()
