"""Targets, credit splits, the numbers that drive tracking, bottleneck flags and evening reports.

Business numbers (pace thresholds, tier shares, seniority weights, detector thresholds, seasonal
profiles) are rows with the seeds' defaults (data migration ``0002_defaults``), editable by an
admin, never constants in code. The holiday calendar and the evening reports are the automation
app's (``automation.Holiday``, ``automation.EveningReport``); this app reads them.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import CurrencyField, SingleRow, TimeStamped, Versioned
from salesloop.targets.metrics import Metric
from salesloop.targets.periods import PeriodKind


class Tier(models.TextChoices):
    """Customer tiers of seed 000 §一.1 (high value 60% / potential 30% / new 10%)."""

    HIGH_VALUE = "high_value", _("High value")
    POTENTIAL = "potential", _("Potential")
    NEW = "new", _("New customers")


class TargetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class TargetSource(models.TextChoices):
    TOP_DOWN = "top_down", _("Set top-down")
    BOTTOM_UP = "bottom_up", _("Submitted bottom-up")
    DECOMPOSITION = "decomposition", _("Decomposed from a parent")


class SplitAxis(models.TextChoices):
    MEMBERS = "members", _("By team members / sub-teams")
    TIERS = "tiers", _("By customer tier")
    PERIODS = "periods", _("By period")


class Target(Versioned):
    """A number to reach: metric × period × scope (a team node or one rep) × optional tier.

    ``amount`` is money in ``currency`` for money metrics and a whole count otherwise. Children
    made by a decomposition point at their ``parent`` and always sum exactly to it.
    """

    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices, db_index=True)
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"), db_index=True)
    period_end = models.DateField(_("period end"))
    team = models.ForeignKey(
        "org.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="targets"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    tier = models.CharField(_("customer tier"), max_length=12, choices=Tier.choices, blank=True)
    amount = models.DecimalField(
        _("target"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    currency = CurrencyField()
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    split_axis = models.CharField(_("split by"), max_length=10, choices=SplitAxis.choices, blank=True)
    split_weight = models.DecimalField(_("weight"), max_digits=20, decimal_places=6, null=True, blank=True)
    split_basis = models.JSONField(_("how the weight was found"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TargetStatus.choices, default=TargetStatus.APPROVED, db_index=True
    )
    source = models.CharField(_("source"), max_length=14, choices=TargetSource.choices, default=TargetSource.TOP_DOWN)
    scope_key = models.CharField(max_length=40, editable=False, db_index=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["period_start", "metric", "scope_key", "tier", "id"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        indexes = [
            models.Index(fields=["metric", "period_kind", "period_start"]),
            models.Index(fields=["team", "period_start"]),
            models.Index(fields=["rep", "period_start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=False) | models.Q(rep__isnull=False), name="target_has_scope"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="target_end_after_start"
            ),
            # One approved number per cell; submissions and drafts may sit beside it.
            models.UniqueConstraint(
                fields=["metric", "period_kind", "period_start", "period_end", "scope_key", "tier"],
                condition=models.Q(status="approved"),
                name="target_one_approved_per_cell",
            ),
        ]

    def __str__(self) -> str:
        who = str(self.rep) if self.rep_id else str(self.team)
        return f"{self.get_metric_display()} {self.period_start:%Y-%m-%d} {who}"

    def save(self, *args, **kwargs) -> None:
        self.scope_key = f"r{self.rep_id}" if self.rep_id else f"t{self.team_id}"
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from salesloop.targets.metrics import Unit, spec

        errors: dict[str, str] = {}
        if not self.team_id and not self.rep_id:
            errors["team_id"] = _("Choose a team or a rep.")
        if self.metric and self.amount is not None and spec(self.metric).unit == Unit.COUNT:
            if self.amount != self.amount.to_integral_value():
                errors["amount"] = _("This metric counts whole units; enter a whole number.")
        if errors:
            raise ValidationError(errors)

    @property
    def scope_kind(self) -> str:
        if self.rep_id:
            return "rep"
        return self.team.kind if self.team_id else ""


class CreditSplit(TimeStamped):
    """A share of a deal's or an order's credit for one rep (the splits of a record sum to 100%).

    Why a row per rep and not a "team selling" flag: ERPNext's sales-team credit gave 100% to each
    member, double-counting revenue; here the shares are validated to add up to exactly 100% and
    the cents are allocated so the credited amounts add up to the deal amount (see
    ``analytics.queries.actuals``). A record without splits credits its owner 100%.
    """

    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="credit_splits",
    )
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="credit_splits",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="credit_splits"
    )
    percent = models.DecimalField(
        _("share %"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(100))],
    )
    is_primary = models.BooleanField(
        _("primary"), default=False, help_text=_("Largest share (ties: lowest user id); gets the odd cents.")
    )

    class Meta:
        ordering = ["opportunity_id", "order_id", "-percent", "user_id"]
        verbose_name = _("credit split")
        verbose_name_plural = _("credit splits")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(opportunity__isnull=False) & models.Q(order__isnull=True))
                | (models.Q(opportunity__isnull=True) & models.Q(order__isnull=False)),
                name="creditsplit_one_record",
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gt=0) & models.Q(percent__lte=100), name="creditsplit_percent_range"
            ),
            models.UniqueConstraint(fields=["opportunity", "user"], name="creditsplit_one_per_rep_deal"),
            models.UniqueConstraint(fields=["order", "user"], name="creditsplit_one_per_rep_order"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.percent}%"


def default_tier_shares() -> dict[str, str]:
    return {"high_value": "60", "potential": "30", "new": "10"}


def default_high_value_key_tiers() -> list[str]:
    return ["strategic", "maintenance"]


def default_seniority_weights() -> dict[str, str]:
    return {"new": "0.5", "growing": "0.8", "senior": "1.0"}


class TargetSettings(SingleRow, Versioned):
    """Organisation-wide numbers for targets and tracking; one row (``TargetSettings.current()``)."""

    pace_at_risk_pct = models.DecimalField(
        _("at risk below % of pace"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(100),
        help_text=_("Seed default: below 100% of the time-elapsed pace is at risk."),
    )
    pace_behind_pct = models.DecimalField(
        _("behind below % of pace"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(80),
        help_text=_("Seed default: below 80% of the time-elapsed pace is behind."),
    )
    tier_shares = models.JSONField(
        _("tier shares %"),
        default=default_tier_shares,
        help_text=_("Share of a target by customer tier; seed 000 §一.1: 60/30/10."),
    )
    high_value_key_tiers = models.JSONField(
        _("key-account tiers counted as high value"),
        default=default_high_value_key_tiers,
        help_text=_("An account with an earlier won deal is high value if its key-account tier is listed here."),
    )
    seniority_weights = models.JSONField(
        _("seniority weights"),
        default=default_seniority_weights,
        help_text=_("Multiplies a member's capacity when a target is split across people."),
    )
    intent_stage_code = models.SlugField(_("intent stage"), max_length=30, default="qualified")
    proposal_stage_code = models.SlugField(_("proposal stage"), max_length=30, default="proposal")
    negotiation_stage_code = models.SlugField(_("negotiation stage"), max_length=30, default="negotiation")
    funnel_lookback_days = models.PositiveIntegerField(
        _("days of history for measured rates"), default=180, validators=[MinValueValidator(7)]
    )

    class Meta:
        verbose_name = _("target settings")
        verbose_name_plural = _("target settings")

    def __str__(self) -> str:
        return str(_("Target settings"))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            shares = {k: Decimal(str(v)) for k, v in (self.tier_shares or {}).items()}
        except Exception:
            shares = {}
        if set(shares) != set(Tier.values) or any(v < 0 for v in shares.values()) or sum(shares.values()) != 100:
            errors["tier_shares"] = _("Give a share for each tier (%(tiers)s); the shares must add up to 100.") % {
                "tiers": ", ".join(Tier.values)
            }
        if self.pace_behind_pct is not None and self.pace_at_risk_pct is not None:
            if self.pace_behind_pct > self.pace_at_risk_pct:
                errors["pace_behind_pct"] = _("The 'behind' line must not be above the 'at risk' line.")
        try:
            weights = {k: Decimal(str(v)) for k, v in (self.seniority_weights or {}).items()}
            if any(v < 0 for v in weights.values()):
                raise ValueError
        except Exception:
            errors["seniority_weights"] = _("Seniority weights must be non-negative numbers.")
        if errors:
            raise ValidationError(errors)


class SeasonalProfile(TimeStamped):
    """Relative weights of the twelve calendar months (January first), e.g. "retail seasonality"."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    month_weights = models.JSONField(_("month weights"), help_text=_("Twelve non-negative numbers, January first."))

    class Meta:
        ordering = ["code"]
        verbose_name = _("seasonal profile")
        verbose_name_plural = _("seasonal profiles")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        weights = self.month_weights
        try:
            ok = isinstance(weights, list) and len(weights) == 12 and all(Decimal(str(w)) >= 0 for w in weights)
            ok = ok and sum(Decimal(str(w)) for w in weights) > 0
        except Exception:
            ok = False
        if not ok:
            raise ValidationError({"month_weights": _("Give twelve non-negative weights, not all zero.")})


