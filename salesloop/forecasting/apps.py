from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastingConfig(AppConfig):
    """Forecasts for any scope and period, four methods side by side, and their tracked accuracy
    (issue #7 §4, seed 001 销售预测技巧)."""

    name = "salesloop.forecasting"
    label = "forecasting"
    verbose_name = _("Forecasting")

    def ready(self) -> None:
        from salesloop.forecasting import tasks

        tasks.register()
