"""Admin for the organisation: people, the team tree, memberships, settings and API tokens."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from salesloop.audit.admin import RecordAdmin, VersionCheckedForm
from salesloop.org import services
from salesloop.org.models import ApiToken, Membership, OrgSettings, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "team", "email", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "display_name", "email", "phone", "first_name", "last_name")
    list_select_related = ("team",)
    autocomplete_fields = ("team",)
    ordering = ("username",)
    show_full_result_count = False
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Sales organisation"), {"fields": ("role", "team", "display_name", "phone", "language")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        (_("Sales organisation"), {"fields": ("role", "team", "display_name")}),
    )


class TeamForm(VersionCheckedForm):
    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        team = self.instance
        if parent is not None and team.pk is not None and team.path and parent.path.startswith(team.path):
            raise ValidationError(gettext("A team cannot be moved under itself or one of its own teams."))
        return parent


@admin.register(Team)
class TeamAdmin(RecordAdmin):
    """Moving a team (a new parent) rewrites the paths of its whole subtree (``team_move``)."""

    form = TeamForm
    list_display = ("name", "kind", "parent", "lead", "region", "path")
    list_filter = ("kind", "region")
    search_fields = ("name", "region")
    list_select_related = ("parent", "lead")
    autocomplete_fields = ("parent", "lead")
    readonly_fields = ("path",)
    ordering = ("path",)

    def write(self, request, obj, form, change, before) -> None:
        new_parent = obj.parent
        if change and before.get("parent_id") != obj.parent_id:
            obj.parent_id = before.get("parent_id")  # save the rest in place, then move the subtree
            super().write(request, obj, form, change, before)
            moved = services.team_move(team=obj, parent=new_parent)
            obj.parent, obj.path = moved.parent, moved.path
            return
        super().write(request, obj, form, change, before)


@admin.register(Membership)
class MembershipAdmin(RecordAdmin):
    list_display = ("user", "team", "is_lead", "seniority", "capacity", "start_date", "end_date", "on_leave")
    list_filter = ("is_lead", "seniority", "on_leave", "start_date")
    search_fields = ("user__username", "user__display_name", "team__name")
    list_select_related = ("user", "team")
    autocomplete_fields = ("user", "team")


@admin.register(OrgSettings)
class OrgSettingsAdmin(RecordAdmin):
    list_display = ("name", "currency", "time_zone", "fiscal_year_start_month")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by ``POST /api/auth/token`` (the secret is shown once); here they are
    listed and revoked."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "last_used_at")
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> None:
        count = queryset.update(revoked=True)
        self.message_user(request, gettext("%(count)d tokens revoked.") % {"count": count}, messages.SUCCESS)
