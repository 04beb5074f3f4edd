"""Opportunity scoring (issue #7 §5): the settings, every training run, and each open deal's score.

Why three tables: the settings are data an admin may change (every number has the seed-sensible
default here, never a constant in code); a training run is kept whether it produced a model or
not, so the page can say "too few closed deals" with the counts that made it refuse and the
history shows how the model's quality moved; a score points at the run that produced it, so a
probability can always be traced to the model, its metrics and its cut-off date.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import SingleRow, TimeStamped, Versioned


class CalibrationMethod(models.TextChoices):
    SIGMOID = "sigmoid", _("Sigmoid (Platt)")
    ISOTONIC = "isotonic", _("Isotonic")


class Algorithm(models.TextChoices):
    LOGISTIC = "logistic", _("Logistic regression")
    BASELINE = "naive_bayes", _("Frequency naive Bayes (baseline)")


class ScoringSettings(SingleRow, Versioned):
    """The numbers behind training; one row (``ScoringSettings.current()``)."""

    min_closed_deals = models.PositiveIntegerField(
        _("minimum closed deals to train"),
        default=200,
        validators=[MinValueValidator(10)],
        help_text=_("With fewer closed deals the model is not trained and the baseline is shown instead."),
    )
    min_per_class = models.PositiveIntegerField(
        _("minimum won and lost deals each"),
        default=30,
        validators=[MinValueValidator(2)],
    )
    validation_share = models.DecimalField(
        _("out-of-time validation share"),
        max_digits=4,
        decimal_places=2,
        default="0.25",
        validators=[MinValueValidator(0.05), MaxValueValidator(0.6)],
        help_text=_("The most recently closed share of deals is held out to validate the model."),
    )
    retrain_enabled = models.BooleanField(_("retrain on schedule"), default=True)
    retrain_every_days = models.PositiveSmallIntegerField(
        _("retrain every (days)"), default=1, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    calibration = models.CharField(
        _("calibration method"), max_length=10, choices=CalibrationMethod.choices, default=CalibrationMethod.SIGMOID
    )
    calibration_bins = models.PositiveSmallIntegerField(
        _("reliability-curve bins"), default=10, validators=[MinValueValidator(3), MaxValueValidator(50)]
    )
    reasons_shown = models.PositiveSmallIntegerField(
        _("reasons shown per deal"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    max_auc_drop = models.DecimalField(
        _("largest AUC shortfall against the baseline to still activate"),
        max_digits=4,
        decimal_places=3,
        default="0.000",
        validators=[MinValueValidator(0), MaxValueValidator(0.5)],
        help_text=_("A new model whose validation AUC is below the baseline's by more than this stays inactive."),
    )
    regularisation = models.DecimalField(
        _("inverse regularisation strength (C)"),
        max_digits=8,
        decimal_places=4,
        default="1.0000",
        validators=[MinValueValidator(0.0001)],
    )
    smoothing = models.DecimalField(
        _("baseline smoothing count"),
        max_digits=6,
        decimal_places=3,
        default="0.100",
        validators=[MinValueValidator(0.001)],
        help_text=_("Added to every won and lost count of the frequency baseline (0.1 as in Odoo)."),
    )

    class Meta:
        verbose_name = _("scoring settings")
        verbose_name_plural = _("scoring settings")

    def __str__(self) -> str:
        return str(_("Scoring settings"))


class ModelStatus(models.TextChoices):
    TRAINED = "trained", _("Trained")
    TOO_FEW = "too_few", _("Too few closed deals")
    REJECTED = "rejected", _("Not better than the baseline")
    FAILED = "failed", _("Failed")


class ScoringModel(TimeStamped):
    """One training run. Metrics are measured on the out-of-time validation set."""

    trained_at = models.DateTimeField(_("trained at"), db_index=True)
    cutoff = models.DateTimeField(_("validation cut-off"), null=True, blank=True)
    algorithm = models.CharField(_("algorithm"), max_length=16, choices=Algorithm.choices)
    status = models.CharField(_("status"), max_length=10, choices=ModelStatus.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    n_closed = models.PositiveIntegerField(_("closed deals"), default=0)
    n_won = models.PositiveIntegerField(_("won deals"), default=0)
    n_train = models.PositiveIntegerField(_("training deals"), default=0)
    n_validation = models.PositiveIntegerField(_("validation deals"), default=0)
    auc = models.FloatField(_("AUC"), null=True, blank=True)
    brier = models.FloatField(_("Brier score"), null=True, blank=True)
    log_loss = models.FloatField(_("log loss"), null=True, blank=True)
    baseline_auc = models.FloatField(_("baseline AUC"), null=True, blank=True)
    baseline_brier = models.FloatField(_("baseline Brier score"), null=True, blank=True)
    baseline_log_loss = models.FloatField(_("baseline log loss"), null=True, blank=True)
    validation_win_rate = models.FloatField(_("validation win rate"), null=True, blank=True)
    mean_predicted = models.FloatField(_("mean predicted probability"), null=True, blank=True)
    reliability = models.JSONField(_("reliability curve"), default=dict, blank=True)
    features = models.JSONField(_("features"), default=list, blank=True)
    settings_used = models.JSONField(_("settings used"), default=dict, blank=True)
    estimator = models.BinaryField(_("fitted model"), null=True, blank=True, editable=False)
    baseline = models.JSONField(_("baseline frequency table"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False, db_index=True)
    scored = models.PositiveIntegerField(_("open deals scored"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = _("scoring model")
        verbose_name_plural = _("scoring models")

    def __str__(self) -> str:
        return f"{self.get_algorithm_display()} {self.trained_at:%Y-%m-%d %H:%M}"


class OpportunityScore(models.Model):
    """The latest score of a deal (one row per deal, replaced by each scoring)."""

    opportunity = models.OneToOneField(
        "pipeline.Opportunity", verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="score"
    )
    model = models.ForeignKey(
        ScoringModel,
        verbose_name=_("model"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scores",
    )
    scored_at = models.DateTimeField(_("scored at"))
    probability = models.FloatField(_("win probability"))
    baseline_probability = models.FloatField(_("baseline win probability"), null=True, blank=True)
    from_baseline = models.BooleanField(
        _("from the baseline"), default=False, help_text=_("No trained model was available.")
    )
    reasons = models.JSONField(_("top reasons"), default=list, blank=True)

    class Meta:
        ordering = ["-probability", "opportunity_id"]
        verbose_name = _("opportunity score")
        verbose_name_plural = _("opportunity scores")

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.probability:.2f}"
