"""Bad input is answered with a 4xx JSON body naming the field, and nothing is written."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from salesloop.audit.models import AuditEntry
from salesloop.customers.models import Account
from salesloop.org.models import ApiToken
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Order, Payment
from salesloop.testing.factories import AccountFactory, InvoiceFactory, ProductFactory


@pytest.fixture
def rep(org, api_as):
    return api_as(org.rep_a1)


@pytest.fixture
def own_account(org):
    return AccountFactory(owner=org.rep_a1)


def _snapshot_counts():
    return (Account.objects.count(), Opportunity.objects.count(), Order.objects.count(), AuditEntry.objects.count())


def _assert_refused(response, status: int, field: str | None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["message"]
    if field is not None:
        assert field in body["errors"], body


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        ("-1.00", "amount"),
        ("abc", "amount"),
        ("12.345", "amount"),
        ("1e400", "amount"),
        ("NaN", "amount"),
        (["1"], "amount"),
        ({"value": 1}, "amount"),
        (True, "amount"),
    ],
    ids=["negative", "not-a-number", "three-places", "huge", "nan", "list", "object", "boolean"],
)
def test_bad_money_is_a_field_error_and_writes_nothing(org, rep, own_account, amount, field):
    before = _snapshot_counts()

    response = rep.post_json("/api/opportunities", {"name": "坏金额", "account_id": own_account.pk, "amount": amount})

    _assert_refused(response, 422, field)
    assert _snapshot_counts() == before


def test_a_close_date_before_the_deal_was_created_is_refused(org, rep, own_account):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    response = rep.post_json(
        "/api/opportunities",
        {"name": "倒签", "account_id": own_account.pk, "amount": "10.00", "expected_close_date": yesterday},
    )

    _assert_refused(response, 422, "expected_close_date")
    assert not Opportunity.objects.exists()


def test_moving_the_close_date_of_an_old_deal_before_its_creation_is_refused(org, rep, own_account):
    created = rep.post_json("/api/opportunities", {"name": "老商机", "account_id": own_account.pk, "amount": "1.00"})
    deal = Opportunity.objects.get(pk=created.json()["id"])
    Opportunity.objects.filter(pk=deal.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    too_early = (timezone.localdate() - dt.timedelta(days=31)).isoformat()

    response = rep.patch_json(f"/api/opportunities/{deal.pk}", {"expected_close_date": too_early, "version": 1})

    _assert_refused(response, 422, "expected_close_date")
    deal.refresh_from_db()
    assert deal.expected_close_date is None and deal.version == 1


def test_an_unknown_and_an_invisible_account_get_the_same_answer(org, rep):
    invisible = AccountFactory(owner=org.rep_b1)
    missing_id = Account.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000

    unknown = rep.post_json("/api/opportunities", {"name": "x", "account_id": missing_id, "amount": "1.00"})
    hidden = rep.post_json("/api/opportunities", {"name": "x", "account_id": invisible.pk, "amount": "1.00"})

    _assert_refused(unknown, 422, "account_id")
    _assert_refused(hidden, 422, "account_id")
    assert unknown.json()["errors"]["account_id"][0].replace(str(missing_id), "ID") == hidden.json()["errors"][
        "account_id"
    ][0].replace(str(invisible.pk), "ID"), "the answer must not tell an invisible record from a missing one"
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/accounts", {"name": "x", "size": "gigantic"}, "size"),
        ("/api/accounts", {"name": "x", "key_account_tier": "vip"}, "key_account_tier"),
        ("/api/leads", {"name": "x", "status": "won"}, "status"),
        ("/api/activities", {"kind": "telepathy", "occurred_at": "2025-06-01T09:00:00+08:00"}, "kind"),
        ("/api/tasks", {"title": "x", "due_at": "2025-06-01T09:00:00+08:00", "status": "maybe"}, "status"),
    ],
    ids=["size", "tier", "lead-status", "activity-kind", "task-status"],
)
def test_a_value_outside_a_choice_list_is_a_field_error(org, rep, path, body, field):
    before = _snapshot_counts()

    response = rep.post_json(path, body)

    _assert_refused(response, 422, field)
    assert _snapshot_counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 123}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "x", "owner_id": "me"}, "owner_id"),
        ({"name": "x", "owner_id": 2**64}, "owner_id"),
        ({"name": "x", "tags": "a,b", "phone": {"n": 1}}, "phone"),
        ({}, "name"),
    ],
    ids=[
        "number-for-text",
        "list-for-text",
        "too-long",
        "text-for-id",
        "id-beyond-bigint",
        "object-for-text",
        "missing",
    ],
)
def test_wrong_types_are_field_errors(org, rep, body, field):
    response = rep.post_json("/api/accounts", body)

    _assert_refused(response, 422, field)
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    "raw",
    ['{"name": "x",', "not json", '{"name": "x"} trailing', "\xff\xfe", "[1, 2]", '"just a string"', "null"],
    ids=["truncated", "text", "trailing", "bad-bytes", "list", "string", "null"],
)
def test_a_body_that_is_not_a_json_object_gets_a_4xx(org, rep, raw):
    response = rep.post("/api/accounts", data=raw.encode("utf-8", "surrogateescape"), content_type="application/json")

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    assert not Account.objects.exists()


def test_an_oversized_payload_gets_413_and_writes_nothing(org, rep, settings):
    huge = {"name": "巨型", "notes": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)}

    response = rep.post_json("/api/accounts", huge)

    assert response.status_code == 413
    assert response.json()["message"]
    assert not Account.objects.exists()


def test_a_nul_character_in_text_is_a_field_error(org, rep):
    response = rep.post_json("/api/accounts", {"name": "坏\x00字"})

    _assert_refused(response, 422, "name")
    assert not Account.objects.exists()


def test_an_order_line_with_bad_numbers_is_refused_line_by_line(org, rep, own_account):
    product = ProductFactory()
    lines = [
        {"product_id": product.pk, "quantity": "-1"},
        {"product_id": product.pk, "quantity": "1", "discount_pct": "101"},
        {"product_id": 2**62, "quantity": "1"},
    ]

    response = rep.post_json(
        "/api/orders",
        {"number": "SO-BAD", "account_id": own_account.pk, "order_date": "2025-06-01", "lines": lines},
    )

    _assert_refused(response, 422, None)
    errors = response.json()["errors"]
    assert {"lines.0.quantity", "lines.1.discount_pct"} <= set(errors)
    assert not Order.objects.exists()


def test_an_order_line_for_an_unknown_product_is_refused(org, rep, own_account):
    response = rep.post_json(
        "/api/orders",
        {
            "number": "SO-BAD",
            "account_id": own_account.pk,
            "order_date": "2025-06-01",
            "lines": [{"product_id": 2**62, "quantity": "1"}],
        },
    )

    _assert_refused(response, 422, "lines.0.product_id")
    assert not Order.objects.exists()


def test_a_failed_write_in_the_middle_leaves_nothing_behind(org, api_as):
    """A payment that overpays is refused after the invoice row was locked: no half-applied state."""
    invoice = InvoiceFactory(account=AccountFactory(owner=org.rep_a1), order=None, amount=Decimal("100.00"))
    audit_before = AuditEntry.objects.count()

    response = api_as(org.finance).post_json(
        "/api/payments", {"invoice_id": invoice.pk, "amount": "100.01", "paid_at": timezone.now().isoformat()}
    )

    _assert_refused(response, 422, "amount")
    invoice.refresh_from_db()
    assert (invoice.paid_amount, invoice.status, invoice.version) == (Decimal("0"), "open", 1)
    assert not Payment.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_a_token_for_someone_else_cannot_be_smuggled_in_the_body(org):
    _token, key = ApiToken.issue(user=org.rep_a1, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = client.post(
        "/api/accounts", {"name": "冒名", "owner_id": org.rep_b1.pk}, content_type="application/json"
    )

    assert response.status_code == 403
    assert not Account.objects.exists()
