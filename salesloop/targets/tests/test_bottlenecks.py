"""Detectors flag the stuck rep with numbers, task their lead once, and clear on recovery."""

import datetime as dt
from decimal import Decimal

from django.utils import translation

from salesloop.activities.models import Task, TaskKind, TaskStatus
from salesloop.pipeline.models import StageChange
from salesloop.targets.bottlenecks import bottlenecks_detect, explain
from salesloop.targets.models import BottleneckRule, Flag, FlagStatus
from salesloop.targets.tests.factories import TargetFactory, local, visits, won_deal
from salesloop.testing.factories import OpportunityFactory, stage

AS_OF = dt.date(2025, 7, 11)


def only(code):
    BottleneckRule.objects.exclude(code=code).update(is_active=False)


def test_rep_twenty_percent_below_team_conversion_is_flagged_with_a_coaching_task_once(org):
    only("conversion_gap")
    visits(owner=org.rep_a1, n=30, on=dt.date(2025, 7, 1))
    visits(owner=org.rep_a1b, n=30, on=dt.date(2025, 7, 1))
    for i in range(6):
        won_deal(owner=org.rep_a1, amount="1000.00", closed=local(dt.date(2025, 7, 2 + i % 5)))
    won_deal(owner=org.rep_a1b, amount="1000.00", closed=local(dt.date(2025, 7, 3)))

    result = bottlenecks_detect(team=org.company, as_of=AS_OF)

    flag = Flag.objects.get(status=FlagStatus.OPEN)
    assert flag.rep == org.rep_a1b and result.opened == 1 and result.tasks_created == 1
    # team average 7/60 = 11.7%; rep_a1b 1/30 = 3.3%, 71.4% below it
    assert (flag.facts["rate_pct"], flag.facts["team_rate_pct"], flag.facts["gap_pct"]) == ("3.3", "11.7", "71.4")
    assert "3.3%" in explain(flag) and "11.7%" in explain(flag)
    task = flag.task
    assert (task.assignee, task.kind, task.status) == (org.lead_a1, TaskKind.COACHING, TaskStatus.OPEN)

    again = bottlenecks_detect(team=org.company, as_of=AS_OF)
    assert (again.opened, again.refreshed, again.tasks_created) == (0, 1, 0)
    assert Task.objects.filter(kind=TaskKind.COACHING).count() == 1


def test_a_flag_clears_itself_and_cancels_the_open_task_when_the_metric_recovers(org):
    only("conversion_gap")
    visits(owner=org.rep_a1, n=30, on=dt.date(2025, 7, 1))
    visits(owner=org.rep_a1b, n=30, on=dt.date(2025, 7, 1))
    for _ in range(6):
        won_deal(owner=org.rep_a1, amount="1000.00", closed=local(dt.date(2025, 7, 2)))
    bottlenecks_detect(team=org.company, as_of=AS_OF)
    flag = Flag.objects.get(status=FlagStatus.OPEN)
    for _ in range(6):
        won_deal(owner=org.rep_a1b, amount="1000.00", closed=local(dt.date(2025, 7, 4)))

    with translation.override("en"):
        result = bottlenecks_detect(team=org.company, as_of=AS_OF)

    flag.refresh_from_db()
    assert result.cleared == 1 and flag.status == FlagStatus.CLEARED and flag.cleared_at is not None
    assert flag.task.status == TaskStatus.CANCELLED and "recovered" in flag.task.notes


def test_a_rep_with_too_few_visits_is_not_judged(org):
    only("conversion_gap")
    visits(owner=org.rep_a1, n=30, on=dt.date(2025, 7, 1))
    visits(owner=org.rep_a1b, n=5, on=dt.date(2025, 7, 1))  # below the minimum sample of 20
    won_deal(owner=org.rep_a1, amount="1000.00", closed=local(dt.date(2025, 7, 2)))
    assert bottlenecks_detect(team=org.company, as_of=AS_OF).opened == 0


def test_visits_below_pace_uses_the_reps_visit_target(org):
    only("visits_below_pace")
    TargetFactory(
        metric="visits",
        period_kind="month",
        period_start=dt.date(2025, 7, 1),
        rep=org.rep_a1,
        team=org.group_a1,
        amount=Decimal(230),
    )
    TargetFactory(
        metric="visits",
        period_kind="month",
        period_start=dt.date(2025, 7, 1),
        rep=org.rep_a1b,
        team=org.group_a1,
        amount=Decimal(230),
    )
    visits(owner=org.rep_a1, n=40, on=dt.date(2025, 7, 2))  # 40 of 80 expected after 8 of 23 days
    visits(owner=org.rep_a1b, n=80, on=dt.date(2025, 7, 2))
    bottlenecks_detect(team=org.company, as_of=AS_OF)
    flag = Flag.objects.get(status=FlagStatus.OPEN)
    assert flag.rep == org.rep_a1
    assert (flag.facts["actual"], flag.facts["expected"], flag.facts["pace_pct"]) == ("40", "80.00", "50.0")


def test_a_deal_sitting_in_a_stage_far_longer_than_usual_is_flagged(org):
    only("stage_stall")
    proposal, negotiation = stage("proposal"), stage("negotiation")
    from django.utils import timezone

    for i in range(5):  # five completed 10-day stays in "proposal" that ended last month
        opp = OpportunityFactory(account__owner=org.rep_a1b)
        start = timezone.now() - dt.timedelta(days=60 - i)
        StageChange.objects.create(opportunity=opp, to_stage=proposal, changed_at=start)
        StageChange.objects.create(opportunity=opp, to_stage=negotiation, changed_at=start + dt.timedelta(days=10))

    stuck = OpportunityFactory(
        account__owner=org.rep_a1, stage=proposal, stage_entered_at=timezone.now() - dt.timedelta(days=40)
    )
    OpportunityFactory(
        account__owner=org.rep_a1b, stage=proposal, stage_entered_at=timezone.now() - dt.timedelta(days=12)
    )  # 120% of usual: fine
    bottlenecks_detect(team=org.company, as_of=timezone.localdate())
    flag = Flag.objects.get(status=FlagStatus.OPEN)
    assert flag.rep == org.rep_a1 and flag.facts["deals"][0]["id"] == stuck.pk
    assert flag.facts["deals"][0]["usual_days"] == "10.0"


def test_falling_average_deal_size_is_flagged(org):
    only("deal_size_falling")
    for i in range(3):
        won_deal(owner=org.rep_a1, amount="100000.00", closed=local(dt.date(2025, 4, 1 + i)))
        won_deal(owner=org.rep_a1, amount="60000.00", closed=local(dt.date(2025, 7, 1 + i)))
    bottlenecks_detect(team=org.company, as_of=AS_OF)
    flag = Flag.objects.get(status=FlagStatus.OPEN)
    assert (flag.facts["avg_before"], flag.facts["avg_now"], flag.facts["fall_pct"]) == (
        "100000.00",
        "60000.00",
        "40.0",
    )


def test_switching_a_detector_off_clears_its_flags(org):
    only("deal_size_falling")
    for i in range(3):
        won_deal(owner=org.rep_a1, amount="100000.00", closed=local(dt.date(2025, 4, 1 + i)))
        won_deal(owner=org.rep_a1, amount="60000.00", closed=local(dt.date(2025, 7, 1 + i)))
    bottlenecks_detect(team=org.company, as_of=AS_OF)
    BottleneckRule.objects.update(is_active=False)
    assert bottlenecks_detect(team=org.company, as_of=AS_OF).cleared == 1
