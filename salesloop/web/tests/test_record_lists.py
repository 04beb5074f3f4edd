"""List pages: the API's filters, sorting, paging, htmx fragments, export, query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage
from salesloop.web.tests.records_helpers import KEYS, make

# Whatever the number of rows: session, user, task alerts, unread-notification badge, filter options,
# count, page, ...
MAX_LIST_QUERIES = 13


def _count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("key", KEYS)
def test_list_query_count_does_not_grow_with_rows(client, org, key, django_assert_max_num_queries):
    for _ in range(3):
        make(key, org.rep_a1)
    client.force_login(org.manager_a)
    url = reverse(f"{key}_list")
    few = _count_queries(client, url, {"page_size": 25})
    for _ in range(27):
        make(key, org.rep_a1b)

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        small = client.get(url, {"page_size": 25})
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        large = client.get(url, {"page_size": 100})

    assert len(small.context["rows"]) == 25 and len(large.context["rows"]) == 30
    assert _count_queries(client, url, {"page_size": 25}) == few
    assert _count_queries(client, url, {"page_size": 100}) == few


def test_filters_are_the_api_filters_and_give_the_same_rows(client, org, api_as):
    hz = AccountFactory(owner=org.rep_a1, city="杭州市", industry="制造业")
    AccountFactory(owner=org.rep_a1, city="宁波市", industry="制造业")
    AccountFactory(owner=org.rep_a1, city="杭州市", industry="零售")
    client.force_login(org.rep_a1)
    params = {"city": "杭州市", "industry": "制造业"}

    page_ids = [obj.pk for obj, _ in client.get(reverse("account_list"), params).context["rows"]]
    api_ids = [row["id"] for row in api_as(org.rep_a1).get("/api/accounts", params).json()["items"]]

    assert page_ids == api_ids == [hz.pk]


def test_filter_widgets_come_from_the_resource_with_choices_for_choice_fields(client, org):
    client.force_login(org.manager_a)

    widgets = {w.name: w for w in client.get(reverse("opportunity_list")).context["result"].widgets}

    assert set(widgets) >= {
        "q",
        "owner_id",
        "stage",
        "team_id",
        "close_from",
        "close_to",
        "amount_min",
        "is_open",
    }
    assert widgets["close_from"].kind == "date"
    assert ("proposal", stage("proposal").name) in widgets["stage"].options
    owners = {value for value, _ in widgets["owner_id"].options}
    assert str(org.rep_a1.pk) in owners and str(org.rep_b1.pk) not in owners
    teams = {value for value, _ in widgets["team_id"].options}
    assert str(org.group_a1.pk) in teams and str(org.team_b.pk) not in teams


def test_a_rep_is_not_offered_an_owner_filter_with_only_themselves(client, org):
    client.force_login(org.rep_a1)

    names = {w.name for w in client.get(reverse("account_list")).context["result"].widgets}

    assert "owner_id" not in names and "team_id" not in names and "q" in names


def test_bad_filter_value_is_a_400_with_the_field_named_not_a_500(client, org):
    client.force_login(org.rep_a1)

    response = client.get(
        reverse("opportunity_list"), {"amount_min": "lots", "close_from": "yesterday"}
    )

    assert response.status_code == 400
    assert set(response.context["result"].errors) == {"amount_min", "close_from"}
    assert 'data-testid="list-errors"' in response.content.decode()


def test_unknown_sort_key_is_a_400_and_falls_back_to_the_default_order(client, org):
    client.force_login(org.rep_a1)

    response = client.get(reverse("account_list"), {"sort": "owner__password"})

    assert response.status_code == 400
    assert response.context["result"].sort == "name"


def test_columns_sort_both_ways(client, org):
    small = OpportunityFactory(account=AccountFactory(owner=org.rep_a1), amount="10.00")
    big = OpportunityFactory(account=AccountFactory(owner=org.rep_a1), amount="900.00")
    client.force_login(org.rep_a1)

    ascending = [
        o.pk for o, _ in client.get(reverse("opportunity_list"), {"sort": "amount"}).context["rows"]
    ]
    descending = [
        o.pk
        for o, _ in client.get(reverse("opportunity_list"), {"sort": "-amount"}).context["rows"]
    ]

    assert ascending == [small.pk, big.pk] and descending == [big.pk, small.pk]
    html = client.get(reverse("opportunity_list"), {"sort": "amount"}).content.decode()
    assert "sort=-amount" in html  # the active column's link flips the direction


def test_htmx_request_gets_only_the_results_fragment_with_paging_links(client, org):
    for _ in range(30):
        AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.get(
        reverse("account_list"), {"page_size": 25, "page": 2}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert "<html" not in html and 'data-testid="list-results"' in html
    assert len(response.context["rows"]) == 5
    assert 'hx-get="?page=1&amp;page_size=25"' in html


def test_history_restore_gets_the_full_page(client, org):
    client.force_login(org.rep_a1)

    response = client.get(
        reverse("account_list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in response.content.decode()


def test_export_button_downloads_the_same_filtered_rows_as_csv(client, org):
    AccountFactory(owner=org.rep_a1, name="导出甲", city="杭州市")
    AccountFactory(owner=org.rep_a1, name="导出乙", city="宁波市")
    AccountFactory(owner=org.rep_b1, name="别人的", city="杭州市")
    client.force_login(org.rep_a1)
    page = client.get(reverse("account_list"), {"city": "杭州市"})
    export_url = (
        page.context["export_url"] + "?" + page.context["result"].query_string + "&format=csv"
    )
    assert export_url.replace("&", "&amp;") in page.content.decode()

    response = client.get(export_url)

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    names = [dict(zip(rows[0], r, strict=True))["name"] for r in rows[1:]]
    assert names == ["导出甲"]


def test_mine_link_for_a_lead_filters_to_their_own_rows(client, org):
    own = OpportunityFactory(account=AccountFactory(owner=org.lead_a1))
    OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    client.force_login(org.lead_a1)

    rows = client.get(reverse("opportunity_list"), {"owner_id": org.lead_a1.pk}).context["rows"]

    assert [o.pk for o, _ in rows] == [own.pk]


def test_private_notes_never_reach_a_list_for_roles_that_may_not_see_them(client, org):
    AccountFactory(owner=org.rep_a1, notes="机密备注")
    client.force_login(org.finance)

    response = client.get(reverse("account_list"))

    assert "机密备注" not in response.content.decode()
    assert all(obj.notes is None for obj, _ in response.context["rows"])
