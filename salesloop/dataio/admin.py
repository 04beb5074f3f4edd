"""Import runs in the admin: a read-only log (runs are written by the importer, never edited)."""

from django.contrib import admin

from salesloop.dataio.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "entity",
        "file_name",
        "dry_run",
        "via",
        "outcome",
        "rows",
        "created",
        "updated",
        "unchanged",
        "error_count",
        "duration_ms",
    )
    list_filter = ("entity", "outcome", "dry_run", "via")
    search_fields = ("file_name", "user__username", "file_sha256")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
