"""Admin for accounts (audited), contacts and leads; sized for 100k accounts (no full
``<select>`` of accounts or people anywhere, no second ``COUNT(*)`` per list page)."""

from django.contrib import admin

from salesloop.audit.admin import RecordAdmin
from salesloop.customers.models import Account, Contact, Lead


@admin.register(Account)
class AccountAdmin(RecordAdmin):
    list_display = ("name", "owner", "industry", "province", "city", "key_account_tier", "source_channel", "updated_at")
    list_filter = ("key_account_tier", "source_channel", "size", "decision_style")
    search_fields = ("name", "external_id", "phone")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)


@admin.register(Contact)
class ContactAdmin(RecordAdmin):
    list_display = ("name", "account", "title", "is_decision_maker", "phone", "email", "birthday")
    list_filter = ("is_decision_maker",)
    search_fields = ("name", "phone", "email", "external_id")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)


@admin.register(Lead)
class LeadAdmin(RecordAdmin):
    list_display = ("name", "company", "owner", "source", "status", "budget", "currency", "created_at")
    list_filter = ("status", "source")
    search_fields = ("name", "company", "phone", "email", "external_id")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner", "account")
