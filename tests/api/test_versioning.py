"""Optimistic concurrency: a write quoting a stale version gets 409 with the record as it is now.

Every versioned resource of the API is checked (a new one must be added to ``FACTORIES``), and the
second guard (the conditional ``UPDATE ... WHERE version = n``) is exercised by changing the row
between the read and the write, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import pytest

from salesloop.api_registry import ALL_RESOURCES
from salesloop.audit.models import AuditAction, AuditEntry
from salesloop.core import records
from salesloop.custops.tests.factories import AccountPlanFactory, CustomerNeedFactory
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    ProductFactory,
    TaskFactory,
)

from .world import harmless_change


def _is_versioned(resource) -> bool:
    return any(f.name == "version" for f in resource.model._meta.concrete_fields)


VERSIONED = {r.path: r for r in ALL_RESOURCES if _is_versioned(r) and r.allow_update}

#: How to make a record of each versioned resource in the admin's reach.
FACTORIES = {
    "accounts": lambda org: AccountFactory(owner=org.rep_a1),
    "contacts": lambda org: ContactFactory(account=AccountFactory(owner=org.rep_a1)),
    "leads": lambda org: LeadFactory(owner=org.rep_a1),
    "opportunities": lambda org: OpportunityFactory(account=AccountFactory(owner=org.rep_a1)),
    "activities": lambda org: ActivityFactory(account=AccountFactory(owner=org.rep_a1)),
    "tasks": lambda org: TaskFactory(assignee=org.rep_a1),
    "orders": lambda org: OrderFactory(account=AccountFactory(owner=org.rep_a1)),
    "invoices": lambda org: InvoiceFactory(account=AccountFactory(owner=org.rep_a1), order=None),
    "contracts": lambda org: ContractFactory(account=AccountFactory(owner=org.rep_a1)),
    "products": lambda org: ProductFactory(),
    "needs": lambda org: CustomerNeedFactory(account=AccountFactory(owner=org.rep_a1)),
    "account-plans": lambda org: AccountPlanFactory(account=AccountFactory(owner=org.rep_a1)),
}

#: A second, different change for the stale writer.
OTHER_CHANGE = {
    "accounts": {"city": "温州市"},
    "contacts": {"title": "财务总监"},
    "leads": {"campaign": "秋季展会"},
    "opportunities": {"next_step": "报价"},
    "activities": {"subject": "电话"},
    "tasks": {"title": "再次跟进"},
    "orders": {"status": "cancelled"},
    "invoices": {"status": "void"},
    "contracts": {"title": "终止协议"},
    "products": {"name": "旧名称"},
    "needs": {"summary": "另一个需求"},
    "account-plans": {"strategy": "维持"},
}


def test_every_versioned_resource_has_a_stale_write_case():
    missing = set(VERSIONED) - set(FACTORIES)
    assert not missing, f"add a factory and a change for {sorted(missing)}"


@pytest.mark.parametrize("path", sorted(FACTORIES))
def test_stale_patch_gets_409_with_the_current_version_and_keeps_the_newer_value(org, api_as, path):
    record = FACTORIES[path](org)
    client = api_as(org.admin)
    first_change, second_change = harmless_change(path), OTHER_CHANGE[path]
    field = next(iter(first_change))

    first = client.patch_json(f"/api/{path}/{record.pk}", {**first_change, "version": 1})
    stale = client.patch_json(f"/api/{path}/{record.pk}", {**second_change, "version": 1})

    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2
    assert stale.status_code == 409, stale.content
    current = stale.json()["current"]
    assert current["id"] == record.pk and current["version"] == 2
    assert current[field] == first.json()[field]
    record.refresh_from_db()
    assert record.version == 2
    assert str(getattr(record, field)) == str(first.json()[field])


@pytest.mark.parametrize("path", sorted(p for p in FACTORIES if VERSIONED[p].allow_delete))
def test_stale_delete_gets_409_and_keeps_the_record(org, api_as, path):
    record = FACTORIES[path](org)
    client = api_as(org.admin)
    assert client.patch_json(f"/api/{path}/{record.pk}", {**harmless_change(path), "version": 1}).status_code == 200

    response = client.delete(f"/api/{path}/{record.pk}?version=1")

    assert response.status_code == 409
    assert response.json()["current"]["version"] == 2
    assert type(record).objects.filter(pk=record.pk).exists()


def test_a_patch_without_a_version_is_a_field_error(org, api_as):
    account = AccountFactory(owner=org.rep_a1)

    response = api_as(org.rep_a1).patch_json(f"/api/accounts/{account.pk}", {"city": "宁波市"})

    assert response.status_code == 422
    assert "version" in response.json()["errors"]


def test_a_row_changed_between_read_and_write_is_refused_by_the_conditional_update(org, api_as, monkeypatch):
    """Simulates a writer that got in after ours read the row but before ours writes it.

    (The interloper runs on our own connection here, so our rollback undoes it too; what matters
    is that our write is refused rather than applied over it. The real two-connection race is in
    ``test_concurrent_writes``.)
    """
    account = AccountFactory(owner=org.rep_a1)
    real_validate = records.validate

    def validate_then_someone_else_writes(instance, **kwargs):
        real_validate(instance, **kwargs)
        type(instance).objects.filter(pk=instance.pk).update(city="丽水市", version=2)

    monkeypatch.setattr(records, "validate", validate_then_someone_else_writes)

    response = api_as(org.rep_a1).patch_json(f"/api/accounts/{account.pk}", {"city": "宁波市", "version": 1})

    assert response.status_code == 409
    assert response.json()["current"]["city"] == "丽水市"
    account.refresh_from_db()
    assert account.city != "宁波市"
    assert not AuditEntry.objects.filter(object_id=account.pk, action=AuditAction.UPDATE).exists()


def test_each_accepted_change_is_audited_with_before_and_after(org, api_as):
    account = AccountFactory(owner=org.rep_a1, city="杭州市")

    api_as(org.rep_a1).patch_json(f"/api/accounts/{account.pk}", {"city": "宁波市", "version": 1})

    entry = AuditEntry.objects.get(object_id=account.pk, action=AuditAction.UPDATE)
    assert entry.changes == {"city": ["杭州市", "宁波市"]}
    assert entry.actor == org.rep_a1 and entry.source == "api"
