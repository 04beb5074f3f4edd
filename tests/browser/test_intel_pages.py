"""Issue #7's "done when", in a real browser: a manager opens the funnel review and finds the
leaking stage with its loss reasons, and the heatmap's best weekday; marketing enters a
big-budget lead without an owner, the rule sends it to the senior rep at once, and the routing
page's log names the rule.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from salesloop.customers.models import Lead
from salesloop.intel.models import LeadAssignment
from salesloop.org.models import Membership, Seniority
from salesloop.pipeline.models import LossReason, Opportunity, Stage, StageChange
from salesloop.testing.factories import AccountFactory, ActivityFactory, OpportunityFactory
from salesloop.testing.org import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _deal(owner, path, loss=None):
    stages = {s.code: s for s in Stage.objects.all()}
    final = stages[path[-1][0]]
    opp = OpportunityFactory(
        account=AccountFactory(owner=owner),
        stage=final,
        loss_reason=LossReason.objects.get(code=loss) if loss else None,
        closed_at=path[-1][1] if final.is_closed else None,
    )
    Opportunity.objects.filter(pk=opp.pk).update(created_at=path[0][1])
    prev = None
    for code, when in path:
        StageChange.objects.create(
            opportunity=opp, from_stage=prev, to_stage=stages[code], changed_at=when, amount=Decimal("1000")
        )
        prev = stages[code]


@pytest.fixture
def world(transactional_db):
    """Last month: five deals reach proposal in team A, one is won, three lost on price and one on
    a competitor; proposal → won is 20% against the seeded 50% benchmark."""
    org = build_org()
    start = timezone.now() - dt.timedelta(days=40)

    def day(n):
        return start + dt.timedelta(days=n)

    through = [("lead", day(0)), ("qualified", day(2)), ("proposal", day(4))]
    _deal(org.rep_a1, [*through, ("negotiation", day(8)), ("won", day(15))])
    for owner in (org.rep_a1, org.rep_a1b, org.rep_a2):
        _deal(owner, [*through, ("lost", day(10))], loss="price")
    _deal(org.rep_a2, [*through, ("negotiation", day(9)), ("lost", day(20))], loss="competitor")
    Membership.objects.filter(user=org.rep_b1).update(seniority=Seniority.SENIOR)
    # Visits: the last Wednesday converts 3 of 4, the Monday before 1 of 4.
    today = timezone.localdate()
    wednesday = today - dt.timedelta(days=(today.isoweekday() - 3) % 7 or 7)
    account = AccountFactory(owner=org.rep_a1)
    for offset, outcomes in (
        (0, ("interested", "qualified", "interested", "not_interested")),
        (-2, ("interested", "not_interested", "not_interested", "not_interested")),
    ):
        when = timezone.make_aware(dt.datetime.combine(wednesday + dt.timedelta(days=offset), dt.time(10)))
        for outcome in outcomes:
            ActivityFactory(account=account, kind="visit", occurred_at=when, outcome=outcome)
    return org


def test_the_manager_finds_the_leak_and_a_new_lead_goes_to_the_right_rep(world, session_for):
    org = world
    manager = session_for("manager_a")
    page = manager.page

    # 1. The funnel review names the leaking stage and the loss reason behind it (in Chinese).
    page.goto("/intel/funnel/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    proposal, won = Stage.objects.get(code="proposal"), Stage.objects.get(code="won")
    price = LossReason.objects.get(code="price")
    callout = page.get_by_test_id("leak-callout")
    expect(callout).to_contain_text(proposal.name)
    expect(callout).to_contain_text(won.name)
    expect(callout).to_contain_text("20.0%")
    expect(callout).to_contain_text(price.name)
    reasons = page.get_by_test_id("leak-reasons-proposal-won")
    expect(reasons).to_contain_text(LossReason.objects.get(code="competitor").name)
    expect(reasons.locator(".plot-container")).to_be_visible()  # the loss-reason bars were drawn
    expect(page.locator("#chart-funnel .plot-container")).to_be_visible()
    expect(page.locator('tr[data-pair="proposal-won"]')).to_have_class(re.compile("table-danger"))
    manager.screenshot("intel-funnel-leak")

    # 2. The heatmap says which weekday's visits convert best, and draws the weekday × hour map.
    page.goto("/intel/heatmap/?kind=visit")
    expect(page.get_by_test_id("best-days")).to_contain_text("星期三")
    expect(page.locator('tr[data-weekday="3"]')).to_have_class(re.compile("table-success"))
    expect(page.locator("#heat-hour-rate .plot-container")).to_be_visible()
    expect(page.locator("#heat-rep-count .plot-container")).to_be_visible()
    manager.screenshot("intel-heatmap")

    # 3. Marketing enters an expo lead with a big budget and no owner: the seeded rule fires.
    marketing = session_for("marketing")
    page = marketing.page
    page.goto("/leads/new/")
    page.fill("#id_name", "展会大单线索")
    page.fill("#id_budget", "200000")
    page.eval_on_selector("#id_owner", "el => { el.value = ''; el.dispatchEvent(new Event('change')); }")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/leads/\d+/$"))
    lead = Lead.objects.get(name="展会大单线索")
    assert lead.owner == org.rep_b1  # the only senior rep
    assignment = LeadAssignment.objects.get(lead=lead)
    expect(page.get_by_test_id("lead-routing-history")).to_contain_text(assignment.rule.name)

    # 4. The routing page's log shows which rule fired and why.
    page.goto("/intel/routing/")
    row = page.get_by_test_id("assignment-log").locator(f'tr[data-lead="{lead.pk}"]')
    expect(row).to_contain_text(str(org.rep_b1))
    expect(row).to_contain_text(assignment.rule.name)
    expect(row).to_contain_text("100000")
    marketing.screenshot("intel-routing-log")
