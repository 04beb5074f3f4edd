"""The numbers behind customer operations, editable by an administrator (validated by ``clean``)."""

from django.contrib import admin

from salesloop.custops.models import (
    Cadence,
    CustomerOpsPolicy,
    GridSegment,
    RuleSegment,
    ScoringRun,
    SopGuidance,
    TierPolicy,
)


@admin.register(CustomerOpsPolicy)
class CustomerOpsPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "rfm_window_days",
        "churn_p_alive_threshold",
        "churn_gap_multiplier",
        "version",
    ]


@admin.register(RuleSegment)
class RuleSegmentAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "kind",
        "precedence",
        "recency_min_days",
        "recency_max_days",
        "frequency_min",
        "frequency_max",
        "monetary_min",
        "monetary_max",
        "value_rank",
        "is_active",
    ]
    list_editable = ["precedence", "is_active"]


@admin.register(GridSegment)
class GridSegmentAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "recency_score_min",
        "recency_score_max",
        "frequency_score_min",
        "frequency_score_max",
        "value_rank",
        "is_active",
    ]


@admin.register(Cadence)
class CadenceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "segment",
        "key_account_tier",
        "interval_days",
        "purpose",
        "is_active",
    ]


@admin.register(TierPolicy)
class TierPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "value_weight",
        "growth_weight",
        "strategic_weight",
        "strategic_min_score",
    ]


@admin.register(SopGuidance)
class SopGuidanceAdmin(admin.ModelAdmin):
    list_display = ["stage_code", "decision_style", "customer_tag", "text", "is_active"]


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = ["as_of", "created_at", "accounts", "segment_changes", "flagged", "seconds"]
    readonly_fields = [f.name for f in ScoringRun._meta.fields]
