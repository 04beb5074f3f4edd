"""A record of the demo data loaded into this database (size, seed, as-of date, what it took)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoDataset(models.Model):
    size = models.CharField(_("size"), max_length=4)
    seed = models.BigIntegerField(_("seed"))
    as_of = models.DateField(_("as of"), help_text=_("History ends the day before."))
    built_at = models.DateTimeField(_("built at"), auto_now_add=True)
    seconds = models.FloatField(_("seconds to build"))
    row_counts = models.JSONField(_("rows per model"), default=dict)

    class Meta:
        ordering = ["-built_at", "-id"]
        verbose_name = _("demo dataset")
        verbose_name_plural = _("demo datasets")

    def __str__(self) -> str:
        return f"{self.size} (seed {self.seed}, {self.as_of:%Y-%m-%d})"
