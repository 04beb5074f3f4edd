"""Issue #5's "done when", in a real browser: a lead sets a quarterly target, decomposes it to reps
and days, watches the morning board, sees a flagged rep with a coaching task and reads a variance
attribution that adds up — in Chinese and in English.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from salesloop.activities.models import Task, TaskKind
from salesloop.targets.models import BottleneckRule, Target
from salesloop.targets.tests.factories import local, visits, won_deal
from salesloop.testing.org import build_org

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(transactional_db):
    org = build_org()
    today = timezone.localdate()
    recent = today - dt.timedelta(days=3)
    # Last weeks: both reps visit; rep_a1 converts, rep_a1b hardly does (a conversion gap).
    visits(owner=org.rep_a1, n=30, on=recent)
    visits(owner=org.rep_a1b, n=30, on=recent)
    visits(owner=org.rep_a1, n=20, on=recent - dt.timedelta(days=45))  # the attribution's baseline
    for i in range(5):
        won_deal(owner=org.rep_a1, amount="20000.00", closed=local(recent - dt.timedelta(days=40 + i)))
    won_deal(owner=org.rep_a1, amount="20000.00", closed=local(recent))
    BottleneckRule.objects.exclude(code="conversion_gap").update(is_active=False)
    return org


def test_the_managers_loop_from_target_to_attribution(world, session_for):
    org = world
    lead = session_for("lead_a1")
    page = lead.page
    today = timezone.localdate()

    # 1. Set this quarter's revenue target for the group (the page is in Chinese by default).
    page.goto(f"/targets/?team={org.group_a1.pk}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    form = page.get_by_test_id("target-form")
    form.locator("select[name=metric]").select_option("revenue")
    form.locator("select[name=period_kind]").select_option("quarter")
    form.locator("input[name=period_start]").fill(today.isoformat())
    form.locator("select[name=team_id]").select_option(str(org.group_a1.pk))
    form.locator("input[name=amount]").fill("1000000")
    form.get_by_test_id("set-target").click()
    expect(page.get_by_test_id("attainment")).to_be_visible()
    quarter = Target.objects.get(metric="revenue", period_kind="quarter")

    # 2. Decompose to reps (preview first), then one rep's target to days.
    decompose = page.get_by_test_id("decompose-form")
    decompose.locator("select[name=axis]").select_option("members")
    decompose.locator("select[name=to]").select_option("reps")
    page.get_by_test_id("preview").click()
    expect(page.get_by_test_id("preview-table")).to_be_visible()
    page.get_by_test_id("decompose-form").locator("select[name=to]").select_option("reps")
    page.get_by_test_id("decompose").click()
    expect(page.get_by_test_id("children").locator("tbody tr")).to_have_count(2)
    rep_target = quarter.children.get(rep=org.rep_a1)
    page.goto(f"/targets/{rep_target.pk}/")
    page.get_by_test_id("decompose-form").locator("select[name=axis]").select_option("periods")
    page.get_by_test_id("decompose-form").locator("select[name=period_kind]").select_option("day")
    page.get_by_test_id("decompose").click()
    expect(page.get_by_test_id("children").locator("tbody tr")).to_have_count(
        rep_target.period_end.toordinal() - rep_target.period_start.toordinal() + 1
    )
    assert sum(t.amount for t in rep_target.children.all()) == rep_target.amount
    lead.screenshot("targets-rep-days")

    # 3. The morning board.
    page.goto(f"/targets/today/?team={org.group_a1.pk}")
    expect(page.get_by_test_id("today-board")).to_contain_text(str(org.rep_a1))
    lead.screenshot("targets-morning-board")

    # 4. Run the detectors: rep_a1b is flagged and the lead gets a coaching task.
    page.goto(f"/targets/flags/?team={org.group_a1.pk}")
    page.get_by_test_id("run-detectors").click()
    expect(page.get_by_test_id("flags")).to_contain_text(str(org.rep_a1b))
    assert Task.objects.filter(kind=TaskKind.COACHING, assignee=org.lead_a1).count() == 1
    lead.screenshot("targets-flags")

    # 5. Variance attribution of this month against a month target, in English.
    month = today.replace(day=1)
    Target.objects.create(
        metric="revenue",
        period_kind="month",
        period_start=month,
        period_end=(month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1),
        team=org.group_a1,
        amount=Decimal("100000.00"),
    )
    page.goto(f"/targets/attribution/?team={org.group_a1.pk}&period=month")
    page.get_by_test_id("user-menu").click()
    page.locator("[data-testid=language-form] button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("attribution-headline")).to_contain_text("attained")
    total = page.get_by_test_id("attribution-total").inner_text()
    actual = sum(o.amount for o in org.rep_a1.opportunities.filter(closed_at__date__gte=month))
    assert Decimal(total.replace(",", "")) == actual - Decimal("100000.00")
    lead.screenshot("targets-attribution")
