"""Admin for forecasting: settings (the numbers as data), snapshots (read-only record), and the
reps' categories, submissions and adjustments."""

from django.contrib import admin

from salesloop.forecasting.models import Adjustment, DealCategory, ForecastSettings, Snapshot, Submission


@admin.register(ForecastSettings)
class ForecastSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "season_length",
        "history_months",
        "weight_time_series",
        "weight_pipeline",
        "weight_commit",
        "combine_by_accuracy",
        "snapshot_weekday",
    )


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = (
        "taken_on",
        "scope_kind",
        "scope_id",
        "period_kind",
        "period_start",
        "period_end",
        "method",
        "amount",
        "actual",
        "currency",
    )
    list_filter = ("scope_kind", "period_kind", "method", "taken_on")
    date_hierarchy = "taken_on"

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a snapshot is a record of what was forecast: never edited


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("owner", "period_start", "period_end", "amount", "currency", "submitted_at")
    list_filter = ("period_start",)
    raw_id_fields = ("owner",)


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    list_display = ("submission", "adjusted_by", "amount", "currency", "adjusted_at")
    raw_id_fields = ("submission", "adjusted_by")


@admin.register(DealCategory)
class DealCategoryAdmin(admin.ModelAdmin):
    list_display = ("opportunity", "category", "set_by")
    list_filter = ("category",)
    raw_id_fields = ("opportunity", "set_by")
