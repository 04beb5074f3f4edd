"""Admin for notifications, their deliveries, chat webhooks and preferences."""

from django.contrib import admin

from salesloop.notifications import models


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient"]
    search_fields = ["title", "dedupe_key"]


@admin.register(models.Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "notification",
        "channel",
        "target",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    raw_id_fields = ["notification"]


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "team", "owner", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(models.NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "chat", "webhook", "quiet_start", "quiet_end"]
