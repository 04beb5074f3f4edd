"""Two connections writing the same record at the same time: one wins, the other gets 409.

These need real concurrent connections and committed data, so they run on PostgreSQL (the
production database; ``DATABASE_URL=postgresql://...``). SQLite's in-memory test database is one
shared-cache file whose table locks fail immediately instead of waiting, which tests the test
set-up rather than the application; the single-connection guards are covered in
``test_versioning`` on both databases.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from salesloop.audit.models import AuditAction, AuditEntry
from salesloop.customers.models import Account
from salesloop.org.models import ApiToken
from salesloop.sales.models import Invoice, Payment
from salesloop.testing.factories import AccountFactory, InvoiceFactory
from salesloop.testing.org import build_org

pytestmark = [
    # serialized_rollback: a plain transactional test's flush re-creates content types with new
    # ids, and the next serialized test (the browser tests) could not restore the reference data.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent connections (run with DATABASE_URL=postgresql://)"
    ),
]


def _client(user) -> Client:
    _token, key = ApiToken.issue(user=user, name="race")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _in_threads(*calls):
    """Run ``calls`` at the same moment, each on its own thread (and so its own connection)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_simultaneous_edits_with_the_same_version_lose_nothing():
    org = build_org()
    account = AccountFactory(owner=org.rep_a1, city="杭州市")
    rep, lead = _client(org.rep_a1), _client(org.lead_a1)

    for round_number in range(5):
        version = Account.objects.get(pk=account.pk).version
        cities = {"rep": f"宁波市{round_number}", "lead": f"温州市{round_number}"}
        responses = _in_threads(
            lambda v=version, c=cities["rep"]: rep.patch(
                f"/api/accounts/{account.pk}", {"city": c, "version": v}, content_type="application/json"
            ),
            lambda v=version, c=cities["lead"]: lead.patch(
                f"/api/accounts/{account.pk}", {"city": c, "version": v}, content_type="application/json"
            ),
        )

        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [r.content for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        loser = next(r for r in responses if r.status_code == 409).json()
        stored = Account.objects.get(pk=account.pk)
        assert stored.version == version + 1
        assert stored.city == winner["city"] == loser["current"]["city"]
        assert loser["current"]["version"] == version + 1

    updates = AuditEntry.objects.filter(object_id=account.pk, action=AuditAction.UPDATE).count()
    assert updates == 5, "one audited change per round: the refused writes left no trace"


def test_an_edit_waiting_on_a_locked_row_sees_the_new_version_and_gets_409():
    """Deterministic interleaving: our transaction holds the row; the API call must wait, then refuse."""
    org = build_org()
    account = AccountFactory(owner=org.rep_a1, city="杭州市")
    rep = _client(org.rep_a1)
    result = {}

    def api_edit():
        try:
            result["response"] = rep.patch(
                f"/api/accounts/{account.pk}", {"city": "宁波市", "version": 1}, content_type="application/json"
            )
        finally:
            connections.close_all()

    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account.pk)
        thread = threading.Thread(target=api_edit)
        thread.start()
        time.sleep(1.0)
        assert "response" not in result, "the API write must wait for the row lock"
        Account.objects.filter(pk=account.pk).update(city="丽水市", version=2)
    thread.join(timeout=60)

    assert result["response"].status_code == 409
    assert result["response"].json()["current"]["city"] == "丽水市"
    stored = Account.objects.get(pk=account.pk)
    assert (stored.city, stored.version) == ("丽水市", 2)


def test_two_simultaneous_payments_cannot_both_fit_into_one_open_balance():
    org = build_org()
    invoice = InvoiceFactory(account=AccountFactory(owner=org.rep_a1), order=None, amount=Decimal("100.00"))
    finance, admin = _client(org.finance), _client(org.admin)
    body = {"invoice_id": invoice.pk, "amount": "60.00", "paid_at": timezone.now().isoformat()}

    responses = _in_threads(
        lambda: finance.post("/api/payments", body, content_type="application/json"),
        lambda: admin.post("/api/payments", body, content_type="application/json"),
    )

    assert sorted(r.status_code for r in responses) == [201, 422], [r.content for r in responses]
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.paid_amount == Decimal("60.00")
    assert Payment.objects.filter(invoice=invoice).count() == 1
