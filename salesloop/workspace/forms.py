"""Input of the workspace pages: quick log, board filters and moves, manager table options."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from salesloop.activities.models import ActivityKind
from salesloop.org.models import Team, User
from salesloop.workspace import selectors

QUICK_LOG_KINDS = [
    (ActivityKind.VISIT, ActivityKind.VISIT.label),
    (ActivityKind.CALL, ActivityKind.CALL.label),
]


class QuickLogForm(forms.Form):
    """Three fields: the kind, the account or deal (``account:ID``/``opportunity:ID``), a note."""

    kind = forms.ChoiceField(label=_("Kind"), choices=QUICK_LOG_KINDS, initial=ActivityKind.VISIT)
    link = forms.CharField(
        label=_("Account or opportunity"),
        max_length=40,
        error_messages={"required": _("Choose an account or an opportunity.")},
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_link(self) -> tuple[str, int]:
        kind, _sep, pk = self.cleaned_data["link"].partition(":")
        if kind not in {"account", "opportunity"} or not pk.isdigit():
            raise forms.ValidationError(_("Choose an account or an opportunity."))
        return kind, int(pk)


class MonthField(forms.CharField):
    """``YYYY-MM`` (what ``<input type=month>`` sends) → the first day of that month."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError as exc:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."), code="invalid") from exc


class BoardFilterForm(forms.Form):
    """Owner, team and expected close month; choices are limited to what the viewer may see."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    month = MonthField(
        label=_("Expected close month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.team_members(user).order_by(
            "display_name", "username"
        )
        self.fields["team"].queryset = selectors.visible_teams(user)
        for name in ("owner", "team"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["month"].widget.attrs["class"] = "form-control form-control-sm"

    def filters(self) -> selectors.BoardFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.BoardFilters(
            owner=data.get("owner"), team=data.get("team"), close_month=data.get("month")
        )


class BoardMoveForm(forms.Form):
    opportunity_id = forms.IntegerField(min_value=1)
    stage_id = forms.IntegerField(min_value=1)
    version = forms.IntegerField(min_value=1)
    loss_reason_id = forms.IntegerField(min_value=1, required=False)
    loss_note = forms.CharField(max_length=200, required=False)


PERIOD_CHOICES = [("today", _("Today")), ("week", _("This week"))]


class TeamTableForm(forms.Form):
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False)
    sort = forms.ChoiceField(
        choices=[(f"{sign}{key}", key) for key in selectors.SORT_KEYS for sign in ("", "-")],
        required=False,
    )

    def clean_period(self) -> str:
        return self.cleaned_data["period"] or "week"

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "-won_amount"
