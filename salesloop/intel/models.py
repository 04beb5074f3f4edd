"""Data behind pipeline intelligence: funnel benchmarks, lead routing rules and their log,
campaign costs. Every business number here is a row an admin edits, seeded from seed 000."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import CurrencyField, MoneyField, SingleRow, TimeStamped


class FunnelBenchmark(TimeStamped):
    """A reference conversion between two stages, e.g. seed 000 §四.1: proposal → won, industry 50%.

    ``rate`` is a fraction (0.50 = 50%). The funnel compares the measured cohort conversion of the
    same pair against it and flags the pair as a leak when the measured rate is below.
    """

    from_stage = models.ForeignKey(
        "pipeline.Stage", verbose_name=_("from stage"), on_delete=models.CASCADE, related_name="+"
    )
    to_stage = models.ForeignKey(
        "pipeline.Stage", verbose_name=_("to stage"), on_delete=models.CASCADE, related_name="+"
    )
    rate = models.DecimalField(
        _("benchmark rate"), max_digits=5, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    label = models.CharField(_("label"), max_length=80, default="industry")

    class Meta:
        ordering = ["from_stage__order", "to_stage__order", "id"]
        verbose_name = _("funnel benchmark")
        verbose_name_plural = _("funnel benchmarks")
        constraints = [
            models.UniqueConstraint(fields=["from_stage", "to_stage", "label"], name="intel_benchmark_unique"),
            models.CheckConstraint(condition=models.Q(rate__lte=1), name="intel_benchmark_rate_le_1"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}: {self.rate}"


class RoutingPolicy(SingleRow, TimeStamped):
    """Organisation-wide routing numbers (one row, ``RoutingPolicy.current()``).

    ``leads_per_capacity``: how many open leads one full rep (membership capacity 1.00) carries
    before routing skips them. ``rotation_seed``: the seed of the last tie-break (a rotation that
    is neither id nor seniority order, so no rep wins every tie).
    """

    leads_per_capacity = models.DecimalField(
        _("open leads per full capacity"), max_digits=7, decimal_places=2, default=Decimal("30"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    rotation_seed = models.PositiveIntegerField(_("rotation seed"), default=7)

    class Meta:
        verbose_name = _("routing policy")
        verbose_name_plural = _("routing policies")

    def __str__(self) -> str:
        return str(_("Routing policy"))


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    TERRITORY = "territory", _("Territory")
    NAMED = "named", _("Named rep or team")


class MatchMode(models.TextChoices):
    ALL = "all", _("All conditions")
    ANY = "any", _("Any condition")


class RoutingRule(TimeStamped):
    """One assignment rule, evaluated in ``position`` order; the first that matches and finds an
    available rep wins.

    ``conditions`` is a list of ``{"field": <lead field>, "op": eq|ne|in|not_in|gte|lte|gt|lt|
    contains|empty|not_empty, "value": ...}``; an empty list matches every lead. Candidates are
    the active reps under ``team`` (or the whole organisation), narrowed to ``seniority`` when
    set, or the single ``user`` for a named rule.
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    match = models.CharField(_("match"), max_length=3, choices=MatchMode.choices, default=MatchMode.ALL)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    strategy = models.CharField(_("strategy"), max_length=14, choices=Strategy.choices)
    team = models.ForeignKey(
        "org.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("named rep"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    seniority = models.CharField(_("seniority"), max_length=10, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name


class LeadAssignment(models.Model):
    """The log of every routing decision: who got the lead, by which rule, and why.

    ``assignee`` is empty when no rule found an available rep: the lead stays unassigned and
    is surfaced in the unassigned list.
    """

    lead = models.ForeignKey(
        "customers.Lead", verbose_name=_("lead"), on_delete=models.CASCADE, related_name="assignments"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="lead_assignments",
    )
    rule = models.ForeignKey(
        "intel.RoutingRule", verbose_name=_("rule"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="assignments",
    )
    strategy = models.CharField(_("strategy"), max_length=14, blank=True)
    reason = models.TextField(_("reason"))
    assigned_at = models.DateTimeField(_("assigned at"), db_index=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        verbose_name = _("lead assignment")
        verbose_name_plural = _("lead assignments")
        indexes = [models.Index(fields=["assignee", "assigned_at"])]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.assignee_id}"


class CampaignCost(TimeStamped):
    """Money spent on a lead source or campaign in a period, for cost per won deal."""

    source = models.CharField(_("source"), max_length=12, blank=True)
    campaign = models.CharField(_("campaign"), max_length=120, blank=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount = MoneyField(_("cost"))
    currency = CurrencyField()

    class Meta:
        ordering = ["-period_start", "id"]
        verbose_name = _("campaign cost")
        verbose_name_plural = _("campaign costs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="intel_cost_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.campaign}: {self.amount}"


class StageReach(models.Model):
    """Pre-aggregated funnel fact: the first time a deal reached a funnel level (issue #7 §1/§8).

    ``level`` is a stage ``order`` (a level of the funnel, see ``analytics.queries.funnel``);
    ``first_at`` is the earliest ``StageChange.changed_at`` that entered a non-lost stage whose
    order is ≥ ``level``. Why a table: recomputing it from every stage change on each funnel
    request took ~52 s on size M. Because stage changes are append-only, "reached before
    ``as_of``" is exactly ``first_at < as_of``, so one row per (deal, level) serves every
    observation date. Kept current by ``intel.stage_reach`` (on write, and a catch-up before
    each read); rebuilt whole when the stage list's orders change.
    """

    opportunity = models.ForeignKey(
        "pipeline.Opportunity", verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="+"
    )
    level = models.IntegerField(_("level (stage order)"))
    first_at = models.DateTimeField(_("first reached at"))

    class Meta:
        ordering = ["opportunity", "level"]
        verbose_name = _("stage reach")
        verbose_name_plural = _("stage reaches")
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "level"], name="intel_stagereach_unique"),
        ]
        indexes = [models.Index(fields=["level", "first_at"], name="intel_reach_level_at")]

    def __str__(self) -> str:
        return f"{self.opportunity_id}@{self.level}: {self.first_at}"


class StageReachState(models.Model):
    """Fill state of :class:`StageReach` (one row; Zulip's ``FillState`` idea).

    ``last_change_id``: every stage change up to this id is reflected in the table (writers also
    maintain it directly; the catch-up covers rows written by any other path). ``stage_config``:
    a digest of the stage list's orders and flags the table was built with; when it differs the
    table is rebuilt, since a level is defined by the stage list.
    """

    last_change_id = models.BigIntegerField(_("last stage change id"), default=0)
    stage_config = models.CharField(_("stage list digest"), max_length=64, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("stage reach fill state")
        verbose_name_plural = _("stage reach fill states")

    def __str__(self) -> str:
        return f"{self.last_change_id} ({self.stage_config[:8]})"
