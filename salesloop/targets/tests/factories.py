"""Factories for targets tests: a target, and a won deal closed at a given moment."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from salesloop.pipeline.models import StageChange
from salesloop.targets.models import Target, TargetSource, TargetStatus
from salesloop.targets.periods import PeriodKind, period_containing
from salesloop.testing.factories import ActivityFactory, OpportunityFactory, stage


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    metric = "revenue"
    period_kind = PeriodKind.QUARTER
    period_start = dt.date(2025, 7, 1)
    period_end = factory.LazyAttribute(lambda o: period_containing(o.period_kind, o.period_start).end)
    amount = Decimal("1000000.00")
    status = TargetStatus.APPROVED
    source = TargetSource.TOP_DOWN


def local(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour)).replace(tzinfo=timezone.get_current_timezone())


def won_deal(*, owner, amount, closed: dt.datetime, account=None, stage_code: str = "won"):
    """A won deal with its stage history (qualified → proposal → won) ending at ``closed``."""
    kwargs = {"owner": owner, "amount": Decimal(amount), "stage": stage(stage_code), "closed_at": closed}
    if account is not None:
        kwargs["account"] = account
    else:
        kwargs["account__owner"] = owner
    opp = OpportunityFactory(**kwargs)
    for i, code in enumerate(["qualified", "proposal", stage_code]):
        StageChange.objects.create(
            opportunity=opp,
            to_stage=stage(code),
            changed_at=closed - dt.timedelta(days=10 - 5 * i),
            amount=opp.amount,
        )
    return opp


def visits(*, owner, n: int, on: dt.date, account=None):
    kwargs = {"owner": owner, "performed_by": owner, "occurred_at": local(on)}
    if account is not None:
        kwargs["account"] = account
    else:
        kwargs["account__owner"] = owner
    return [ActivityFactory(**kwargs) for _ in range(n)]
