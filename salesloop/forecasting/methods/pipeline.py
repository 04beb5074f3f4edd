"""Method (b): the weighted pipeline.

Forecast = revenue already won in the period (up to ``as_of``) + Σ over the scope's deals open at
``as_of`` with an expected close date in the period of amount × probability (the deal's own
probability, else its stage's default: ``Opportunity.effective_probability``). Lost deals never
count: they are neither open nor won. How a deal's state at ``as_of`` is replayed is in
``salesloop.analytics.queries.forecast_pipeline``.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from salesloop.forecasting.methods.base import MethodResult, money
from salesloop.forecasting.models import Method

ZERO = Decimal("0.00")


def result(*, won: Decimal, weighted: Decimal, unweighted: Decimal, deals: int, currency: str) -> MethodResult:
    amount = money(won + weighted)
    return MethodResult(
        Method.PIPELINE,
        amount,
        currency,
        _("Won so far %(won)s + %(deals)s open deals closing in the period, weighted by probability: %(weighted)s.")
        % {"won": money(won), "deals": deals, "weighted": money(weighted)},
        {
            "won_so_far": str(money(won)),
            "open_deals": deals,
            "open_amount": str(money(unweighted)),
            "weighted_open": str(money(weighted)),
            "note_close_dates": _("Expected close dates are taken as they are now."),
        },
    )
