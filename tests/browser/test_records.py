"""Record pages in a real browser: search, lists with htmx filters and paging, forms, conflicts.

Transactional like the workspace tests: the live server needs committed rows, and
``serialized_rollback`` brings back the migrations' stages and loss reasons after each test.
"""

import re
from decimal import Decimal

import pytest
from django.db import transaction
from playwright.sync_api import expect

from salesloop.core.records import get_for_write, record_update
from salesloop.customers.models import Account
from salesloop.pipeline.models import Opportunity
from salesloop.pipeline.services import opportunity_create, opportunity_move_stage
from salesloop.testing.factories import AccountFactory, ContactFactory, stage
from salesloop.testing.org import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def book(transactional_db):
    org = build_org()
    accounts = [
        AccountFactory(
            owner=org.rep_a1, name=f"杭州客户{i:02d}", city="杭州市" if i % 2 else "宁波市"
        )
        for i in range(30)
    ]
    ContactFactory(
        account=accounts[0], name="周经理", phone="13800138000", email="zhou@hz.example.com"
    )
    AccountFactory(owner=org.rep_b1, name="杭州别队客户")
    deal = opportunity_create(
        user=org.rep_a1,
        data={
            "name": "杭州客户00·MES",
            "account_id": accounts[0].pk,
            "amount": Decimal("120000.00"),
        },
    )
    deal = opportunity_move_stage(
        opportunity_id=deal.pk, stage_id=stage("proposal").pk, version=1, user=org.rep_a1
    )
    return org, accounts, deal


def test_global_search_opens_the_customer_360(book, session_for):
    _org, accounts, _deal = book
    session = session_for("rep_a1")
    page = session.page

    page.get_by_test_id("global-search").fill("13800138")
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text("周经理")
    page.get_by_test_id("global-search").fill("杭州")
    expect(results).to_contain_text("杭州客户")
    expect(results).not_to_contain_text("杭州别队客户")
    results.get_by_role("link", name=re.compile("杭州客户00·MES")).click()

    expect(page).to_have_url(re.compile(r"/opportunities/\d+/$"))
    expect(page.get_by_test_id("stage-history")).to_contain_text("方案")
    page.get_by_role("link", name="杭州客户00", exact=True).first.click()
    expect(page.get_by_test_id("account-360")).to_be_visible()
    expect(page.get_by_test_id("contacts")).to_contain_text("周经理")
    expect(page.get_by_test_id("open-deals")).to_contain_text("杭州客户00·MES")
    session.screenshot("account-360-records")


def test_list_filters_sorts_and_pages_through_htmx_and_keeps_the_address(book, session_for):
    session = session_for("rep_a1")
    page = session.page
    page.goto("/accounts/")
    expect(page.get_by_test_id("list-count")).to_contain_text("30")

    page.locator("#f-city").fill("宁波市")
    with page.expect_response(re.compile(r"/accounts/\?")) as filtered:
        page.get_by_test_id("filters").get_by_role("button", name=re.compile("筛选|Filter")).click()
    assert filtered.value.request.headers.get("hx-request") == "true"
    expect(page.get_by_test_id("list-count")).to_contain_text("15")
    expect(page).to_have_url(re.compile(r"city=%E5%AE%81%E6%B3%A2%E5%B8%82"))

    page.locator('th a[data-sort="name"]').click()  # name ascending is the default: now descending
    expect(page.locator("tbody tr").first).to_contain_text("杭州客户28")
    expect(page).to_have_url(re.compile(r"sort=-name"))

    page.goto("/accounts/?page_size=25")
    page.locator("a[rel=next]").click()
    expect(page.locator("tbody tr")).to_have_count(5)
    expect(page).to_have_url(re.compile(r"page=2"))
    page.reload()
    expect(page.locator("tbody tr")).to_have_count(5)
    session.screenshot("account-list")


def test_export_link_downloads_the_filtered_csv(book, session_for):
    page = session_for("rep_a1").page
    page.goto("/accounts/?city=%E5%AE%81%E6%B3%A2%E5%B8%82")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()

    text = open(download_info.value.path(), encoding="utf-8-sig").read()
    assert text.count("\n") == 16  # header + 15 rows
    assert "杭州别队客户" not in text


def test_a_stale_edit_shows_both_values_and_saving_again_applies_mine(book, session_for):
    org, accounts, _deal = book
    account = accounts[1]
    page = session_for("rep_a1").page
    page.goto(f"/accounts/{account.pk}/edit/")
    page.fill("#id_phone", "0571-11112222")
    # Meanwhile the manager changes the phone through the API's service.
    with transaction.atomic():
        record_update(
            instance=get_for_write(Account, account.pk, org.manager_a),
            user=org.manager_a,
            data={"phone": "0571-99990000"},
            version=1,
        )

    page.get_by_test_id("save").click()

    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_be_visible()
    expect(conflict.get_by_test_id("theirs")).to_have_text("0571-99990000")
    expect(conflict.get_by_test_id("mine")).to_have_text("0571-11112222")
    expect(page.locator("#id_phone")).to_have_value("0571-11112222")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account.pk}/$"))
    account.refresh_from_db()
    assert (account.phone, account.version) == ("0571-11112222", 3)


def test_new_deal_form_finds_the_account_by_typing_and_shows_errors_inline(book, session_for):
    _org, accounts, _deal = book
    session = session_for("rep_a1")
    page = session.page
    page.goto("/opportunities/new/")

    page.get_by_test_id("save").click()
    expect(page.locator('[data-field-error="name"]')).to_be_visible()
    expect(page.locator('[data-field-error="account"]')).to_be_visible()

    page.fill("#id_name", "宁波客户 二期")
    page.fill("#id_amount", "88000")
    with page.expect_response(re.compile(r"/lookup/account/")):
        page.locator(".sl-lookup-search").first.fill("杭州客户07")
    expect(page.locator("#id_account option:checked")).to_have_text("杭州客户07")
    page.get_by_test_id("save").click()

    expect(page).to_have_url(re.compile(r"/opportunities/\d+/$"))
    deal = Opportunity.objects.get(name="宁波客户 二期")
    assert deal.account_id == accounts[7].pk and deal.stage.code == "lead"
    session.screenshot("deal-created")


def test_phone_width_collapses_the_navigation(book, browser, live_server, session_for):
    session = session_for("rep_a1")
    phone = browser.new_context(
        viewport={"width": 375, "height": 812},
        base_url=live_server.url,
        storage_state=session.context.storage_state(),
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = phone.new_page()
        page.goto("/accounts/")
        nav = page.locator("#main-nav")
        expect(nav).not_to_be_visible()
        page.locator(".navbar-toggler").click()
        expect(nav).to_be_visible()
        expect(page.get_by_test_id("global-search")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        phone.close()
