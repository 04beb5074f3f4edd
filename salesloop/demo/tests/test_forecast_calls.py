"""The demo's forecast calls: one per rep and closed month with revenue, made before the month,
reproducible from the seed, around the actual."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from salesloop.demo.forecast_calls import CALL_LEAD, forecast_calls_build
from salesloop.forecasting.models import Submission
from salesloop.pipeline.models import Stage
from salesloop.testing.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def _won(rep, amount: str, day: dt.date) -> None:
    closed = dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())
    OpportunityFactory(
        account=AccountFactory(owner=rep),
        owner=rep,
        stage=Stage.objects.get(code="won"),
        amount=Decimal(amount),
        closed_at=closed,
    )


def test_each_rep_calls_each_closed_month_with_revenue_before_it_starts(org):
    _won(org.rep_a1, "10000", dt.date(2026, 9, 10))
    _won(org.rep_a1, "20000", dt.date(2026, 10, 5))
    _won(org.rep_b1, "5000", dt.date(2026, 10, 20))
    _won(org.rep_b1, "7000", dt.date(2026, 11, 3))  # the current month: not closed, no call

    written = forecast_calls_build(seed=3, as_of=dt.date(2026, 11, 22), months=3)

    calls = {(s.owner_id, s.period_start): s for s in Submission.objects.all()}
    assert written == 3
    assert set(calls) == {
        (org.rep_a1.pk, dt.date(2026, 9, 1)),
        (org.rep_a1.pk, dt.date(2026, 10, 1)),
        (org.rep_b1.pk, dt.date(2026, 10, 1)),
    }
    for (_rep, start), call in calls.items():
        assert timezone.localdate(call.submitted_at) == start - CALL_LEAD
        assert call.period_end.month == start.month and (call.period_end + dt.timedelta(days=1)).day == 1
    september = calls[(org.rep_a1.pk, dt.date(2026, 9, 1))]
    assert Decimal("5000") < september.amount < Decimal("20000")  # around the 10,000 actual


def test_the_same_seed_gives_the_same_calls(org):
    _won(org.rep_a1, "10000", dt.date(2026, 9, 10))
    forecast_calls_build(seed=3, as_of=dt.date(2026, 11, 22), months=3)
    first = list(Submission.objects.values_list("amount", flat=True))
    Submission.objects.all().delete()

    forecast_calls_build(seed=3, as_of=dt.date(2026, 11, 22), months=3)

    assert list(Submission.objects.values_list("amount", flat=True)) == first
