"""The log of imports: who imported what, when, with what result (admin-visible)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import TimeStamped


class ImportOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    INVALID = "invalid", _("Rows with errors")
    REJECTED = "rejected", _("File rejected")
    FORBIDDEN = "forbidden", _("Not permitted")


class ImportRun(TimeStamped):
    """One attempt to import a file, dry run or not, kept whatever the outcome.

    Why keep failures too: "I imported it yesterday and it said it worked" is answered by this
    table; a run that wrote nothing is as important to see as one that did. ``errors`` holds
    the same list the importer saw (row, column, message), in the language they used.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="import_runs",
    )
    entity = models.CharField(_("entity"), max_length=20, db_index=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), default=0)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    file_format = models.CharField(_("file format"), max_length=20, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    via = models.CharField(_("via"), max_length=10, default="api", help_text=_("api or cli"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=ImportOutcome.choices)
    rows = models.PositiveIntegerField(_("data rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(_("error list"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.file_name} ({self.get_outcome_display()})"
