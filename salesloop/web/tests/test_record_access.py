"""No list, detail, edit page or fragment shows a record the user may not see."""

import pytest
from django.urls import reverse

from salesloop.web.tests.records_helpers import KEYS, REP_EDITABLE, make


@pytest.mark.parametrize("key", KEYS)
def test_rep_list_shows_only_their_own_rows(client, org, key):
    mine = make(key, org.rep_a1)
    teammate = make(key, org.rep_a1b)
    other_team = make(key, org.rep_b1)
    client.force_login(org.rep_a1)

    response = client.get(reverse(f"{key}_list"))

    assert response.status_code == 200
    ids = {obj.pk for obj, _cells in response.context["rows"]}
    assert ids == {mine.pk}
    assert teammate.pk not in ids and other_team.pk not in ids


@pytest.mark.parametrize("key", KEYS)
def test_rep_of_another_team_gets_404_on_detail(client, org, key):
    record = make(key, org.rep_a1)
    client.force_login(org.rep_b1)

    assert client.get(reverse(f"{key}_detail", args=[record.pk])).status_code == 404
    client.force_login(org.rep_a1)
    assert client.get(reverse(f"{key}_detail", args=[record.pk])).status_code == 200


@pytest.mark.parametrize("key", REP_EDITABLE)
def test_rep_of_another_team_gets_404_on_edit_and_cannot_post(client, org, key):
    record = make(key, org.rep_a1)
    before = type(record).objects.filter(pk=record.pk).values().get()
    client.force_login(org.rep_b1)
    url = reverse(f"{key}_edit", args=[record.pk])

    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"version": 1, "name": "hijacked", "title": "hijacked"}).status_code == 404
    )
    assert type(record).objects.filter(pk=record.pk).values().get() == before


@pytest.mark.parametrize("key", REP_EDITABLE)
def test_owner_can_open_the_edit_form(client, org, key):
    record = make(key, org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.get(reverse(f"{key}_edit", args=[record.pk]))

    assert response.status_code == 200
    assert f'name="version" value="{record.version}"' in response.content.decode()


@pytest.mark.parametrize("key", KEYS)
def test_group_lead_sees_the_group_but_not_another_team(client, org, key):
    in_group = make(key, org.rep_a1b)
    other_team = make(key, org.rep_b1)
    client.force_login(org.lead_a1)

    ids = {obj.pk for obj, _ in client.get(reverse(f"{key}_list")).context["rows"]}

    assert in_group.pk in ids and other_team.pk not in ids
    assert client.get(reverse(f"{key}_detail", args=[other_team.pk])).status_code == 404


def test_htmx_list_fragment_is_as_restricted_as_the_page(client, org):
    mine = make("opportunity", org.rep_a1)
    theirs = make("opportunity", org.rep_b1)
    client.force_login(org.rep_a1)

    response = client.get(
        reverse("opportunity_list"), {"owner_id": org.rep_b1.pk}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert "<html" not in html
    assert (
        theirs.name not in html and mine.name not in html
    )  # filtered to someone invisible → nothing


def test_finance_may_read_an_account_but_gets_403_on_its_edit_page(client, org):
    account = make("account", org.rep_a1)
    client.force_login(org.finance)

    assert client.get(reverse("account_detail", args=[account.pk])).status_code == 200
    assert client.get(reverse("account_edit", args=[account.pk])).status_code == 403
    assert (
        client.post(
            reverse("account_edit", args=[account.pk]), {"name": "x", "version": 1}
        ).status_code
        == 403
    )


def test_finance_cannot_open_an_activity_at_all(client, org):
    activity = make("activity", org.rep_a1)
    client.force_login(org.finance)

    assert client.get(reverse("activity_detail", args=[activity.pk])).status_code == 404
    assert client.get(reverse("activity_list")).context["rows"] == []


def test_create_page_is_404_for_a_role_that_may_not_write_the_model(client, org):
    client.force_login(org.rep_a1)

    assert client.get(reverse("invoice_create")).status_code == 404
    assert client.get(reverse("payment_create")).status_code == 404
    client.force_login(org.finance)
    assert client.get(reverse("invoice_create")).status_code == 200
    assert client.get(reverse("account_create")).status_code == 404


def test_payments_have_no_edit_page(client, org):
    payment = make("payment", org.rep_a1)
    client.force_login(org.admin)

    assert client.get(reverse("payment_edit", args=[payment.pk])).status_code == 404
