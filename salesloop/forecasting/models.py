"""What forecasting keeps: each deal's forecast category, reps' submitted numbers with each
manager's adjustment stored apart, weekly snapshots of every method, and the settings.

Seed 001 (销售预测技巧): four ways to call a period — history with seasonality, the weighted
pipeline, the reps' own commit, and a combination — and a forecast is only as good as its record,
so every method's number is snapshotted weekly and scored against the actual once the period ends.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import CurrencyField, MoneyField, SingleRow, TimeStamped, Versioned


class Category(models.TextChoices):
    """Forecast categories as in Salesforce's collaborative forecasts: cumulative roll-ups are
    closed ⊂ commit ⊂ best case ⊂ pipeline; omitted never counts, nor does a lost deal."""

    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    OMITTED = "omitted", _("Omitted")
    CLOSED = "closed", _("Closed")


class Method(models.TextChoices):
    TIME_SERIES = "time_series", _("Time series (Holt-Winters)")
    SEASONAL_NAIVE = "seasonal_naive", _("Seasonal naive (baseline)")
    PIPELINE = "pipeline", _("Weighted pipeline")
    COMMIT = "commit", _("Rep commit roll-up")
    COMBINED = "combined", _("Combined")


class PeriodKind(models.TextChoices):
    """The periods a forecast is made for: fiscal months and fiscal quarters."""

    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class ScopeKind(models.TextChoices):
    COMPANY = "company", _("Company")
    TEAM = "team", _("Team")
    REP = "rep", _("Rep")


class DealCategory(Versioned):
    """The category a rep put one open deal in. Deals without a row fall in ``PIPELINE``;
    won deals count as ``CLOSED`` and lost deals never count, whatever the row says."""

    opportunity = models.OneToOneField(
        "pipeline.Opportunity", verbose_name=_("opportunity"), on_delete=models.CASCADE,
        related_name="forecast_category",
    )
    category = models.CharField(_("forecast category"), max_length=10, choices=Category.choices)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("deal forecast category")
        verbose_name_plural = _("deal forecast categories")

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.category}"


class Submission(TimeStamped):
    """A rep's (or a lead's own-book) call for one period: the number they submit plus the
    category roll-ups at the moment of submission. A resubmission adds a row; the latest counts."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="forecast_submissions"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount = MoneyField(_("submitted forecast"))
    currency = CurrencyField()
    closed_amount = MoneyField(_("closed"), default=Decimal("0"))
    commit_amount = MoneyField(_("commit (incl. closed)"), default=Decimal("0"))
    best_case_amount = MoneyField(_("best case (incl. commit)"), default=Decimal("0"))
    pipeline_amount = MoneyField(_("pipeline (incl. best case)"), default=Decimal("0"))
    note = models.TextField(_("note"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("forecast submission")
        verbose_name_plural = _("forecast submissions")
        indexes = [models.Index(fields=["owner", "period_start", "period_end", "submitted_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="forecast_sub_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.period_start}..{self.period_end}: {self.amount}"


class Adjustment(TimeStamped):
    """A lead's or manager's change to a submission, kept beside the owner's number, never over it.

    ``amount`` is the adjusted forecast for the submission's owner as that manager sees it; the
    roll-up for a manager uses the adjustment of the nearest manager at or below them.
    """

    submission = models.ForeignKey(
        Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="adjustments"
    )
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("adjusted by"), on_delete=models.CASCADE, related_name="+"
    )
    amount = MoneyField(_("adjusted forecast"))
    currency = CurrencyField()
    reason = models.TextField(_("reason"))
    adjusted_at = models.DateTimeField(_("adjusted at"))

    class Meta:
        ordering = ["-adjusted_at", "-id"]
        verbose_name = _("forecast adjustment")
        verbose_name_plural = _("forecast adjustments")
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="forecast_adj_reason_required")
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} by {self.adjusted_by_id}: {self.amount}"


class Snapshot(models.Model):
    """One method's forecast for one scope and period, as it stood on ``taken_on`` (weekly).

    ``actual`` is filled in when the period has closed, so accuracy (MAPE, bias) is a query over
    these rows. Unique per (scope, period, method, day): re-running the weekly job is harmless.
    """

    taken_on = models.DateField(_("taken on"), db_index=True)
    scope_kind = models.CharField(_("scope"), max_length=8, choices=ScopeKind.choices)
    scope_id = models.PositiveBigIntegerField(_("scope id"), null=True, blank=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    period_kind = models.CharField(_("period kind"), max_length=8, choices=PeriodKind.choices, default="month")
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    amount = MoneyField(_("forecast"), allow_negative=True)
    currency = CurrencyField()
    actual = MoneyField(_("actual"), null=True, blank=True, default=None)

    class Meta:
        ordering = ["-taken_on", "scope_kind", "scope_id", "method"]
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["scope_kind", "scope_id", "period_start", "period_end", "method", "taken_on"],
                name="forecast_snapshot_unique",
            )
        ]
        indexes = [models.Index(fields=["period_end", "method"])]

    def __str__(self) -> str:
        return f"{self.taken_on} {self.scope_kind}:{self.scope_id} {self.method} = {self.amount}"


class ForecastSettings(SingleRow, TimeStamped):
    """Forecasting numbers as data (one row, ``ForecastSettings.current()``).

    ``season_length`` in months (12: yearly seasonality); ``history_months`` how far back the time
    series reads; ``weight_*`` the combined forecast's weights (normalised over the methods that
    have a number; all zero → equal weights); ``snapshot_weekday`` 0 = Monday;
    ``combine_by_accuracy`` switches the combined forecast to weights ∝ 1/MAPE once at least two
    methods have ``accuracy_min_periods`` closed periods scored;
    ``accuracy_lead_days`` is the horizon accuracy is measured at (0: the last snapshot taken on or
    before the first day of the period).
    """

    season_length = models.PositiveSmallIntegerField(_("season length (months)"), default=12)
    history_months = models.PositiveSmallIntegerField(_("history (months)"), default=36)
    weight_time_series = models.DecimalField(_("weight: time series"), max_digits=4, decimal_places=3,
                                             default=Decimal("0.25"), validators=[MinValueValidator(Decimal(0))])
    weight_pipeline = models.DecimalField(_("weight: weighted pipeline"), max_digits=4, decimal_places=3,
                                          default=Decimal("0.25"), validators=[MinValueValidator(Decimal(0))])
    weight_commit = models.DecimalField(_("weight: rep commit"), max_digits=4, decimal_places=3,
                                        default=Decimal("0.50"), validators=[MinValueValidator(Decimal(0))])
    snapshot_weekday = models.PositiveSmallIntegerField(
        _("snapshot weekday"), default=0, validators=[MaxValueValidator(6)]
    )
    combine_by_accuracy = models.BooleanField(
        _("combine by past accuracy"),
        default=True,
        help_text=_("Weight the combined forecast by 1/MAPE of each method when there is a track record."),
    )
    accuracy_min_periods = models.PositiveSmallIntegerField(
        _("closed periods needed for a track record"), default=3, validators=[MinValueValidator(1)]
    )
    accuracy_lead_days = models.PositiveSmallIntegerField(
        _("accuracy horizon (days before the period starts)"),
        default=0,
        help_text=_("Accuracy scores the last snapshot taken this many days or more before the period starts."),
    )

    class Meta:
        verbose_name = _("forecast settings")
        verbose_name_plural = _("forecast settings")

    def __str__(self) -> str:
        return str(_("Forecast settings"))
