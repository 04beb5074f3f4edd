"""Customer operations: segments, cadence, churn scores, key-account plans and customer needs.

Business numbers are rows with the seeds' defaults (``custops.defaults``, loaded by the data
migration ``0002_defaults``), editable by an administrator and validated in ``clean()``:

* :class:`CustomerOpsPolicy` — the RFM window, the churn threshold, the forecast horizon… (one row);
* :class:`RuleSegment` — seed 000 §三.1's rule segments plus the two explicit places for accounts
  the rules do not cover ("no purchase yet" and "other"), tried in ``precedence`` order;
* :class:`GridSegment` — the named R×F cells of the quintile scheme (champions, loyal, at risk…);
* :class:`Cadence` — follow-up interval per rule segment or key-account tier;
* :class:`TierPolicy` — weights and thresholds of the key-account tier proposal;
* :class:`SopGuidance` — content notes by stage, decision style and customer kind.

Results are tables filled by set-based jobs: :class:`AccountRfm` (current segments),
:class:`SegmentChange` (every move, kept), :class:`AccountChurn` (BG/NBD + Gamma-Gamma scores) and
:class:`ScoringRun` (one row per recompute with the parameters and the policy it used).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import (
    MONEY_DIGITS,
    MONEY_PLACES,
    CurrencyField,
    MoneyField,
    SingleRow,
    TimeStamped,
    Versioned,
)
from salesloop.customers.models import DecisionStyle, KeyAccountTier


class Bilingual(models.Model):
    """A row named in Chinese (``name``) and English (``name_en``), shown in the user's language."""

    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


def default_contact_kinds() -> list[str]:
    return ["visit", "call", "meeting", "demo", "email"]


class MonetarySource(models.TextChoices):
    ORDERS = "orders", _("Order totals (by order date)")
    PAYMENTS = "payments", _("Payments received (by payment date)")


