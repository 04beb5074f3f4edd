"""Opportunities moving through a configurable list of stages, with every move logged."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import CurrencyField, MoneyField, TimeStamped, Versioned


class Stage(TimeStamped):
    """One stage of the sales process. The list is data: an admin may rename, add or reorder.

    Defaults (seed 000 §四.1): lead → qualified → proposal → negotiation → won → paid, and lost.
    """

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("order"))
    probability = models.DecimalField(
        _("default probability %"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    is_won = models.BooleanField(_("counts as won"), default=False)
    is_lost = models.BooleanField(_("counts as lost"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class LossReason(TimeStamped):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")

    def __str__(self) -> str:
        return self.name


class Opportunity(Versioned):
    name = models.CharField(_("name"), max_length=200, db_index=True)
    external_id = models.CharField(_("external ID"), max_length=64, null=True, blank=True, unique=True)
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="opportunities"
    )
    lead = models.ForeignKey(
        "customers.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    amount = MoneyField(_("amount"))
    currency = CurrencyField()
    stage = models.ForeignKey(
        "pipeline.Stage", verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage_entered_at = models.DateTimeField(_("in stage since"), null=True, blank=True)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True, db_index=True)
    probability = models.DecimalField(
        _("probability %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("Leave empty to use the stage's default."),
    )
    decision_maker = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("decision maker"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    competitors = models.CharField(_("competitors"), max_length=200, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    loss_reason = models.ForeignKey(
        "pipeline.LossReason",
        verbose_name=_("loss reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    loss_note = models.CharField(_("loss note"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [models.Index(fields=["owner", "stage"]), models.Index(fields=["stage", "expected_close_date"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError
        from django.utils import timezone

        # Dates are the organisation's local calendar days: compare with the local day of creation
        # (the UTC date is a day behind in Asia/Shanghai every morning before 08:00).
        created = timezone.localdate(self.created_at) if self.created_at else timezone.localdate()
        if self.expected_close_date and self.expected_close_date < created:
            raise ValidationError(
                {"expected_close_date": _("The expected close date cannot be before the deal was created.")}
            )
        if self.decision_date and self.decision_date < created:
            raise ValidationError({"decision_date": _("The decision date cannot be before the deal was created.")})
        if self.stage_id and self.stage.is_lost and not self.loss_reason_id:
            raise ValidationError({"loss_reason_id": _("A lost deal needs a loss reason.")})

    @property
    def effective_probability(self) -> Decimal:
        return self.probability if self.probability is not None else self.stage.probability


class StageChange(models.Model):
    """One move of an opportunity between stages (the first row has ``from_stage`` empty)."""

    opportunity = models.ForeignKey(
        "pipeline.Opportunity", verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        "pipeline.Stage",
        verbose_name=_("from stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        "pipeline.Stage", verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    amount = MoneyField(_("amount at change"))

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["opportunity", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"
