"""An import may do what the importer may do in the API, and no more (``org.access``)."""

from salesloop.customers.models import Account, Contact
from salesloop.dataio.models import ImportOutcome, ImportRun
from salesloop.dataio.tests.conftest import csv_bytes, errors_of, upload
from salesloop.sales.models import Order
from salesloop.testing.factories import AccountFactory, ProductFactory


def test_rep_cannot_import_into_another_reps_book(org, api_as):
    response = upload(
        api_as(org.rep_a1),
        "accounts",
        csv_bytes([["name", "owner"], ["我的客户", "rep_a1"], ["别人的客户", "rep_a1b"]]),
    )

    assert response.status_code == 422
    assert errors_of(response) == [(3, "owner")]
    assert Account.objects.count() == 0


def test_rep_cannot_reference_an_account_they_cannot_see_and_learns_nothing_about_it(org, api_as):
    AccountFactory(owner=org.rep_b1, external_id="B-1", name="别组客户")

    response = upload(
        api_as(org.rep_a1),
        "contacts",
        csv_bytes([["account_external_id", "name"], ["B-1", "张三"], ["NO-SUCH", "李四"]]),
    )

    assert response.status_code == 422
    invisible, missing = response.json()["errors"]
    assert (invisible["row"], invisible["column"]) == (2, "account_external_id")
    assert invisible["message"].replace("B-1", "?") == missing["message"].replace("NO-SUCH", "?")
    assert Contact.objects.count() == 0


def test_rep_cannot_update_another_reps_account_through_its_external_id_or_id(org, api_as):
    theirs = AccountFactory(owner=org.rep_b1, external_id="B-1", name="别组客户")

    by_key = upload(
        api_as(org.rep_a1), "accounts", csv_bytes([["external_id", "name"], ["B-1", "改名"]])
    )
    by_id = upload(api_as(org.rep_a1), "accounts", csv_bytes([["id", "name"], [theirs.pk, "改名"]]))

    assert errors_of(by_key) == [(2, "external_id")]
    assert errors_of(by_id) == [(2, "id")]
    theirs.refresh_from_db()
    assert theirs.name == "别组客户"


def test_group_lead_imports_for_their_group_but_not_for_another_team(org, api_as):
    response = upload(
        api_as(org.lead_a1),
        "accounts",
        csv_bytes([["name", "owner"], ["甲", "rep_a1"], ["乙", "rep_a1b"], ["丙", "rep_b1"]]),
    )

    assert errors_of(response) == [(4, "owner")]
    response = upload(
        api_as(org.lead_a1),
        "accounts",
        csv_bytes([["name", "owner"], ["甲", "rep_a1"], ["乙", "rep_a1b"]]),
    )
    assert response.status_code == 200
    assert set(Account.objects.values_list("owner__username", flat=True)) == {"rep_a1", "rep_a1b"}


def test_role_without_write_access_gets_403_and_the_attempt_is_logged(org, api_as):
    response = upload(api_as(org.finance), "accounts", csv_bytes([["name"], ["甲"]]))

    assert response.status_code == 403
    assert ImportRun.objects.get(pk=response.json()["run_id"]).outcome == ImportOutcome.FORBIDDEN
    assert Account.objects.count() == 0


def test_marketing_imports_leads_for_anyone(org, api_as):
    response = upload(
        api_as(org.marketing), "leads", csv_bytes([["name", "owner"], ["展会线索", "rep_b1"]])
    )

    assert response.status_code == 200, response.content


def test_rep_cannot_credit_an_order_to_someone_outside_their_book(org, api_as):
    ProductFactory(sku="SKU-A")
    AccountFactory(owner=org.rep_a1, external_id="A-1")

    response = upload(
        api_as(org.rep_a1),
        "orders",
        csv_bytes(
            [
                ["number", "account_external_id", "owner", "order_date", "product_sku", "quantity"],
                ["SO-1", "A-1", "rep_b1", "2025-03-01", "SKU-A", "1"],
            ]
        ),
    )

    assert errors_of(response) == [(2, "owner")]
    assert Order.objects.count() == 0


def test_import_needs_authentication(db, client):
    response = client.post("/api/import/accounts")

    assert response.status_code == 401
