from django.contrib import admin

from salesloop.calendarfeed.models import CalendarToken


@admin.register(CalendarToken)
class CalendarTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "prefix", "created_at", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix"]
