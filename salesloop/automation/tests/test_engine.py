"""The rule engine: idempotency, scheduler races, set-based sweeps, goals met, escalation."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesloop.activities.models import ActivityKind, Task, TaskStatus
from salesloop.automation import engine
from salesloop.automation.ladder import Ladder
from salesloop.automation.models import Escalation, Rule, RuleFiring
from salesloop.automation.tests.clock import local
from salesloop.automation.triggers import TRIGGERS, Sweep
from salesloop.automation.workcalendar import WorkCalendar
from salesloop.notifications.models import Notification
from salesloop.org.models import Team
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    stage,
)

pytestmark = pytest.mark.django_db

MONDAY = local("2025-06-02", "10:00")


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        Rule.objects.update(active_since=local("2025-06-01"))
        yield traveller


def only(*codes: str) -> None:
    Rule.objects.exclude(code__in=codes).update(is_active=False)


def test_a_second_sweep_creates_no_task_and_no_notification(org, monday):
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account, birthday=dt.date(1980, 6, 4))
    InvoiceFactory(
        order__account=account,
        account=account,
        issue_date=dt.date(2025, 3, 1),
        due_date=dt.date(2025, 4, 1),
    )
    LeadFactory(owner=org.rep_a1)

    first = engine.rules_sweep()
    second = engine.rules_sweep()

    assert first["tasks"] == 3 and first["notifications"] == 4  # + legal for the invoice
    assert second["fired"] == second["tasks"] == second["notifications"] == 0
    assert Task.objects.count() == 3
    assert Notification.objects.count() == 4


def test_a_scheduler_that_loses_the_race_for_a_slot_keeps_no_task_of_its_own(org, monday):
    only("lead_first_touch")
    leads = [LeadFactory(owner=org.rep_a1) for _ in range(3)]
    rule = Rule.objects.get(code="lead_first_touch")
    sweep = Sweep(now=MONDAY, calendar=WorkCalendar.load())
    seen_by_slow_scheduler = list(TRIGGERS[rule.trigger].candidates(rule, sweep))
    engine.rules_sweep()  # the fast scheduler fires first

    stats = engine._fire_chunk(
        rule, seen_by_slow_scheduler, sweep, Ladder.load(), engine.People.load()
    )

    assert stats == {"fired": 0, "tasks": 0, "notifications": 0, "lost": 3}
    assert Task.objects.count() == 3
    assert sorted(Task.objects.values_list("lead_id", flat=True)) == sorted(
        lead.pk for lead in leads
    )
    assert Notification.objects.count() == 3


def test_a_sweep_issues_the_same_number_of_queries_for_ten_or_a_hundred_records(org, monday):
    """Records that do not match cost no query; a quiet sweep costs the same whatever the size.

    Writes are bulk inserts, so their count follows the number of *new* actions (one INSERT per
    batch), never the number of records scanned: here five records per rule fire each time.
    """

    def sweep_queries(extra: int) -> tuple[int, int, int]:
        people = [org.rep_a1, org.rep_a2, org.rep_b1]
        for i in range(5):  # due now, for every time-based and event-based trigger
            account = AccountFactory(owner=people[i % 3])
            ContactFactory(account=account, birthday=dt.date(1980, 6, 3))
            OpportunityFactory(account=account, stage=stage("negotiation"))
            InvoiceFactory(
                order__account=account,
                account=account,
                issue_date=dt.date(2025, 3, 1),
                due_date=dt.date(2025, 4, 1),
            )
            LeadFactory(owner=account.owner)
            ActivityFactory(
                account=account, owner=account.owner, kind=ActivityKind.EMAIL, subject="竞品来访"
            )
        for i in range(extra):  # the same kinds of record, none of them due
            account = AccountFactory(owner=people[i % 3])
            ContactFactory(account=account, birthday=dt.date(1980, 9, 3))
            OpportunityFactory(account=account, stage=stage("lead"))
            InvoiceFactory(order__account=account, account=account, issue_date=dt.date(2025, 5, 20))
            LeadFactory(owner=account.owner, status="contacted")
            ActivityFactory(
                account=account, owner=account.owner, kind=ActivityKind.EMAIL, subject="例行沟通"
            )
        with CaptureQueriesContext(connection) as firing:
            result = engine.rules_sweep()
        with CaptureQueriesContext(connection) as steady:
            assert engine.rules_sweep()["fired"] == 0
        return result["fired"], len(firing.captured_queries), len(steady.captured_queries)

    engine.rules_sweep()  # first use creates the settings rows; that is not part of a sweep
    small = sweep_queries(10)
    large = sweep_queries(90)  # the second round adds 5 new due records and 90 more of the rest

    assert small[0] == large[0]
    assert small == large


def test_a_birthday_on_29_february_is_remembered_on_28_february_in_other_years(org):
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account, name="闰年生", birthday=dt.date(1988, 2, 29))
    only("birthday_reminder")
    with time_machine.travel(local("2025-02-25", "09:00"), tick=False):
        engine.rules_sweep()

    firing = RuleFiring.objects.get()
    assert firing.slot == "2025-02-28"
    assert "2025-02-28" in Task.objects.get().title


def test_a_rule_task_is_closed_when_a_follow_up_is_logged_and_then_never_escalated(org, monday):
    only("lead_first_touch")
    lead = LeadFactory(owner=org.rep_a1)
    engine.rules_sweep()
    monday.move_to(local("2025-06-03", "09:00"))
    ActivityFactory(account=None, lead=lead, owner=org.rep_a1, kind=ActivityKind.CALL)

    result = engine.rules_sweep()
    monday.move_to(local("2025-06-10", "09:00"))
    later = engine.rules_sweep()

    assert result["closed"] == 1
    assert Task.objects.get().status == TaskStatus.DONE
    assert later["escalated"] == 0


def test_a_breach_escalates_one_level_up_the_team_tree_once(org, monday):
    only("lead_first_touch")
    LeadFactory(owner=org.rep_a1)  # rep in Group A1 → group lead
    LeadFactory(owner=org.lead_a1)  # the group lead → manager of Team A
    LeadFactory(owner=org.rep_a2)  # Group A2 has no lead → manager of Team A
    engine.rules_sweep()
    monday.move_to(local("2025-06-05", "18:00"))  # due Thursday 18:00

    first = engine.rules_sweep()
    again = engine.rules_sweep()

    assert first["escalated"] == 3 and again["escalated"] == 0
    assert sorted(
        Escalation.objects.values_list("task__assignee__username", "escalated_to__username")
    ) == [
        ("lead_a1", "manager_a"),
        ("rep_a1", "lead_a1"),
        ("rep_a2", "manager_a"),
    ]


def test_an_explicit_team_lead_is_the_escalation_contact(org, monday):
    Team.objects.filter(pk=org.group_a1.pk).update(lead=org.rep_a1b)
    ladder = Ladder.load()
    assert ladder.one_up(org.rep_a1.pk) == org.rep_a1b.pk
    assert ladder.one_up(org.rep_a1b.pk) == org.manager_a.pk
    assert ladder.one_up(org.director.pk) is None


def test_escalation_waits_the_rules_working_hours_after_the_deadline(org, monday):
    only("lead_first_touch")
    Rule.objects.filter(code="lead_first_touch").update(escalate_after_hours=4)
    LeadFactory(owner=org.rep_a1)
    engine.rules_sweep()

    monday.move_to(local("2025-06-06", "12:59"))  # due Thu 18:00; + 4 working hours = Fri 13:00
    early = engine.rules_sweep()
    monday.move_to(local("2025-06-06", "13:00"))
    on_time = engine.rules_sweep()

    assert (early["escalated"], on_time["escalated"]) == (0, 1)


def test_an_overdue_invoice_opens_a_collection_task_and_tells_legal(org, monday):
    only("receivable_collection")
    account = AccountFactory(owner=org.rep_b1, name="逾期客户")
    InvoiceFactory(
        order__account=account,
        account=account,
        number="INV-9",
        amount=Decimal("8000.00"),
        paid_amount=Decimal("3000.00"),
        issue_date=dt.date(2025, 3, 1),
        due_date=dt.date(2025, 4, 30),
    )
    InvoiceFactory(  # only 3 days overdue: not yet
        order__account=account,
        account=account,
        issue_date=dt.date(2025, 5, 1),
        due_date=dt.date(2025, 5, 30),
    )

    engine.rules_sweep()

    task = Task.objects.get()
    assert (task.kind, task.assignee, task.account) == ("collection", org.rep_b1, account)
    assert task.title == "催收逾期 33 天的发票 INV-9（逾期客户），余额 5000.00 CNY"
    assert sorted(Notification.objects.values_list("recipient__username", "kind")) == [
        ("legal", "escalation"),
        ("rep_b1", "task"),
    ]


def test_an_english_speaking_owner_gets_the_english_title(org, monday):
    only("lead_first_touch")
    org.rep_a1.language = "en"
    org.rep_a1.save()
    LeadFactory(owner=org.rep_a1, name="Expo lead", company="Acme")

    engine.rules_sweep()

    assert Task.objects.get().title == "First touch with new lead Expo lead (Acme)"
    assert Notification.objects.get().body.startswith("Due ")


def test_an_inactive_rule_does_nothing_and_events_before_activation_are_ignored(org, monday):
    LeadFactory(owner=org.rep_a1)
    Rule.objects.update(is_active=False)
    assert engine.rules_sweep()["fired"] == 0
    Rule.objects.filter(code="lead_first_touch").update(
        is_active=True, active_since=local("2025-06-02", "11:00")
    )
    assert engine.rules_sweep()["fired"] == 0


def test_a_broken_rule_fails_the_sweep_but_never_stops_the_other_rules(org, monday):
    only("lead_first_touch", "birthday_reminder")
    Rule.objects.filter(code="birthday_reminder").update(
        params={"days_before": "three"}
    )  # bypassing validation
    LeadFactory(owner=org.rep_a1)

    with pytest.raises(engine.RuleFailed, match="birthday_reminder") as failure:
        engine.rules_sweep()

    assert failure.value.result["rules"] == {"lead_first_touch": 1}
    assert Task.objects.count() == 1


def test_the_admin_site_refuses_conditions_the_trigger_does_not_accept(org):
    from salesloop.automation.admin import RuleAdminForm

    rule = Rule.objects.get(code="birthday_reminder")
    data = {
        f.name: getattr(rule, f.attname)
        for f in Rule._meta.concrete_fields
        if f.editable and f.name != "id"
    }
    form = RuleAdminForm(data={**data, "params": '{"days_before": 500}'}, instance=rule)
    assert not form.is_valid() and "params" in form.errors
    form = RuleAdminForm(
        data={**data, "params": '{"days_before": 5}', "task_title": "{nope}"}, instance=rule
    )
    assert not form.is_valid() and "task_title" in form.errors
