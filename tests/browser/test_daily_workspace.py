"""A sales day in a real browser: log a visit, move a deal, see it everywhere it should show.

Every test restores the migrations' reference data (stages, loss reasons) through
``serialized_rollback``: the live server needs committed rows, so these tests are transactional.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from salesloop.pipeline.models import LossReason, Opportunity
from salesloop.pipeline.services import opportunity_move_stage
from salesloop.testing.factories import AccountFactory, OpportunityFactory, TaskFactory, stage
from salesloop.testing.org import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(transactional_db):
    org = build_org()
    account = AccountFactory(owner=org.rep_a1, name="杭州精工机械")
    deal = OpportunityFactory(
        account=account,
        name="精工 MES 二期",
        stage=stage("negotiation"),
        amount=Decimal("250000.00"),
    )
    OpportunityFactory(
        account=account, name="精工 备件年框", stage=stage("qualified"), amount=Decimal("80000.00")
    )
    OpportunityFactory(
        account=AccountFactory(owner=org.rep_b1, name="宁波海运"), name="海运 调度系统"
    )
    TaskFactory(assignee=org.rep_a1, title="给精工发送 MES 报价", account=account)
    return org, account, deal


def column(page, code: str):
    return page.locator(f'.sl-column[data-stage-code="{code}"]')


def test_a_reps_day_shows_up_on_the_timeline_and_on_the_managers_home(world, session_for):
    org, account, deal = world

    # The rep logs a visit from the home page.
    rep = session_for("rep_a1")
    page = rep.page
    expect(page.get_by_test_id("rep-home")).to_be_visible()
    rep.screenshot("rep-home")
    with page.expect_response(lambda r: "/quick-log/links/" in r.url and not r.url.endswith("q=")):
        page.get_by_test_id("quick-log-search").fill("精工")
    page.locator("#ql-links label", has_text="精工 MES 二期").click()
    page.fill("#ql-note", "现场演示 MES，客户要求下周报价")
    page.get_by_test_id("quick-log-submit").click()
    expect(page.get_by_test_id("quick-log-done")).to_be_visible()
    expect(page.get_by_test_id("recent-activity")).to_contain_text("杭州精工机械")

    # ... then drags the deal from negotiation to won on the board.
    page.goto("/board/")
    card = page.locator(f"#deal-{deal.pk}")
    expect(column(page, "negotiation").locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(column(page, "won").locator("[data-total-count]")).to_have_text("0")
    with page.expect_response(re.compile(r"/board/move/$")) as moved:
        card.drag_to(column(page, "won"))
    assert moved.value.status == 200
    expect(column(page, "won").locator(f"#deal-{deal.pk}")).to_have_attribute("data-version", "2")
    expect(column(page, "won").locator("[data-total-count]")).to_have_text("1")
    expect(column(page, "negotiation").locator("[data-total-count]")).to_have_text("0")
    assert Opportunity.objects.get(pk=deal.pk).stage.code == "won"
    rep.screenshot("board")

    # ... and sees both on the account's timeline.
    page.goto(f"/accounts/{account.pk}/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("现场演示 MES")
    expect(timeline).to_contain_text("成交")
    rep.screenshot("account-360")

    # The manager's home shows today's new numbers for that rep.
    manager = session_for("manager_a")
    page = manager.page
    page.get_by_test_id("period-today").click()
    row = page.locator('tr[data-rep="rep_a1"]')
    expect(row.locator('[data-metric="visits"]')).to_have_text("1")
    expect(row.locator('[data-metric="won_amount"]')).to_have_text("250000.00")
    expect(row.locator('[data-metric="conversion"]')).to_have_text("100.0%")
    expect(page.get_by_test_id("kpi-today-visits")).to_have_text("1")
    expect(page.locator("#team-chart .main-svg").first).to_be_attached()
    manager.screenshot("manager-home")

    # A rep of the other team cannot open the deal by its URL.
    outsider = session_for("rep_b1")
    response = outsider.page.goto(f"/opportunities/{deal.pk}/")
    assert response.status == 404


def test_a_stale_move_snaps_back_with_current_data_and_lost_asks_for_a_reason(world, session_for):
    org, _account, deal = world
    page = session_for("rep_a1").page
    page.goto("/board/")
    expect(column(page, "negotiation").locator(f"#deal-{deal.pk}")).to_be_visible()

    # Meanwhile the manager moves the same deal back to proposal.
    opportunity_move_stage(
        opportunity_id=deal.pk, stage_id=stage("proposal").pk, version=1, user=org.manager_a
    )

    with page.expect_response(re.compile(r"/board/move/$")) as stale:
        page.locator(f"#deal-{deal.pk}").drag_to(column(page, "won"))
    assert stale.value.status == 409
    expect(page.get_by_test_id("board-message")).to_contain_text("精工 MES 二期")
    card = column(page, "proposal").locator(f"#deal-{deal.pk}")
    expect(card).to_have_attribute("data-version", "2")
    expect(column(page, "won").locator("[data-total-count]")).to_have_text("0")
    expect(column(page, "proposal").locator("[data-total-count]")).to_have_text("1")
    assert Opportunity.objects.get(pk=deal.pk).stage.code == "proposal"

    # Dropping on lost asks for the reason first; cancelling puts the card back.
    card.drag_to(column(page, "lost"))
    expect(page.locator("#move-dialog")).to_be_visible()
    page.locator("[data-move-cancel]").click()
    expect(column(page, "proposal").locator(f"#deal-{deal.pk}")).to_be_attached()

    reason = LossReason.objects.get(code="competitor")
    column(page, "proposal").locator(f"#deal-{deal.pk}").drag_to(column(page, "lost"))
    page.get_by_test_id("loss-reason").select_option(str(reason.pk))
    with page.expect_response(re.compile(r"/board/move/$")) as lost:
        page.get_by_test_id("move-confirm").click()
    assert lost.value.status == 200
    expect(column(page, "lost").locator("[data-total-count]")).to_have_text("1")
    deal.refresh_from_db()
    assert (deal.stage.code, deal.loss_reason_id, deal.version) == ("lost", reason.pk, 3)


def test_the_move_button_works_without_a_mouse(world, session_for):
    _org, _account, deal = world
    page = session_for("rep_a1").page
    page.goto("/board/")

    page.locator(f"#deal-{deal.pk} [data-move-open]").click()
    page.get_by_test_id("move-stage").select_option(str(stage("proposal").pk))
    with page.expect_response(re.compile(r"/board/move/$")):
        page.get_by_test_id("move-confirm").click()

    expect(column(page, "proposal").locator(f"#deal-{deal.pk}")).to_have_attribute(
        "data-version", "2"
    )


def test_the_language_switch_changes_the_page_language(world, session_for):
    session = session_for("manager_a")
    page = session.page
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto("/board/")
    expect(column(page, "won").locator("h2")).to_have_text("成交")

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("language-form").get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(column(page, "won").locator("h2")).to_have_text("Won")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    session.screenshot("manager-home-en")
