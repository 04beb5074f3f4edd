"""A frozen clock drives the real scheduler through one working week, Monday 2 June 2025 to Sunday.

Wednesday 4 June is entered as a holiday. The sweep and the delivery job run every hour, the
brief at 08:30 and the evening jobs at 17:30 and 20:00, as scheduled data says. During the week
people work: leads arrive, a first visit is logged, a deal moves to proposal, an invoice is paid,
a competitor's move is noted. At the end the test asserts exactly which tasks, escalations,
notifications and e-mails exist — nothing more, nothing less.
"""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.core import mail

from salesloop.activities.models import ActivityKind, Task, TaskStatus
from salesloop.automation.briefs import evening_report_submit
from salesloop.automation.models import (
    Brief,
    DayKind,
    Escalation,
    Holiday,
    Rule,
    RuleFiring,
    ScheduledJob,
)
from salesloop.automation.tests.clock import SimulatedClock, local
from salesloop.notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
)
from salesloop.pipeline.models import Stage
from salesloop.pipeline.services import opportunity_move_stage
from salesloop.sales.models import ContractStatus
from salesloop.sales.services import payment_create
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    stage,
)

pytestmark = pytest.mark.django_db


def _week_setup(org):
    Holiday.objects.create(date=dt.date(2025, 6, 4), name="测试假日", kind=DayKind.HOLIDAY)
    ScheduledJob.objects.filter(name__in=["rules_sweep", "deliver_notifications"]).update(
        every_seconds=3600
    )
    Rule.objects.update(active_since=local("2025-06-01"))
    NotificationPreference.objects.create(
        user=org.lead_b1, quiet_start=dt.time(18), quiet_end=dt.time(9)
    )

    acc_a1 = AccountFactory(owner=org.rep_a1, name="杭州甲公司")
    birthday = ContactFactory(account=acc_a1, name="王总", birthday=dt.date(1975, 6, 5))
    acc_a1b = AccountFactory(owner=org.rep_a1b, name="宁波乙公司")
    deal_a1b = OpportunityFactory(account=acc_a1b, name="乙公司扩容")
    acc_a2 = AccountFactory(owner=org.rep_a2, name="苏州丙公司")
    deal_a2 = OpportunityFactory(account=acc_a2, name="丙公司年框", stage=stage("negotiation"))
    contract = ContractFactory(
        account=acc_a2,
        number="HT-2024-7",
        title="年度服务",
        status=ContractStatus.ACTIVE,
        start_date=dt.date(2024, 7, 5),
        end_date=dt.date(2025, 7, 4),
    )
    acc_b1 = AccountFactory(owner=org.rep_b1, name="上海丁公司")
    invoice = InvoiceFactory(
        order__account=acc_b1,
        account=acc_b1,
        number="INV-OLD-1",
        issue_date=dt.date(2025, 3, 21),
        due_date=dt.date(2025, 4, 20),
        amount=Decimal("50000.00"),
    )
    return {
        "acc_a1": acc_a1,
        "birthday": birthday,
        "deal_a1b": deal_a1b,
        "deal_a2": deal_a2,
        "contract": contract,
        "acc_a2": acc_a2,
        "invoice": invoice,
    }


