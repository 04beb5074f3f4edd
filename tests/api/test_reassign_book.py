"""Moving a leaver's book (``POST /api/org/reassign-book``): everything moves, history stays."""

from __future__ import annotations

from salesloop.activities.models import Activity, Task, TaskStatus
from salesloop.audit.models import AuditAction, AuditEntry
from salesloop.customers.models import Account, Lead
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Contract, Order
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContractFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    TaskFactory,
)


def _book(owner):
    account = AccountFactory(owner=owner)
    return {
        "account": account,
        "lead": LeadFactory(owner=owner),
        "deal": OpportunityFactory(account=account, owner=owner),
        "activity": ActivityFactory(account=account, owner=owner, performed_by=owner),
        "open_task": TaskFactory(assignee=owner, account=account),
        "done_task": TaskFactory(assignee=owner, account=account, status=TaskStatus.DONE),
        "order": OrderFactory(account=account, owner=owner),
        "contract": ContractFactory(account=account, owner=owner),
    }


def _move(client, from_user, to_user):
    return client.post_json("/api/org/reassign-book", {"from_user_id": from_user.pk, "to_user_id": to_user.pk})


def test_a_manager_moves_a_whole_book_and_the_history_stays(org, api_as):
    book = _book(org.rep_a1)
    other = _book(org.rep_a1b)

    response = _move(api_as(org.manager_a), org.rep_a1, org.rep_a2)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "accounts": 1,
        "leads": 1,
        "opportunities": 1,
        "activities": 1,
        "open_tasks": 1,
        "contracts": 1,
    }
    assert Account.objects.get(pk=book["account"].pk).owner == org.rep_a2
    assert Lead.objects.get(pk=book["lead"].pk).owner == org.rep_a2
    assert Opportunity.objects.get(pk=book["deal"].pk).owner == org.rep_a2
    assert Contract.objects.get(pk=book["contract"].pk).owner == org.rep_a2
    activity = Activity.objects.get(pk=book["activity"].pk)
    assert (activity.owner, activity.performed_by) == (org.rep_a2, org.rep_a1), "who did it is kept"
    assert Task.objects.get(pk=book["open_task"].pk).assignee == org.rep_a2
    assert Task.objects.get(pk=book["done_task"].pk).assignee == org.rep_a1, "done work stays with its doer"
    assert Order.objects.get(pk=book["order"].pk).owner == org.rep_a1, "the sale stays credited to its rep"
    assert Account.objects.get(pk=other["account"].pk).owner == org.rep_a1b, "other books do not move"


def test_each_moved_audited_record_gets_an_entry_with_the_old_owner(org, api_as):
    book = _book(org.rep_a1)

    _move(api_as(org.manager_a), org.rep_a1, org.rep_a2)

    entries = AuditEntry.objects.filter(action=AuditAction.REASSIGN)
    moved = {(e.content_type.model, e.object_id) for e in entries}
    assert moved == {
        ("account", book["account"].pk),
        ("opportunity", book["deal"].pk),
        ("contract", book["contract"].pk),
    }
    for entry in entries:
        assert entry.changes == {"owner_id": [org.rep_a1.pk, org.rep_a2.pk]}
        assert (entry.actor, entry.source) == (org.manager_a, "reassign")


def test_a_moved_record_gets_a_new_version_so_an_edit_prepared_before_the_move_is_refused(org, api_as):
    book = _book(org.rep_a1)
    manager = api_as(org.manager_a)

    _move(manager, org.rep_a1, org.rep_a2)
    stale = manager.patch_json(f"/api/accounts/{book['account'].pk}", {"city": "宁波市", "version": 1})

    assert stale.status_code == 409
    assert stale.json()["current"]["owner_id"] == org.rep_a2.pk


def test_the_new_owner_sees_and_edits_the_moved_book_and_the_old_owner_no_longer_does(org, api_as):
    book = _book(org.rep_a1)
    _move(api_as(org.lead_a1), org.rep_a1, org.rep_a1b)
    account_id = book["account"].pk

    assert api_as(org.rep_a1).get(f"/api/accounts/{account_id}").status_code == 404
    new_owner = api_as(org.rep_a1b)
    version = new_owner.get(f"/api/accounts/{account_id}").json()["version"]
    edit = new_owner.patch_json(f"/api/accounts/{account_id}", {"city": "宁波市", "version": version})
    assert edit.status_code == 200
    order_edit = new_owner.patch_json(f"/api/orders/{book['order'].pk}", {"status": "delivered", "version": 1})
    assert order_edit.status_code == 200, "an order credited to the old rep stays editable by the account's owner"


def test_a_group_lead_cannot_move_a_book_out_of_or_into_another_group(org, api_as):
    book = _book(org.rep_a2)
    lead = api_as(org.lead_a1)

    assert _move(lead, org.rep_a2, org.rep_a1).status_code == 403
    assert _move(lead, org.rep_a1, org.rep_a2).status_code == 403

    assert Account.objects.get(pk=book["account"].pk).owner == org.rep_a2
    assert not AuditEntry.objects.filter(action=AuditAction.REASSIGN).exists()


def test_a_rep_cannot_give_away_their_own_book(org, api_as):
    book = _book(org.rep_a1)

    response = _move(api_as(org.rep_a1), org.rep_a1, org.rep_a1b)

    assert response.status_code == 403
    assert Account.objects.get(pk=book["account"].pk).owner == org.rep_a1


def test_moving_to_the_same_person_an_inactive_person_or_an_unknown_id_is_a_field_error(org, api_as):
    manager = api_as(org.manager_a)
    org.rep_a2.is_active = False
    org.rep_a2.save()

    same = _move(manager, org.rep_a1, org.rep_a1)
    inactive = _move(manager, org.rep_a1, org.rep_a2)
    unknown = manager.post_json("/api/org/reassign-book", {"from_user_id": org.rep_a1.pk, "to_user_id": 10**9})

    assert (same.status_code, inactive.status_code, unknown.status_code) == (422, 422, 422)
    assert "to_user_id" in same.json()["errors"]
    assert "to_user_id" in inactive.json()["errors"]
    assert "to_user_id" in unknown.json()["errors"]
