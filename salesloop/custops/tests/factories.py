"""Factories and small builders for customer-operations tests."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from salesloop.custops.models import AccountPlan, CustomerNeed
from salesloop.sales.models import Order
from salesloop.testing.factories import AccountFactory, OrderFactory


def orders(
    account, *items: tuple[dt.date, str], status: str = "confirmed", currency: str = "CNY"
) -> list[Order]:
    """Orders of ``account``: one per ``(date, total)`` item."""
    return [
        OrderFactory(
            account=account,
            owner=account.owner,
            order_date=day,
            total=Decimal(total),
            cost_total=Decimal(0),
            margin=Decimal(total),
            status=status,
            currency=currency,
        )
        for day, total in items
    ]


class CustomerNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerNeed
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    kind = "pain_point"
    summary = factory.Sequence(lambda n: f"需求{n}")
    quote = "现有产品无法满足多终端协同"
    tags = factory.LazyFunction(lambda: ["多终端协同"])
    captured_by = factory.SelfAttribute("account.owner")
    captured_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def tag_rows(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            from salesloop.custops.services import _write_tags

            _write_tags(obj)


class AccountPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountPlan

    account = factory.SubFactory(AccountFactory)
    tier = "strategic"
    period_start = dt.date(2025, 1, 1)
    period_end = dt.date(2025, 12, 31)
    revenue_goal = Decimal("500000.00")
    goals = "年度续约\n扩展到华南分公司"
    stakeholders = factory.LazyFunction(
        lambda: [
            {
                "name": "王总",
                "title": "CIO",
                "role": "decision_maker",
                "stance": "supporter",
                "influence": 5,
            }
        ]
    )
    next_steps = factory.LazyFunction(list)
