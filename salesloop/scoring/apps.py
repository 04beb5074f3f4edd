from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    """Opportunity scoring: a calibrated win-probability model with reasons (issue #7 §5)."""

    name = "salesloop.scoring"
    label = "scoring"
    verbose_name = _("Opportunity scoring")

    def ready(self) -> None:
        from salesloop.scoring import tasks

        tasks.register()
