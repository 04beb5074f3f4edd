"""Cadence tasks run through the automation rule engine; coverage and SLA compliance read them."""

import datetime as dt

from django.utils import timezone

from salesloop.activities.models import Task, TaskStatus
from salesloop.automation.engine import rules_sweep
from salesloop.automation.models import Rule
from salesloop.automation.services import rule_update
from salesloop.custops.selectors import coverage_report, overdue_accounts, sla_compliance
from salesloop.custops.services import scoring_run_create
from salesloop.custops.tests.factories import orders
from salesloop.testing.factories import AccountFactory, ActivityFactory, TaskFactory


def high_value_account(owner, *, contacted_days_ago: int | None):
    today = timezone.localdate()
    account = AccountFactory(owner=owner)
    orders(account, *[(today - dt.timedelta(days=d), "20000.00") for d in (50, 30, 10)])
    if contacted_days_ago is not None:
        ActivityFactory(
            account=account,
            kind="visit",
            occurred_at=timezone.now() - dt.timedelta(days=contacted_days_ago),
        )
    return account


def test_a_high_value_account_not_contacted_for_a_week_gets_one_cadence_task(org):
    due = high_value_account(org.rep_a1, contacted_days_ago=9)
    high_value_account(org.rep_a1, contacted_days_ago=2)  # contacted recently: not due
    scoring_run_create()

    rules_sweep()
    rules_sweep()

    tasks = Task.objects.filter(source="rule:cadence_follow_up")
    assert list(tasks.values_list("account_id", flat=True)) == [due.pk]
    assert tasks.get().assignee == org.rep_a1


def test_logging_a_contact_closes_the_cadence_task_and_starts_the_next_cycle(org):
    account = high_value_account(org.rep_a1, contacted_days_ago=9)
    scoring_run_create()
    rules_sweep()

    ActivityFactory(account=account, kind="call")
    rules_sweep()

    task = Task.objects.get(source="rule:cadence_follow_up", account=account)
    assert task.status == TaskStatus.DONE
    assert Task.objects.filter(source="rule:cadence_follow_up").count() == 1


def test_long_overdue_accounts_are_reported_but_do_not_flood_the_rep_with_tasks(org):
    forgotten = high_value_account(org.rep_a1, contacted_days_ago=60)
    scoring_run_create()

    rules_sweep()

    assert not Task.objects.filter(source="rule:cadence_follow_up", account=forgotten).exists()
    assert list(overdue_accounts(user=org.lead_a1)) == [forgotten]
    (row,) = coverage_report(user=org.lead_a1)
    assert (row.owner_id, row.accounts, row.overdue) == (org.rep_a1.pk, 1, 1)
    assert coverage_report(user=org.lead_b1) == []


def test_an_admin_can_edit_the_cadence_rule_like_any_other(org):
    rule = Rule.objects.get(code="cadence_follow_up")

    updated = rule_update(
        rule_id=rule.pk,
        user=org.admin,
        data={"params": {"catch_up_days": 30}, "due_amount": 2},
        version=rule.version,
    )

    assert updated.params["catch_up_days"] == 30 and updated.due_amount == 2


def test_sla_compliance_counts_on_time_late_and_overdue_rule_tasks_per_rep_and_team(org):
    account = high_value_account(org.rep_a1, contacted_days_ago=9)
    scoring_run_create()
    rules_sweep()
    now = timezone.now()
    task = Task.objects.get(source="rule:cadence_follow_up")
    task.status, task.completed_at = TaskStatus.DONE, task.due_at - dt.timedelta(hours=1)
    task.save()
    manual = TaskFactory(assignee=org.rep_a1, due_at=now - dt.timedelta(days=1))
    start, end = (
        timezone.localdate() - dt.timedelta(days=30),
        timezone.localdate() + dt.timedelta(days=30),
    )

    report = sla_compliance(
        user=org.manager_a, start=start, end=end, now=task.due_at + dt.timedelta(days=5)
    )

    (rep,) = report.by_rep
    assert (rep.key, rep.on_time, rep.late, rep.overdue_open, rep.compliance_pct) == (
        org.rep_a1.pk,
        1,
        0,
        0,
        100.0,
    )
    assert [t.label for t in report.by_team] == ["Group A1"]
    assert report.by_rule[0].label == "按客户分层节奏跟进"
    assert manual.pk not in [t.pk for t in report.breaches]

    task.completed_at = task.due_at + dt.timedelta(hours=3)
    task.save()
    late = sla_compliance(user=org.manager_a, start=start, end=end)
    assert (late.by_rep[0].late, late.by_rep[0].compliance_pct) == (1, 0.0)
    assert [t.pk for t in late.breaches] == [task.pk]
    assert sla_compliance(user=org.rep_b1, start=start, end=end).by_rep == []
    assert account.pk == task.account_id