class CustomerOpsPolicy(SingleRow, Versioned):
    """The numbers behind segments and churn flags; one row (``CustomerOpsPolicy.current()``).

    Every scoring run stores a snapshot of this row and of the segment definitions, so a result
    can always be traced to the rules that produced it.
    """

    rfm_window_days = models.PositiveIntegerField(
        _("RFM window (days)"),
        default=365,
        validators=[MinValueValidator(7), MaxValueValidator(3650)],
        help_text=_(
            "Frequency and monetary value count orders in this many days up to the scoring date."
        ),
    )
    monetary_source = models.CharField(
        _("monetary value from"),
        max_length=10,
        choices=MonetarySource.choices,
        default=MonetarySource.ORDERS,
    )
    churn_p_alive_threshold = models.DecimalField(
        _("churn flag below P(active)"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.500"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    churn_gap_multiplier = models.DecimalField(
        _("churn flag when the gap exceeds × usual gap"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.50"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal(20))],
        help_text=_(
            "Days since the last order compared with the customer's own mean gap between orders."
        ),
    )
    forecast_horizon_days = models.PositiveIntegerField(
        _("forecast horizon (days)"),
        default=90,
        validators=[MinValueValidator(7), MaxValueValidator(730)],
        help_text=_("'Next period' for expected purchases, expected value and value at risk."),
    )
    min_customers_to_fit = models.PositiveIntegerField(
        _("minimum repeat buyers to fit the model"),
        default=30,
        validators=[MinValueValidator(5)],
        help_text=_("Below this the churn flag uses the order-gap rule only."),
    )
    contact_kinds = models.JSONField(
        _("activity kinds that count as contact"),
        default=default_contact_kinds,
        help_text=_("For the follow-up cadence and the coverage report."),
    )
    call_list_days = models.PositiveSmallIntegerField(
        _("call list looks ahead (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )

    def clean(self) -> None:
        from salesloop.activities.models import ActivityKind

        kinds = self.contact_kinds
        if (
            not isinstance(kinds, list)
            or not kinds
            or any(k not in ActivityKind.values for k in kinds)
        ):
            raise ValidationError(
                {"contact_kinds": _("Choose from: %(v)s.") % {"v": ", ".join(ActivityKind.values)}}
            )

    class Meta:
        verbose_name = _("customer-operations policy")
        verbose_name_plural = _("customer-operations policy")

    def __str__(self) -> str:
        return str(_("Customer-operations policy"))


class SegmentKind(models.TextChoices):
    RULE = "rule", _("Rule")
    NO_PURCHASE = "no_purchase", _("No purchase yet")
    FALLBACK = "fallback", _("Not covered by any rule")


class RuleSegment(Bilingual, TimeStamped):
    """One rule segment: an account is in it when its R, F and M fall inside every bound given.

    Bounds are inclusive and optional (empty = open). Recency is whole days since the last order
    (all time), frequency the number of orders and monetary the value within the RFM window.
    Rules are tried in ``precedence`` order and the first match wins; an account with no order at
    all goes to the ``no_purchase`` row and an account that matches no rule to the ``fallback``
    row (seed 000's rules never overlap, but leave gaps, e.g. R ≤ 30 with M < 50,000).
    """

    code = models.SlugField(_("code"), max_length=30, unique=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=SegmentKind.choices, default=SegmentKind.RULE
    )
    precedence = models.PositiveSmallIntegerField(
        _("precedence"), help_text=_("Lower is tried first.")
    )
    recency_min_days = models.PositiveIntegerField(_("recency from (days)"), null=True, blank=True)
    recency_max_days = models.PositiveIntegerField(_("recency to (days)"), null=True, blank=True)
    frequency_min = models.PositiveIntegerField(_("frequency from"), null=True, blank=True)
    frequency_max = models.PositiveIntegerField(_("frequency to"), null=True, blank=True)
    monetary_min = MoneyField(_("monetary from"), null=True, blank=True, default=None)
    monetary_max = MoneyField(_("monetary to"), null=True, blank=True, default=None)
    value_rank = models.SmallIntegerField(
        _("value rank"),
        help_text=_("Higher is more valuable; a move to a higher rank counts as up."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["precedence", "id"]
        verbose_name = _("rule segment")
        verbose_name_plural = _("rule segments")

    BOUNDS = (
        ("recency_min_days", "recency_max_days"),
        ("frequency_min", "frequency_max"),
        ("monetary_min", "monetary_max"),
    )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        has_bound = False
        for low, high in self.BOUNDS:
            lo, hi = getattr(self, low), getattr(self, high)
            has_bound = has_bound or lo is not None or hi is not None
            if lo is not None and hi is not None and lo > hi:
                errors[high] = _("The upper bound must not be below the lower bound.")
        if self.kind == SegmentKind.RULE and not has_bound:
            errors["kind"] = _("A rule needs at least one bound.")
        if self.kind != SegmentKind.RULE and has_bound:
            errors["kind"] = _("Only rules have bounds; this row catches accounts by its kind.")
        if self.kind != SegmentKind.RULE and self.is_active:
            clash = RuleSegment.objects.filter(kind=self.kind, is_active=True).exclude(pk=self.pk)
            if clash.exists():
                errors["kind"] = _("There is already an active row of this kind.")
        if errors:
            raise ValidationError(errors)


class GridSegment(Bilingual, TimeStamped):
    """A named block of the 5×5 grid of recency score × frequency score (quintile scheme).

    The ten defaults (hibernating … champions) tile the grid exactly; ``services`` refuses a
    recompute if the active rows leave a cell uncovered or cover one twice.
    """

    code = models.SlugField(_("code"), max_length=30, unique=True)
    recency_score_min = models.PositiveSmallIntegerField(
        _("R score from"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    recency_score_max = models.PositiveSmallIntegerField(
        _("R score to"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    frequency_score_min = models.PositiveSmallIntegerField(
        _("F score from"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    frequency_score_max = models.PositiveSmallIntegerField(
        _("F score to"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    value_rank = models.SmallIntegerField(_("value rank"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-value_rank", "id"]
        verbose_name = _("R×F segment")
        verbose_name_plural = _("R×F segments")

    def clean(self) -> None:
        errors = {}
        if self.recency_score_min > self.recency_score_max:
            errors["recency_score_max"] = _("The upper bound must not be below the lower bound.")
        if self.frequency_score_min > self.frequency_score_max:
            errors["frequency_score_max"] = _("The upper bound must not be below the lower bound.")
        if errors:
            raise ValidationError(errors)

    def cells(self) -> set[tuple[int, int]]:
        return {
            (r, f)
            for r in range(self.recency_score_min, self.recency_score_max + 1)
            for f in range(self.frequency_score_min, self.frequency_score_max + 1)
        }


class Cadence(TimeStamped):
    """How often an account must be contacted: per rule segment or per key-account tier.

    When both apply the shorter interval wins (the more demanding promise is the one kept).
    Seed 000 §三.1: high value weekly deep contact, potential twice a month, dormant once a
    quarter; the tier and "other" intervals are our defaults (see docs/custops.md).
    """

    segment = models.ForeignKey(
        "custops.RuleSegment",
        verbose_name=_("rule segment"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cadences",
    )
    key_account_tier = models.CharField(
        _("key-account tier"), max_length=12, choices=KeyAccountTier.choices, blank=True
    )
    interval_days = models.PositiveSmallIntegerField(
        _("contact every (days)"), validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    purpose = models.CharField(_("purpose"), max_length=120, blank=True)
    purpose_en = models.CharField(_("purpose (English)"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["interval_days", "id"]
        verbose_name = _("follow-up cadence")
        verbose_name_plural = _("follow-up cadences")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(segment__isnull=False) & models.Q(key_account_tier=""))
                | (models.Q(segment__isnull=True) & ~models.Q(key_account_tier="")),
                name="cadence_segment_xor_tier",
            )
        ]

    def __str__(self) -> str:
        target = self.segment.label if self.segment_id else self.get_key_account_tier_display()
        return f"{target}: {self.interval_days}d"

    @property
    def purpose_label(self) -> str:
        if (get_language() or "").startswith("en") and self.purpose_en:
            return self.purpose_en
        return self.purpose


class TierPolicy(SingleRow, Versioned):
    """How the key-account tier proposal scores an account (one row, ``TierPolicy.current()``).

    score = w_value·value + w_growth·growth + w_strategic·strategic, each part 0–100:
    value = percentile of trailing-year revenue (ties share the lower percentile), growth =
    year-on-year revenue change mapped linearly from ``growth_floor_pct`` (0) to
    ``growth_cap_pct`` (100), strategic = points for the account's fields (below), capped at 100.
    Proposal, first match: strategic if score ≥ ``strategic_min_score``; growth if growth ≥
    ``growth_min_growth_score``; maintenance if value ≥ ``maintenance_min_value_score``; else
    development (seed 001 重点客户管理's four tiers).
    """

    value_weight = models.DecimalField(
        _("value weight"), max_digits=4, decimal_places=2, default=Decimal("0.50")
    )
    growth_weight = models.DecimalField(
        _("growth weight"), max_digits=4, decimal_places=2, default=Decimal("0.20")
    )
    strategic_weight = models.DecimalField(
        _("strategic weight"), max_digits=4, decimal_places=2, default=Decimal("0.30")
    )
    growth_floor_pct = models.DecimalField(
        _("growth floor %"), max_digits=6, decimal_places=1, default=Decimal(-50)
    )
    growth_cap_pct = models.DecimalField(
        _("growth cap %"), max_digits=6, decimal_places=1, default=Decimal(100)
    )
    strategic_industries = models.JSONField(_("strategic industries"), default=list, blank=True)
    strategic_industry_points = models.PositiveSmallIntegerField(
        _("points: strategic industry"), default=40
    )
    large_company_points = models.PositiveSmallIntegerField(_("points: 250+ employees"), default=30)
    strategic_tags = models.JSONField(_("strategic tags"), default=list, blank=True)
    strategic_tag_points = models.PositiveSmallIntegerField(_("points: strategic tag"), default=30)
    decision_maker_points = models.PositiveSmallIntegerField(
        _("points: decision maker known"), default=10
    )
    strategic_min_score = models.PositiveSmallIntegerField(_("strategic from score"), default=70)
    growth_min_growth_score = models.PositiveSmallIntegerField(
        _("growth from growth score"), default=60
    )
    maintenance_min_value_score = models.PositiveSmallIntegerField(
        _("maintenance from value score"), default=50
    )

    class Meta:
        verbose_name = _("key-account tier policy")
        verbose_name_plural = _("key-account tier policy")

    def __str__(self) -> str:
        return str(_("Key-account tier policy"))

    def clean(self) -> None:
        errors = {}
        total = self.value_weight + self.growth_weight + self.strategic_weight
        if total != Decimal(1):
            errors["strategic_weight"] = _("The three weights must add up to 1.")
        if self.growth_cap_pct <= self.growth_floor_pct:
            errors["growth_cap_pct"] = _("The cap must be above the floor.")
        for name in ("strategic_industries", "strategic_tags"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[name] = _("A list of names.")
        if errors:
            raise ValidationError(errors)


class SopGuidance(TimeStamped):
    """What to say or bring at a stage, adjusted by decision style and customer kind.

    Seed 000 §三.2: rational deciders want data, relational ones relationship care; state-owned
    customers get compliance notes and reference cases. Empty filters match everything; a
    ``customer_tag`` matches the account's tags or its industry.
    """

    stage_code = models.SlugField(_("stage code"), max_length=30, blank=True)
    decision_style = models.CharField(
        _("decision style"), max_length=12, choices=DecisionStyle.choices, blank=True
    )
    customer_tag = models.CharField(_("customer tag or industry"), max_length=60, blank=True)
    text = models.CharField(_("guidance"), max_length=300)
    text_en = models.CharField(_("guidance (English)"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["stage_code", "decision_style", "customer_tag", "id"]
        verbose_name = _("SOP guidance")
        verbose_name_plural = _("SOP guidance")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if (get_language() or "").startswith("en") and self.text_en:
            return self.text_en
        return self.text


# Results -------------------------------------------------------------------------------------


class ScoringRun(TimeStamped):
    """One recompute of segments and churn scores: what it used, what it found, how long it took."""

    as_of = models.DateField(_("scoring date"), db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    accounts = models.PositiveIntegerField(_("accounts scored"), default=0)
    segment_changes = models.PositiveIntegerField(_("segment changes"), default=0)
    policy = models.JSONField(_("policy used"), default=dict)
    bgnbd = models.JSONField(_("BG/NBD fit"), default=dict, blank=True)
    gamma_gamma = models.JSONField(_("Gamma-Gamma fit"), default=dict, blank=True)
    flagged = models.PositiveIntegerField(_("churn flags"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")

    def __str__(self) -> str:
        return f"{self.as_of} #{self.pk}"


class AccountRfm(models.Model):
    """An account's current RFM values, scores and segments (one row per account, replaced by
    each run; moves are kept in :class:`SegmentChange`). Money is in ``currency``."""

    account = models.OneToOneField(
        "customers.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="rfm"
    )
    run = models.ForeignKey(
        "custops.ScoringRun", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+"
    )
    as_of = models.DateField(_("scoring date"))
    first_order_date = models.DateField(_("first order"), null=True, blank=True)
    last_order_date = models.DateField(_("last order"), null=True, blank=True)
    recency_days = models.PositiveIntegerField(_("recency (days)"), null=True, blank=True)
    frequency = models.PositiveIntegerField(_("frequency"), default=0)
    monetary = models.DecimalField(
        _("monetary"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    previous_monetary = models.DecimalField(
        _("monetary, the window before"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=0,
    )
    currency = CurrencyField()
    recency_score = models.PositiveSmallIntegerField(_("R score"), null=True, blank=True)
    frequency_score = models.PositiveSmallIntegerField(_("F score"), null=True, blank=True)
    monetary_score = models.PositiveSmallIntegerField(_("M score"), null=True, blank=True)
    rule_segment = models.CharField(_("rule segment"), max_length=30, db_index=True)
    grid_segment = models.CharField(_("R×F segment"), max_length=30, blank=True, db_index=True)

    class Meta:
        ordering = ["account_id"]
        verbose_name = _("account RFM")
        verbose_name_plural = _("account RFM")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.rule_segment}/{self.grid_segment}"


class SegmentScheme(models.TextChoices):
    RULE = "rule", _("Rule segments")
    GRID = "grid", _("R×F segments")


class SegmentChange(models.Model):
    """An account moved from one segment to another (``from_code`` empty: first classification)."""

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="segment_changes",
    )
    run = models.ForeignKey(
        "custops.ScoringRun", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+"
    )
    scheme = models.CharField(_("scheme"), max_length=4, choices=SegmentScheme.choices)
    from_code = models.CharField(_("from"), max_length=30, blank=True)
    to_code = models.CharField(_("to"), max_length=30, blank=True)
    direction = models.SmallIntegerField(
        _("direction"), help_text=_("1 up, -1 down, 0 sideways or first.")
    )
    changed_on = models.DateField(_("changed on"), db_index=True)

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = _("segment change")
        verbose_name_plural = _("segment changes")
        indexes = [
            models.Index(fields=["scheme", "changed_on"]),
            models.Index(fields=["account", "changed_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_code} → {self.to_code}"


class AccountChurn(models.Model):
    """BG/NBD and Gamma-Gamma scores of an account with at least one order.

    ``repeat_purchases`` (x), ``t_x_weeks`` and ``T_weeks`` are the model's inputs (distinct order
    days; weeks of 7 days from the first order). Money is in ``currency``; expected values are for
    the policy's forecast horizon. Value at risk = E[spend per order] × E[orders in the horizon |
    still active] × (1 − P(active)): what the model expects to lose if this customer has gone.
    """

    account = models.OneToOneField(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="churn",
    )
    run = models.ForeignKey(
        "custops.ScoringRun", verbose_name=_("run"), on_delete=models.CASCADE, related_name="+"
    )
    as_of = models.DateField(_("scoring date"))
    repeat_purchases = models.PositiveIntegerField(_("repeat purchases"))
    t_x_weeks = models.FloatField(_("last purchase (weeks after first)"))
    T_weeks = models.FloatField(_("observed (weeks)"))  # noqa: N815  (the model's own symbol)
    mean_repeat_value = models.DecimalField(
        _("mean repeat order value"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
    )
    currency = CurrencyField()
    p_alive = models.FloatField(_("P(active)"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected orders next period"), null=True, blank=True)
    expected_value = models.DecimalField(
        _("expected value next period"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
    )
    value_at_risk = models.DecimalField(
        _("value at risk"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        default=0,
        db_index=True,
    )
    usual_gap_days = models.FloatField(_("usual gap (days)"), null=True, blank=True)
    current_gap_days = models.PositiveIntegerField(_("days since last order"))
    flag_p_alive = models.BooleanField(_("P(active) below threshold"), default=False)
    flag_gap = models.BooleanField(_("gap beyond usual"), default=False)
    is_flagged = models.BooleanField(_("churn flag"), default=False, db_index=True)
    flagged_since = models.DateField(_("flagged since"), null=True, blank=True)

    class Meta:
        ordering = ["-value_at_risk", "account_id"]
        verbose_name = _("churn score")
        verbose_name_plural = _("churn scores")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.p_alive}"


# Key accounts and needs ----------------------------------------------------------------------


class StakeholderStance(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    SUPPORTER = "supporter", _("Supporter")
    NEUTRAL = "neutral", _("Neutral")
    SKEPTIC = "skeptic", _("Skeptic")
    OPPONENT = "opponent", _("Opponent")


class StakeholderRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    TECHNICAL = "technical", _("Technical evaluator")
    PURCHASING = "purchasing", _("Purchasing")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class AccountPlan(Versioned):
    """A key account's plan (seed 001 重点客户管理): goals, stakeholders and stance, next steps.

    ``stakeholders`` is a list of ``{"name", "title", "contact_id", "role", "stance", "influence",
    "notes"}`` and ``next_steps`` of ``{"action", "due_date", "owner_id", "done"}``; both are
    validated in :meth:`clean`, so the API answers a bad entry with a field error naming its index.
    """

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="plans",
    )
    tier = models.CharField(_("key-account tier"), max_length=12, choices=KeyAccountTier.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.ACTIVE
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    revenue_goal = MoneyField(_("revenue goal"))
    currency = CurrencyField()
    goals = models.TextField(_("goals"), help_text=_("One goal per line."))
    strategy = models.TextField(_("strategy"), blank=True)
    stakeholders = models.JSONField(_("stakeholders"), default=list, blank=True)
    next_steps = models.JSONField(_("next steps"), default=list, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        verbose_name = _("account plan")
        verbose_name_plural = _("account plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="account_plan_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.period_start:%Y}"

    def clean(self) -> None:
        from salesloop.custops.plans import validate_next_steps, validate_stakeholders

        errors: dict[str, list[str]] = {}
        errors.update(validate_stakeholders(self.stakeholders, account_id=self.account_id))
        errors.update(validate_next_steps(self.next_steps))
        if errors:
            raise ValidationError(errors)


class NeedKind(models.TextChoices):
    """Seed 000 §三.3 (pain points, competitor moves, latent needs) and seed 001 客户需求洞察."""

    PAIN_POINT = "pain_point", _("Pain point")
    COMPETITOR = "competitor", _("Competitor move")
    LATENT = "latent", _("Latent need")
    FEATURE = "feature", _("Feature request")
    BUSINESS = "business", _("Business need")


class CustomerNeed(Versioned):
    """A need heard from a customer, with their words, for the weekly needs report."""

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="needs",
    )
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=NeedKind.choices)
    summary = models.CharField(_("summary"), max_length=200)
    quote = models.TextField(_("customer's words"), blank=True)
    competitor = models.CharField(_("competitor"), max_length=120, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("captured by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    captured_at = models.DateTimeField(_("captured at"), db_index=True)

    class Meta:
        ordering = ["-captured_at", "-id"]
        verbose_name = _("customer need")
        verbose_name_plural = _("customer needs")

    def __str__(self) -> str:
        return self.summary

    def clean(self) -> None:
        from salesloop.custops.needs import normalise_tags

        try:
            self.tags = normalise_tags(self.tags)
        except ValueError as exc:
            raise ValidationError({"tags": str(exc)}) from exc
        if self.kind == NeedKind.COMPETITOR and not self.competitor.strip():
            raise ValidationError({"competitor": _("Name the competitor.")})
        if self.activity_id and self.account_id:
            from salesloop.activities.models import Activity

            activity_account = (
                Activity.objects.filter(pk=self.activity_id)
                .values_list("account_id", flat=True)
                .first()
            )
            if activity_account is not None and activity_account != self.account_id:
                raise ValidationError(
                    {"activity_id": _("The activity belongs to another account.")}
                )


class NeedTag(models.Model):
    """One tag of a need, in its own table so the report groups by tag in SQL on any database."""

    need = models.ForeignKey(
        "custops.CustomerNeed", on_delete=models.CASCADE, related_name="tag_rows"
    )
    tag = models.CharField(_("tag"), max_length=40, db_index=True)

    class Meta:
        ordering = ["tag", "need_id"]
        constraints = [models.UniqueConstraint(fields=["need", "tag"], name="need_tag_unique")]

    def __str__(self) -> str:
        return self.tag
