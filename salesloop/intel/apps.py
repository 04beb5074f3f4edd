from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelConfig(AppConfig):
    """Pipeline intelligence (issue #7): funnel review, lead routing, analytics views."""

    name = "salesloop.intel"
    label = "intel"
    verbose_name = _("Pipeline intelligence")