class BottleneckCode(models.TextChoices):
    CONVERSION_GAP = "conversion_gap", _("Conversion below the team average")
    VISITS_BELOW_PACE = "visits_below_pace", _("Visits below target pace")
    STAGE_STALL = "stage_stall", _("Deals stalled in a stage")
    DEAL_SIZE_FALLING = "deal_size_falling", _("Average deal size falling")


class BottleneckRule(Versioned):
    """A configurable detector. ``threshold`` is a percentage whose meaning the code names:

    * conversion_gap: flag when a rep's conversion is at least this % below the team average;
    * visits_below_pace: flag when visits are below this % of the target's time-elapsed pace;
    * stage_stall: flag a deal in a stage longer than this % of the team's usual time there;
    * deal_size_falling: flag when the average won deal fell by at least this % against the
      previous window of the same length.
    """

    code = models.CharField(_("detector"), max_length=20, choices=BottleneckCode.choices, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    threshold = models.DecimalField(_("threshold %"), max_digits=7, decimal_places=2)
    lookback_days = models.PositiveIntegerField(_("look-back days"), default=30, validators=[MinValueValidator(1)])
    min_sample = models.PositiveIntegerField(
        _("minimum sample"), default=5, help_text=_("Below this many events the detector stays silent.")
    )
    coaching_due_hours = models.PositiveIntegerField(_("coaching task due in (hours)"), default=24)

    class Meta:
        ordering = ["code"]
        verbose_name = _("bottleneck detector")
        verbose_name_plural = _("bottleneck detectors")

    def __str__(self) -> str:
        return self.get_code_display()


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLEARED = "cleared", _("Cleared")


class Flag(TimeStamped):
    """A rep caught by a detector, with the numbers that explain it and the lead's coaching task."""

    rule = models.ForeignKey("targets.BottleneckRule", verbose_name=_("detector"), on_delete=models.CASCADE)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.CASCADE, related_name="bottleneck_flags"
    )
    team = models.ForeignKey("org.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(_("status"), max_length=8, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    facts = models.JSONField(_("numbers"), default=dict)
    task = models.ForeignKey(
        "activities.Task",
        verbose_name=_("coaching task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("bottleneck flag")
        verbose_name_plural = _("bottleneck flags")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "rep"], condition=models.Q(status="open"), name="flag_one_open_per_rule_rep"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.rep}"
