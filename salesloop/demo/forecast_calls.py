"""The demo reps' forecast calls: a submitted number for each past month, so the commit method
and its accuracy record show on demo data (seed 001 销售预测技巧: reps' own calls, measured).

Each rep has a personal habit drawn once — a bias (on average slightly sandbagging, as reps
protect their number) and a spread — and calls each closed month at the actual revenue times
``1 + bias + noise``. The call is dated ten days before the month starts, so the weekly snapshot
that accuracy scores (the last one before the period) already holds it. Reproducible from the
demo seed; months without revenue get no call.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from salesloop.analytics.queries.actuals import ScopeFilter
from salesloop.analytics.queries.revenue_history import monthly_revenue
from salesloop.forecasting.models import Submission
from salesloop.org.models import OrgSettings, Role, User

#: Mean and spread of the reps' habitual bias, and how far before the month the call is made.
BIAS_MEAN, BIAS_SD = -0.06, 0.10
SPREAD_RANGE = (0.08, 0.30)
CALL_LEAD = dt.timedelta(days=10)
CENT = Decimal("0.01")


def _month_starts(as_of: dt.date, months: int) -> list[dt.date]:
    first = as_of.replace(day=1)
    out = []
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(first)
    return sorted(out)


def forecast_calls_build(*, seed: int, as_of: dt.date, months: int = 8) -> int:
    """Create the calls for the ``months`` closed months before ``as_of``; returns rows written."""
    tz = timezone.get_current_timezone()
    starts = _month_starts(as_of, months)
    cut = dt.datetime.combine(as_of.replace(day=1), dt.time.min, tzinfo=tz)
    revenue = monthly_revenue(ScopeFilter(), first_month=starts[0], as_of=cut, by_rep=True)
    currency = OrgSettings.current().currency
    rng = random.Random(f"forecast-calls:{seed}")
    rows = []
    for rep_id in User.objects.filter(role=Role.REP).order_by("pk").values_list("pk", flat=True):
        bias, spread = rng.gauss(BIAS_MEAN, BIAS_SD), rng.uniform(*SPREAD_RANGE)
        for start in starts:
            noise = rng.gauss(0, spread)
            actual = revenue.get((rep_id, start))
            if not actual:
                continue
            call = (actual * Decimal(str(max(0.0, 1 + bias + noise)))).quantize(CENT, ROUND_HALF_UP)
            end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
            rows.append(
                Submission(
                    owner_id=rep_id,
                    period_start=start,
                    period_end=end,
                    amount=call,
                    currency=currency,
                    commit_amount=call,
                    best_case_amount=(call * Decimal("1.15")).quantize(CENT, ROUND_HALF_UP),
                    pipeline_amount=(call * Decimal("1.50")).quantize(CENT, ROUND_HALF_UP),
                    submitted_at=dt.datetime.combine(start - CALL_LEAD, dt.time(17, 0), tzinfo=tz),
                )
            )
    Submission.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
