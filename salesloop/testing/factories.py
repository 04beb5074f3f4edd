"""factory_boy factories for every business record (tests and benchmarks share them)."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from salesloop.activities.models import Activity, ActivityKind, Task
from salesloop.customers.models import Account, Contact, Lead
from salesloop.org.models import Membership, Role, Team, TeamKind, User
from salesloop.pipeline.models import Opportunity, Stage
from salesloop.sales.models import Contract, Invoice, Order, Payment, Product


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    kind = TeamKind.TEAM


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = Role.REP
    password = factory.django.Password("pass-1234-word")

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):  # noqa: N805
        if create and obj.team_id:
            Membership.objects.get_or_create(
                user=obj,
                team_id=obj.team_id,
                defaults={"is_lead": obj.role != Role.REP, "start_date": dt.date(2025, 1, 1)},
            )


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"客户{n}有限公司")
    industry = "制造业"
    province = "浙江省"
    city = "杭州市"
    owner = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"线索{n}")
    company = factory.Sequence(lambda n: f"潜在客户{n}")
    source = "expo"
    owner = factory.SubFactory(UserFactory)


def stage(code: str) -> Stage:
    return Stage.objects.get(code=code)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"商机{n}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.SelfAttribute("account.owner")
    amount = Decimal("100000.00")
    stage = factory.LazyFunction(lambda: stage("qualified"))
    stage_entered_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = ActivityKind.VISIT
    occurred_at = factory.LazyFunction(timezone.now)
    account = factory.SubFactory(AccountFactory)
    owner = factory.SelfAttribute("account.owner")
    performed_by = factory.SelfAttribute("owner")
    subject = "拜访"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"跟进任务{n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    assignee = factory.SubFactory(UserFactory)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    list_price = Decimal("1000.00")
    minimum_price = Decimal("800.00")
    cost = Decimal("600.00")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"SO-{n:06d}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.SelfAttribute("account.owner")
    order_date = factory.LazyFunction(lambda: timezone.localdate())
    total = Decimal("10000.00")
    cost_total = Decimal("6000.00")
    margin = Decimal("4000.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    number = factory.Sequence(lambda n: f"INV-{n:06d}")
    order = factory.SubFactory(OrderFactory)
    account = factory.SelfAttribute("order.account")
    issue_date = factory.LazyFunction(lambda: timezone.localdate())
    due_date = factory.LazyAttribute(lambda o: o.issue_date + dt.timedelta(days=30))
    amount = Decimal("10000.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    invoice = factory.SubFactory(InvoiceFactory)
    account = factory.SelfAttribute("invoice.account")
    amount = Decimal("1000.00")
    paid_at = factory.LazyFunction(timezone.now)


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    number = factory.Sequence(lambda n: f"HT-{n:06d}")
    title = "年度采购合同"
    account = factory.SubFactory(AccountFactory)
    owner = factory.SelfAttribute("account.owner")
    start_date = factory.LazyFunction(lambda: timezone.localdate())
    end_date = factory.LazyAttribute(lambda o: o.start_date + dt.timedelta(days=365))
    value = Decimal("120000.00")
