from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The daily workspace: rep home, manager home and the pipeline board."""

    name = "salesloop.workspace"
    label = "workspace"
    verbose_name = _("Workspace")
