"""The numbers behind opportunity scoring, editable by an administrator; training runs read-only."""

from django.contrib import admin

from salesloop.scoring.models import ScoringModel, ScoringSettings


@admin.register(ScoringSettings)
class ScoringSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "min_closed_deals", "min_per_class", "validation_share", "calibration", "version"]

    def has_add_permission(self, request) -> bool:
        return not ScoringSettings.objects.exists()


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    list_display = ["trained_at", "algorithm", "status", "n_closed", "auc", "baseline_auc", "brier", "is_active"]
    list_filter = ["status", "is_active"]
    exclude = ["estimator"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
