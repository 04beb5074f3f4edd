"""Issue #7 §4 (c) in a real browser: a rep puts deals in forecast categories (htmx, no reload),
watches the cumulative roll-ups move and submits a number; the group lead adjusts it with a
reason on the team roll-up; the rep finds the adjustment, who made it and why, beside their own
number.
"""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from salesloop.forecasting.models import Adjustment, DealCategory, Submission
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage
from salesloop.testing.org import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(transactional_db):
    org = build_org()
    today = timezone.localdate()
    deals = {}
    for name, amount in (("华东大单", "300000.00"), ("杭州续约", "120000.00")):
        deals[name] = OpportunityFactory(
            account=AccountFactory(owner=org.rep_a1),
            name=name,
            amount=Decimal(amount),
            stage=stage("proposal"),
            expected_close_date=today,
        )
    OpportunityFactory(
        account=AccountFactory(owner=org.rep_a1),
        name="已签合同",
        amount=Decimal("50000.00"),
        stage=stage("won"),
        expected_close_date=today,
        closed_at=timezone.now(),
    )
    return org, deals


def test_rep_commits_deals_and_submits_then_the_lead_adjusts_with_a_reason(world, session_for):
    org, deals = world
    rep = session_for("rep_a1")
    page = rep.page

    # 1. The call sheet for the current quarter: the won deal is closed, the rest in pipeline.
    page.goto("/forecasts/commit/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-rollup=closed]")).to_contain_text("50,000.00")
    expect(page.locator("[data-rollup=commit]")).to_contain_text("50,000.00")
    expect(page.locator("[data-rollup=pipeline]")).to_contain_text("470,000.00")
    page.evaluate("window.__sameDocument = true")

    # 2. Commit the big deal, best-case the renewal: the roll-ups move without a reload.
    page.get_by_test_id(f"category-{deals['华东大单'].pk}").select_option("commit")
    expect(page.locator("[data-rollup=commit]")).to_contain_text("350,000.00")
    page.get_by_test_id(f"category-{deals['杭州续约'].pk}").select_option("best_case")
    expect(page.locator("[data-rollup=best_case]")).to_contain_text("470,000.00")
    assert page.evaluate("window.__sameDocument === true")
    assert DealCategory.objects.get(opportunity=deals["华东大单"]).category == "commit"

    # 3. Submit a number between commit and best case.
    form = page.get_by_test_id("commit-submit")
    form.locator("input[name=amount]").fill("400000")
    form.locator("input[name=note]").fill("续约大概率")
    form.get_by_test_id("submit-forecast").click()
    expect(page.locator("[data-rollup=submitted]")).to_contain_text("400,000.00")
    rep.screenshot("forecast-commit-sheet")
    submission = Submission.objects.get(owner=org.rep_a1)

    # 4. The lead sees the group's roll-up and adjusts the rep's number with a reason.
    lead = session_for("lead_a1")
    lead.page.goto("/forecasts/commit/team/")
    row = lead.page.get_by_test_id(f"adjust-{org.rep_a1.pk}")
    row.locator("input[name=amount]").fill("350000")
    row.locator("input[name=reason]").fill("续约客户预算未批")
    row.locator("button[type=submit]").click()
    expect(lead.page.locator("[data-rollup=adjusted]")).to_contain_text("350,000.00")
    expect(lead.page.locator("[data-rollup=submitted]")).to_contain_text("400,000.00")
    lead.screenshot("forecast-commit-team")
    assert Adjustment.objects.get(submission=submission).reason == "续约客户预算未批"

    # 5. The rep's own number is untouched; the adjustment sits beside it with who and why.
    page.reload()
    expect(page.locator("[data-rollup=submitted]")).to_contain_text("400,000.00")
    expect(page.get_by_test_id("commit-history")).to_contain_text("续约客户预算未批")
    expect(page.get_by_test_id("commit-history")).to_contain_text(str(org.lead_a1))
