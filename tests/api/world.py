"""A book of records for every person of the test organisation, built once per test module.

Why once per module: the authorization matrix makes ~2,000 requests against the same records;
building the organisation for each of them would dominate the run. :func:`module_world` opens a
transaction around the module and rolls it back at the end, and each test runs in a savepoint
inside it (pytest-django's ``db``), so writes made by one test never reach the next.

Each person owns one record of each kind: a *leaf* (nothing depends on it, so it can be deleted)
and, for records that hang off an account, a separate *parent* account (with an invoice for
payments) so that deleting the leaf never trips a protected foreign key.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from salesloop.custops.tests.factories import AccountPlanFactory, CustomerNeedFactory
from salesloop.org.models import User
from salesloop.pipeline.models import LossReason, Stage
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    PaymentFactory,
    ProductFactory,
    TaskFactory,
)
from salesloop.testing.org import Org, build_org

#: The role each matrix row speaks for, and the person in ``build_org`` who plays it.
ACTOR_OF_ROLE = {
    "rep": "rep_a1",
    "group_lead": "lead_a1",
    "manager": "manager_a",
    "director": "director",
    "finance": "finance",
    "legal": "legal",
    "after_sales": "after_sales",
    "marketing": "marketing",
    "admin": "admin",
}
ROLES = list(ACTOR_OF_ROLE)

#: Everyone in ``build_org``; each of them owns a record of every kind in the world.
PEOPLE = [
    "director",
    "manager_a",
    "lead_a1",
    "rep_a1",
    "rep_a1b",
    "rep_a2",
    "lead_b1",
    "rep_b1",
    "finance",
    "legal",
    "after_sales",
    "marketing",
    "admin",
]


@dataclass
class World:
    org: Org
    people: dict[str, User]
    #: ``records[kind][username]`` → the leaf record of that kind in that person's book.
    records: dict[str, dict[str, object]] = field(default_factory=dict)
    #: ``owned[kind][username]`` → ids of every record of that kind in that person's book.
    owned: dict[str, dict[str, set[int]]] = field(default_factory=dict)
    parent_account: dict[str, object] = field(default_factory=dict)
    open_invoice: dict[str, object] = field(default_factory=dict)
    reference: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def person(self, username: str) -> User:
        return self.people[username]


def _own(world: World, kind: str, username: str, obj, *, leaf: bool = True) -> None:
    if leaf:
        world.records.setdefault(kind, {})[username] = obj
    world.owned.setdefault(kind, {}).setdefault(username, set()).add(obj.pk)


def build_world() -> World:
    from salesloop.org.models import ApiToken

    org = build_org()
    people = {name: getattr(org, name) for name in PEOPLE}
    world = World(org=org, people=people)
    for name, person in people.items():
        parent = AccountFactory(owner=person, name=f"{name} parent account")
        _own(world, "accounts", name, parent, leaf=False)
        _own(world, "accounts", name, AccountFactory(owner=person, name=f"{name} account", notes="secret"))
        world.parent_account[name] = parent
        _own(world, "contacts", name, ContactFactory(account=parent))
        _own(world, "leads", name, LeadFactory(owner=person))
        _own(world, "opportunities", name, OpportunityFactory(account=parent, owner=person))
        _own(world, "activities", name, ActivityFactory(account=parent, owner=person, notes="secret"))
        _own(world, "tasks", name, TaskFactory(assignee=person, account=parent))
        _own(world, "orders", name, OrderFactory(account=parent, owner=person))
        _own(world, "invoices", name, InvoiceFactory(account=parent, order=None))
        paid_invoice = InvoiceFactory(account=parent, order=None)
        _own(world, "invoices", name, paid_invoice, leaf=False)
        world.open_invoice[name] = world.records["invoices"][name]
        _own(world, "payments", name, PaymentFactory(invoice=paid_invoice, account=parent))
        _own(world, "contracts", name, ContractFactory(account=parent, owner=person))
        _own(world, "needs", name, CustomerNeedFactory(account=parent))
        _own(world, "account-plans", name, AccountPlanFactory(account=parent))
    world.reference = {
        "products": ProductFactory(),
        "stages": Stage.objects.create(code="matrix", name="矩阵", order=99, probability=Decimal(5)),
        "loss-reasons": LossReason.objects.create(code="matrix", name="矩阵"),
        "users": org.rep_b1,
        "teams": org.team_b,
    }
    for name, person in people.items():
        _token, key = ApiToken.issue(user=person, name="matrix")
        world.tokens[name] = key
    return world


def harmless_change(kind: str) -> dict[str, Any]:
    """A harmless change to an existing record of ``kind``."""
    return {
        "accounts": {"city": "宁波市"},
        "contacts": {"title": "采购经理"},
        "leads": {"campaign": "春季展会"},
        "opportunities": {"next_step": "安排演示"},
        "activities": {"subject": "回访"},
        "tasks": {"title": "改期跟进"},
        "orders": {"status": "delivered"},
        "invoices": {"due_date": (timezone.localdate() + timezone.timedelta(days=60)).isoformat()},
        "contracts": {"title": "补充协议"},
        "products": {"name": "新名称"},
        "stages": {"name_en": "Matrix"},
        "loss-reasons": {"name_en": "Matrix"},
        "users": {"display_name": "新名字"},
        "teams": {"region": "华东"},
        "needs": {"summary": "改进需求"},
        "account-plans": {"strategy": "深耕"},
    }[kind]


@contextlib.contextmanager
def module_world(django_db_blocker):
    """Build the world in a transaction that is rolled back when the module is done."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        yield world
        transaction.set_rollback(True)
