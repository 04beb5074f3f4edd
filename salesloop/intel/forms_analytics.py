"""Input of the analytics views: the period picker (shared by pages and API) and the cost form."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesloop.core.errors import FieldErrors
from salesloop.customers.models import SourceChannel

#: The longest period an analysis runs over (three years): longer ranges are not a review of
#: anything and would only cost the database time.
MAX_DAYS = 3 * 366


def analytics_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period to analyse: by default the 365 days up to today (local). ``FieldErrors``
    when the start is after the end or the range is longer than three years."""
    end = end or timezone.localdate()
    start = start or end - dt.timedelta(days=364)
    if start > end:
        raise FieldErrors({"start": [_("The start must not be after the end.")]})
    if (end - start).days > MAX_DAYS:
        raise FieldErrors({"start": [_("Choose a period of at most three years.")]})
    return start, end


class PeriodForm(forms.Form):
    """GET parameters of the analytics pages: ``start`` and ``end`` (the period itself is checked
    by :func:`analytics_period`, the rule the API applies too)."""

    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class CampaignCostForm(forms.Form):
    """The small cost-entry form on the lead-source page (validated again by the service)."""

    source = forms.ChoiceField(
        label=gettext_lazy("Source"), required=False, choices=[("", "—"), *SourceChannel.choices]
    )
    campaign = forms.CharField(label=gettext_lazy("Campaign"), required=False, max_length=120)
    period_start = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=gettext_lazy("Cost"), min_value=0, max_digits=16, decimal_places=2)

    def add_field_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
