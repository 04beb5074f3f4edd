"""Forms for the automation pages: a rule (with its trigger's conditions), a holiday, a report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from salesloop.automation.briefs import EVENING_NUMBERS
from salesloop.automation.models import Holiday, Rule
from salesloop.automation.triggers import TRIGGERS, Param

_MONEY_KEYS = ("won_amount", "collected")


class RuleForm(forms.ModelForm):
    """The rule's own fields plus one field per condition its trigger declares (``param_<name>``).

    The trigger itself is not changed here (its conditions would change meaning); an admin
    creates a new rule for another trigger.
    """

    class Meta:
        model = Rule
        fields = [
            "name",
            "name_en",
            "description",
            "is_active",
            "create_task",
            "task_kind",
            "task_title",
            "task_title_en",
            "assign_to",
            "due_amount",
            "due_unit",
            "notify_assignee",
            "notify_lead",
            "notify_role",
            "escalate_after_hours",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = TRIGGERS[self.instance.trigger]
        values = spec.values(self.instance)
        self.param_names: list[str] = []
        for param in spec.params:
            name = f"param_{param.name}"
            self.fields[name] = _param_field(param, values[param.name])
            self.param_names.append(name)
        placeholders = ", ".join(f"{{{p}}}" for p in spec.placeholders)
        for name in ("task_title", "task_title_en"):
            self.fields[name].help_text = _("Placeholders: %(names)s") % {"names": placeholders}

    def params(self) -> dict[str, Any]:
        spec = TRIGGERS[self.instance.trigger]
        out: dict[str, Any] = {}
        for param in spec.params:
            value = self.cleaned_data.get(f"param_{param.name}")
            if param.kind == "words":
                value = [w.strip() for w in (value or "").splitlines() if w.strip()]
            elif param.kind == "choices":
                value = list(value or [])
            out[param.name] = value
        return out


def _param_field(param: Param, initial: Any) -> forms.Field:
    label = param.label
    if param.kind == "int":
        return forms.IntegerField(
            label=label, initial=initial, min_value=param.minimum, max_value=param.maximum
        )
    if param.kind == "bool":
        return forms.BooleanField(label=label, initial=initial, required=False)
    if param.kind == "choice":
        return forms.ChoiceField(
            label=label, initial=initial, choices=param.choices() if param.choices else []
        )
    if param.kind == "choices":
        return forms.MultipleChoiceField(
            label=label,
            initial=initial,
            choices=param.choices() if param.choices else [],
            widget=forms.CheckboxSelectMultiple,
        )
    return forms.CharField(
        label=label,
        initial="\n".join(initial or []),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=param.help_text,
    )


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name", "kind"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}


class EveningReportForm(forms.Form):
    """Today's numbers (pre-filled from logged activities), results, tomorrow's plan, blockers."""

    results_note = forms.CharField(
        label=_("Results and learnings"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tomorrow_plan = forms.CharField(
        label=_("Tomorrow's plan"), widget=forms.Textarea(attrs={"rows": 3})
    )
    blockers = forms.CharField(
        label=_("Blockers, help needed"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: str = "CNY", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        for key, label in EVENING_NUMBERS.items():
            if key in _MONEY_KEYS:
                field: forms.Field = forms.DecimalField(
                    label=f"{label} ({currency})",
                    min_value=Decimal(0),
                    max_digits=16,
                    decimal_places=2,
                    required=False,
                )
            else:
                field = forms.IntegerField(
                    label=label, min_value=0, max_value=100000, required=False
                )
            self.fields[f"n_{key}"] = field
        self.number_fields = [self[f"n_{key}"] for key in EVENING_NUMBERS]

    @staticmethod
    def initial_from(draft: dict[str, Any], currency: str) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "results_note": draft["results_note"],
            "tomorrow_plan": draft["tomorrow_plan"],
            "blockers": draft["blockers"],
            "version": draft["version"],
        }
        for key in EVENING_NUMBERS:
            value = draft["numbers"].get(key, 0)
            if key in _MONEY_KEYS:
                value = Decimal((value or {}).get(currency, "0"))
            initial[f"n_{key}"] = value
        return initial

    def payload(self) -> dict[str, Any]:
        numbers: dict[str, Any] = {}
        for key in EVENING_NUMBERS:
            value = self.cleaned_data.get(f"n_{key}")
            if value is None:
                continue
            numbers[key] = {self.currency: str(value)} if key in _MONEY_KEYS else value
        return {
            "numbers": numbers,
            "results_note": self.cleaned_data.get("results_note", ""),
            "tomorrow_plan": self.cleaned_data.get("tomorrow_plan", ""),
            "blockers": self.cleaned_data.get("blockers", ""),
        }
