"""The daily rhythm in a real browser: a reminder and the morning brief appear in the header's
notification centre once the scheduler has run, a rep files the evening report, the lead sees it.

The jobs are run the way ``manage.py run_scheduler`` runs them (``jobs run … --here``): the same
job functions, against the live server's database.
"""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from salesloop.automation.models import Rule
from salesloop.testing.factories import AccountFactory, LeadFactory
from salesloop.testing.org import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def org(transactional_db):
    org = build_org()
    Rule.objects.update(active_since=timezone.now() - dt.timedelta(hours=1))
    AccountFactory(owner=org.rep_a1, name="杭州精工机械")
    LeadFactory(owner=org.rep_a1, name="展会线索·精工", company="精工集团")
    return org


def test_reminders_and_the_brief_reach_the_header_and_the_evening_report_the_lead(org, session_for):
    call_command("jobs", "run", "rules_sweep", "--here")
    call_command("jobs", "run", "morning_brief", "--here")

    rep = session_for("rep_a1")
    page = rep.page
    badge = page.get_by_test_id("notifications-unread")
    expect(badge).to_have_text("2")
    page.get_by_test_id("notifications-badge").click()
    page.wait_for_url("**/notifications/")
    items = page.get_by_test_id("notifications")
    expect(items).to_contain_text("首次接触新线索：展会线索·精工（精工集团）")
    rep.screenshot("notifications")

    # Read the task notification in place (htmx swaps the row); the badge follows on reload.
    page.locator('li[data-kind="task"] [data-testid="mark-read"]').click()
    expect(page.locator('li[data-kind="task"]')).to_have_attribute("data-read", "1")
    page.reload()
    expect(page.get_by_test_id("notifications-unread")).to_have_text("1")

    page.locator('li[data-kind="brief"] a').click()
    expect(page.get_by_test_id("brief")).to_be_visible()
    expect(page.get_by_test_id("brief-yesterday")).to_be_visible()
    rep.screenshot("morning-brief")

    page.goto("/automation/evening/")
    page.fill("textarea[name=tomorrow_plan]", "上午回访精工集团，下午整理报价")
    page.fill("textarea[name=blockers]", "报价审批需要经理签字")
    page.get_by_test_id("evening-submit").click()
    expect(page.get_by_test_id("evening-submitted")).to_be_visible()

    lead = session_for("lead_a1")
    lead.page.goto("/automation/evening/team/")
    expect(lead.page.locator('tr[data-user="rep_a1"]')).to_have_attribute("data-submitted", "1")
    expect(lead.page.locator('tr[data-user="rep_a1b"]')).to_have_attribute("data-submitted", "0")
    expect(lead.page.get_by_test_id("evening-team")).to_contain_text("报价审批需要经理签字")
    lead.screenshot("evening-team")
