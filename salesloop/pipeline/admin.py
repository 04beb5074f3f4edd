"""Admin for the stage list, loss reasons and opportunities (audited; a stage move made here is
logged in the stage history like one made on the board)."""

from django.contrib import admin

from salesloop.audit.admin import LargeTablePaginator, RecordAdmin
from salesloop.pipeline import services
from salesloop.pipeline.models import LossReason, Opportunity, Stage, StageChange


@admin.register(Stage)
class StageAdmin(RecordAdmin):
    list_display = ("order", "code", "name", "name_en", "probability", "is_won", "is_lost", "is_active")
    list_display_links = ("code",)
    list_filter = ("is_active", "is_won", "is_lost")
    search_fields = ("code", "name", "name_en")
    ordering = ("order",)


@admin.register(LossReason)
class LossReasonAdmin(RecordAdmin):
    list_display = ("code", "name", "name_en")
    search_fields = ("code", "name", "name_en")


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fields = ("changed_at", "from_stage", "to_stage", "amount", "changed_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-changed_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_stage", "to_stage", "changed_by")


@admin.register(Opportunity)
class OpportunityAdmin(RecordAdmin):
    list_display = ("name", "account", "owner", "stage", "amount", "currency", "expected_close_date", "closed_at")
    list_filter = ("stage", "expected_close_date")
    search_fields = ("name", "external_id", "account__name")
    list_select_related = ("account", "owner", "stage")
    autocomplete_fields = ("account", "owner", "lead", "decision_maker")
    readonly_fields = ("stage_entered_at", "closed_at")
    inlines = (StageChangeInline,)

    def write(self, request, obj, form, change, before) -> None:
        super().write(request, obj, form, change, before)
        from_stage_id = before.get("stage_id") if change else None
        if not change or from_stage_id != obj.stage_id:
            services.opportunity_stage_moved(opportunity=obj, from_stage_id=from_stage_id, by=request.user)


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    """The stage history is written by the pipeline services; read-only here."""

    list_display = ("changed_at", "opportunity", "from_stage", "to_stage", "amount", "changed_by")
    list_filter = ("to_stage", "changed_at")
    list_select_related = ("opportunity", "from_stage", "to_stage", "changed_by")
    search_fields = ("opportunity__name",)
    raw_id_fields = ("opportunity", "changed_by")
    paginator = LargeTablePaginator
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
