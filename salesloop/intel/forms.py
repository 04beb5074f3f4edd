"""Forms of the pipeline-intelligence pages: the period picker, benchmarks, routing rules and
the routing dry run. They only parse input; rules about who may write live in ``services``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesloop.analytics.queries.funnel import DIMENSIONS
from salesloop.customers.models import SourceChannel
from salesloop.intel import routing
from salesloop.intel.models import MatchMode, RoutingRule, Strategy
from salesloop.org.models import Role, Seniority, Team, User
from salesloop.pipeline.models import Stage

#: Longest period a page accepts (the API's limit too).
MAX_DAYS = 3 * 366

DIMENSION_LABELS = {
    "company": gettext_lazy("Whole company"),
    "team": gettext_lazy("Team"),
    "rep": gettext_lazy("Rep"),
    "source": gettext_lazy("Lead source"),
    "industry": gettext_lazy("Industry"),
    "region": gettext_lazy("Region"),
    "province": gettext_lazy("Province"),
    "city": gettext_lazy("City"),
    "period": gettext_lazy("Period"),
}


class PeriodForm(forms.Form):
    """Local dates, inclusive; by default the last 365 days up to today."""

    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["end"].initial = today
        self.fields["start"].initial = today - dt.timedelta(days=364)

    def period(self) -> tuple[dt.date, dt.date] | None:
        """The chosen period, or None with the errors on the form (an unbound form: the default)."""
        data: dict[str, Any] = {}
        if self.is_bound:
            if not self.is_valid():
                return None
            data = self.cleaned_data
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - dt.timedelta(days=364)
        if start > end:
            self.add_error("start", _("The start must not be after the end."))
            return None
        if (end - start).days > MAX_DAYS:
            self.add_error("start", _("Choose a period of at most three years."))
            return None
        if self.is_bound:  # show the resolved period in the picker, not empty inputs
            self.data = self.data.copy()
            self.data[self.add_prefix("start")], self.data[self.add_prefix("end")] = start, end
        return start, end


class FunnelForm(PeriodForm):
    dimension = forms.ChoiceField(label=gettext_lazy("Break down by"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = [(d, DIMENSION_LABELS.get(d, d)) for d in DIMENSIONS]


class HeatmapForm(PeriodForm):
    kind = forms.ChoiceField(label=gettext_lazy("Activity kind"), required=False)

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *kinds]


class BenchmarkForm(forms.Form):
    """A benchmark typed as a percentage (50 = 50%); stored as the fraction 0.50."""

    from_stage = forms.ModelChoiceField(label=gettext_lazy("From stage"), queryset=Stage.objects.none())
    to_stage = forms.ModelChoiceField(label=gettext_lazy("To stage"), queryset=Stage.objects.none())
    rate = forms.DecimalField(
        label=gettext_lazy("Benchmark (%)"), min_value=Decimal(0), max_value=Decimal(100), decimal_places=2
    )
    label = forms.CharField(label=gettext_lazy("Label"), max_length=80, initial="industry")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stages = Stage.objects.filter(is_active=True, is_lost=False).order_by("order", "id")
        self.fields["from_stage"].queryset = stages
        self.fields["to_stage"].queryset = stages

    def service_data(self) -> dict[str, Any]:
        return {
            "from_stage_id": self.cleaned_data["from_stage"].pk,
            "to_stage_id": self.cleaned_data["to_stage"].pk,
            "rate": (self.cleaned_data["rate"] / 100).quantize(Decimal("0.0001")),
            "label": self.cleaned_data["label"],
        }


def conditions_as_text(conditions: list[dict]) -> str:
    """One condition a line, ``field op value``; list values comma-separated."""
    lines = []
    for cond in conditions or []:
        value = cond.get("value", "")
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        lines.append(f"{cond.get('field', '')} {cond.get('op', '')} {value}".rstrip())
    return "\n".join(lines)


def conditions_from_text(text: str) -> list[dict]:
    """The inverse of :func:`conditions_as_text` (``in``/``not_in`` take a comma list)."""
    out = []
    for line in (text or "").splitlines():
        parts = line.strip().split(None, 2)
        if not parts:
            continue
        field, op = parts[0], parts[1] if len(parts) > 1 else ""
        raw = parts[2] if len(parts) > 2 else ""
        cond: dict[str, Any] = {"field": field, "op": op}
        if op in ("in", "not_in"):
            cond["value"] = [v.strip() for v in raw.replace("，", ",").split(",") if v.strip()]
        elif op not in ("empty", "not_empty"):
            cond["value"] = raw
        out.append(cond)
    return out


class RoutingRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, initial=100)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    match = forms.ChoiceField(label=gettext_lazy("Match"), choices=MatchMode.choices, initial=MatchMode.ALL)
    conditions = forms.CharField(
        label=gettext_lazy("Conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "industry in 金融, 医疗\nbudget gte 100000"}),
    )
    strategy = forms.ChoiceField(label=gettext_lazy("Strategy"), choices=Strategy.choices)
    team = forms.ModelChoiceField(label=gettext_lazy("Team"), queryset=Team.objects.order_by("path"), required=False)
    user = forms.ModelChoiceField(label=gettext_lazy("Named rep"), queryset=User.objects.none(), required=False)
    seniority = forms.ChoiceField(
        label=gettext_lazy("Seniority"), choices=[("", "—"), *Seniority.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True, role=Role.REP).order_by("username")
        self.fields["conditions"].help_text = _(
            "One condition a line: lead field, operator, value. Operators: %(ops)s. "
            "For in and not_in separate the values with commas."
        ) % {"ops": ", ".join(routing.OPS)}

    @classmethod
    def for_rule(cls, rule: RoutingRule) -> RoutingRuleForm:
        return cls(
            initial={
                "name": rule.name,
                "position": rule.position,
                "is_active": rule.is_active,
                "match": rule.match,
                "conditions": conditions_as_text(rule.conditions),
                "strategy": rule.strategy,
                "team": rule.team_id,
                "user": rule.user_id,
                "seniority": rule.seniority,
            }
        )

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "position": d["position"],
            "is_active": d["is_active"],
            "match": d["match"],
            "conditions": conditions_from_text(d["conditions"]),
            "strategy": d["strategy"],
            "team_id": d["team"].pk if d["team"] else None,
            "user_id": d["user"].pk if d["user"] else None,
            "seniority": d["seniority"],
        }


class RoutingPreviewForm(forms.Form):
    """The "test a lead" form: the lead fields rules usually look at; nothing is saved."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    company = forms.CharField(label=gettext_lazy("Company"), max_length=200, required=False)
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), choices=[("", "—"), *SourceChannel.choices], required=False
    )
    campaign = forms.CharField(label=gettext_lazy("Campaign"), max_length=120, required=False)
    budget = forms.DecimalField(label=gettext_lazy("Budget"), min_value=Decimal(0), decimal_places=2, required=False)
    industry = forms.CharField(label=gettext_lazy("Industry"), max_length=60, required=False)
    province = forms.CharField(label=gettext_lazy("Province"), max_length=40, required=False)
    city = forms.CharField(label=gettext_lazy("City"), max_length=40, required=False)

    def preview_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