def test_a_simulated_week_creates_exactly_the_expected_tasks_and_notifications(org):
    world = _week_setup(org)
    with SimulatedClock(local("2025-06-02", "07:00")) as clock:
        # Monday: a lead at 10:00, a first visit to a new account at 16:00, rep_a1 files at 17:00.
        clock.run_until(local("2025-06-02", "10:00"))
        lead_b1 = LeadFactory(owner=org.rep_b1, name="展会线索B", company="戊公司")
        clock.run_until(local("2025-06-02", "16:00"))
        new_account = AccountFactory(owner=org.rep_a1, name="绍兴新客户")
        ActivityFactory(account=new_account, owner=org.rep_a1, kind=ActivityKind.VISIT)
        clock.run_until(local("2025-06-02", "17:00"))
        monday_report = evening_report_submit(
            user=org.rep_a1, day=dt.date(2025, 6, 2), data={"tomorrow_plan": "回访绍兴新客户"}
        )
        # Tuesday: a second lead at 11:00, touched at 15:00; a deal enters proposal at 14:00.
        clock.run_until(local("2025-06-03", "11:00"))
        lead_a1 = LeadFactory(owner=org.rep_a1, name="官网线索A", company="己公司")
        clock.run_until(local("2025-06-03", "14:00"))
        deal = world["deal_a1b"]
        opportunity_move_stage(
            opportunity_id=deal.pk,
            stage_id=Stage.objects.get(code="proposal").pk,
            version=deal.version,
            user=org.rep_a1b,
        )
        clock.run_until(local("2025-06-03", "15:00"))
        ActivityFactory(account=None, lead=lead_a1, owner=org.rep_a1, kind=ActivityKind.CALL)
        # Thursday: a competitor's move at 10:00; finance records the overdue invoice paid at 11:00.
        clock.run_until(local("2025-06-05", "10:00"))
        ActivityFactory(
            account=world["acc_a2"],
            owner=org.rep_a2,
            kind=ActivityKind.EMAIL,
            subject="客户反馈竞品降价20%",
        )
        clock.run_until(local("2025-06-05", "11:00"))
        payment_create(
            user=org.finance,
            data={
                "invoice_id": world["invoice"].pk,
                "amount": Decimal("50000.00"),
                "paid_at": clock.now,
            },
        )
        # Thursday's 08:30 brief: rep_a1's thank-you task, due Tuesday, is a breach for the lead.
        lead_a1_thursday = Brief.objects.get(user=org.lead_a1, date=dt.date(2025, 6, 5)).content
        rep_a1_tuesday = Brief.objects.get(user=org.rep_a1, date=dt.date(2025, 6, 3)).content
        clock.run_until(local("2025-06-08", "12:00"))

    def key(task):
        return (
            task.source.removeprefix("rule:"),
            task.assignee.username,
            task.due_at.astimezone(local("2025-06-02").tzinfo).strftime("%a %d %H:%M"),
            task.status,
        )

    tasks = sorted(key(t) for t in Task.objects.select_related("assignee"))
    assert tasks == sorted(
        [
            ("birthday_reminder", "rep_a1", "Thu 05 18:00", TaskStatus.OPEN),
            ("competitor_action", "rep_a2", "Fri 06 18:00", TaskStatus.OPEN),
            ("contract_expiry", "rep_a2", "Thu 12 18:00", TaskStatus.OPEN),
            ("evaluation_weekly", "rep_a1b", "Mon 09 18:00", TaskStatus.OPEN),
            ("first_contact_thanks", "rep_a1", "Tue 03 18:00", TaskStatus.OPEN),
            (
                "lead_first_touch",
                "rep_a1",
                "Mon 09 18:00",
                TaskStatus.DONE,
            ),  # touched by a call on Tuesday
            ("lead_first_touch", "rep_b1", "Fri 06 18:00", TaskStatus.OPEN),
            ("negotiation_daily", "rep_a2", "Mon 02 18:00", TaskStatus.OPEN),
            ("negotiation_daily", "rep_a2", "Tue 03 18:00", TaskStatus.OPEN),
            ("negotiation_daily", "rep_a2", "Thu 05 18:00", TaskStatus.OPEN),  # none on the holiday
            ("negotiation_daily", "rep_a2", "Fri 06 18:00", TaskStatus.OPEN),
            ("proposal_call", "rep_a1b", "Mon 09 18:00", TaskStatus.OPEN),
            (
                "receivable_collection",
                "rep_b1",
                "Fri 06 18:00",
                TaskStatus.DONE,
            ),  # paid on Thursday
        ]
    )
    assert RuleFiring.objects.count() == 13

    escalations = sorted(
        (
            e.task.source.removeprefix("rule:"),
            e.task.assignee.username,
            e.escalated_to.username,
            e.at.astimezone(local("2025-06-02").tzinfo).strftime("%a %H:%M"),
        )
        for e in Escalation.objects.select_related("task__assignee", "escalated_to")
    )
    assert escalations == [
        ("first_contact_thanks", "rep_a1", "lead_a1", "Tue 18:00"),
        ("lead_first_touch", "rep_b1", "lead_b1", "Fri 18:00"),
    ]

    got = Counter(
        (n.recipient.username, n.kind) for n in Notification.objects.select_related("recipient")
    )
    expected = Counter(
        {
            ("rep_a1", "reminder"): 1,
            ("rep_a1", "task"): 2,
            ("rep_a1", "escalation"): 1,
            ("rep_a1", "brief"): 4,
            ("rep_a1", "report"): 3,
            ("rep_a1b", "task"): 2,
            ("rep_a1b", "brief"): 4,
            ("rep_a1b", "report"): 4,
            ("rep_a2", "task"): 6,
            ("rep_a2", "brief"): 4,
            ("rep_a2", "report"): 4,
            ("rep_b1", "task"): 2,
            ("rep_b1", "escalation"): 1,
            ("rep_b1", "brief"): 4,
            ("rep_b1", "report"): 4,
            ("lead_a1", "escalation"): 1,
            ("lead_a1", "brief"): 4,
            ("lead_a1", "report"): 8,
            ("lead_b1", "escalation"): 1,
            ("lead_b1", "brief"): 4,
            ("lead_b1", "report"): 8,
            ("manager_a", "reminder"): 1,
            ("manager_a", "brief"): 4,
            ("manager_a", "report"): 8,
            ("director", "brief"): 4,
            ("director", "report"): 8,
            ("legal", "escalation"): 1,
        }
    )
    assert got == expected
    assert sorted(set(Brief.objects.values_list("date", flat=True))) == [
        dt.date(2025, 6, 2),
        dt.date(2025, 6, 3),
        dt.date(2025, 6, 5),
        dt.date(2025, 6, 6),
    ]

    # Every notification went out by e-mail exactly once; lead_b1's quiet hours held theirs back.
    assert Delivery.objects.exclude(status=DeliveryStatus.SENT).count() == 0
    assert Delivery.objects.count() == Notification.objects.count() == len(mail.outbox)
    escalation_mail = Delivery.objects.get(
        notification__recipient=org.lead_b1, notification__kind="escalation"
    )
    assert escalation_mail.sent_at == local("2025-06-07", "09:00")

    # The briefs carry the numbers and breaches of their day.
    assert rep_a1_tuesday["previous_day"] == "2025-06-02"
    assert rep_a1_tuesday["previous_numbers"]["visits"] == 1
    assert [t["title"] for t in rep_a1_tuesday["tasks_today"]] == ["首次接触后致谢：绍兴新客户"]
    assert lead_a1_thursday["team"]["breach_count"] == 1
    assert lead_a1_thursday["team"]["breaches"][0]["assignee"] == "rep_a1"
    assert monday_report.numbers["visits"] == 1
    assert lead_b1.tasks.get().status == TaskStatus.OPEN
