"""What each rule trigger matches: one set-based query per rule, whatever the data size.

Each trigger turns a rule into a queryset of *candidates*: records for which the rule should act
now and has not yet acted for the current due slot (``NOT EXISTS`` against the
:class:`~salesloop.automation.models.RuleFiring` ledger, so a sweep never re-reads what it already
handled). A trigger may also say when a rule task's goal was met by later work ("a follow-up
was logged on the deal"), so the sweep closes such tasks instead of escalating them.

Time-based triggers look at dates (birthdays, contract ends, invoice due dates, deals sitting in
a stage); event-based ones look at events after ``Rule.active_since`` (a lead created, a first
contact, a stage entered, an activity mentioning a competitor) — polling the tables instead of
hooking signals catches imports and every other write path alike.
"""

from __future__ import annotations

import calendar as std_calendar
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext_lazy as _

from salesloop.activities.models import Activity, ActivityKind
from salesloop.automation.models import Rule, RuleFiring, Trigger
from salesloop.automation.workcalendar import WorkCalendar
from salesloop.customers.models import Contact, Lead, LeadStatus
from salesloop.intel.models import LeadAssignment
from salesloop.pipeline.models import Opportunity, Stage, StageChange
from salesloop.sales.models import Contract, ContractStatus, Invoice, InvoiceStatus


@dataclass(frozen=True)
class Param:
    """One condition a trigger accepts in ``Rule.params``."""

    name: str
    label: Any
    kind: str  # "int", "bool", "choice", "choices" (a list of choices), "words" (a list of text)
    default: Any
    minimum: int | None = None
    maximum: int | None = None
    choices: Callable[[], list[tuple[str, str]]] | None = None
    help_text: Any = ""


@dataclass
class Candidate:
    target: str
    object_id: int
    slot: str
    owner_id: int
    event_at: dt.datetime
    account_id: int | None = None
    opportunity_id: int | None = None
    lead_id: int | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sweep:
    """What every trigger of one sweep shares: the clock and the working calendar."""

    now: dt.datetime
    calendar: WorkCalendar

    @property
    def today(self) -> dt.date:
        return self.calendar.today(self.now)


def _stage_choices() -> list[tuple[str, str]]:
    return [(s.code, str(s)) for s in Stage.objects.filter(is_active=True).order_by("order")]


def _activity_kind_choices() -> list[tuple[str, str]]:
    return [(k, str(label)) for k, label in ActivityKind.choices]


_AUTO_DONE = Param(
    "auto_done",
    _("Mark the task done when a follow-up is logged on the record"),
    "bool",
    True,
)


def _not_fired(rule: Rule, target: str, *, object_ref: str = "pk", slot: Any = "") -> Exists:
    """``NOT EXISTS`` a firing of ``rule`` for the outer row and slot (a value or an expression)."""
    slot_filter = {"slot__in": slot} if isinstance(slot, list | tuple) else {"slot": slot}
    return ~Exists(
        RuleFiring.objects.filter(
            rule_id=rule.pk, target=target, object_id=OuterRef(object_ref), **slot_filter
        )
    )


class TriggerSpec:
    code: str
    kind: str  # "time" or "event"
    target: str
    params: tuple[Param, ...] = ()
    placeholders: tuple[str, ...] = ()

    def values(self, rule: Rule) -> dict[str, Any]:
        """The rule's params with each missing one at its default."""
        stored = rule.params or {}
        return {p.name: stored.get(p.name, p.default) for p in self.params}

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        raise NotImplementedError

    def goal_met(self, rule: Rule) -> Q | Exists | None:
        """A condition on ``RuleFiring`` rows whose open task no longer needs doing, or ``None``."""
        return None

    @staticmethod
    def _follow_up_logged(field_name: str) -> Exists:
        """An activity on the fired record logged after the task was created."""
        return Exists(
            Activity.objects.filter(
                **{field_name: OuterRef("object_id")}, created_at__gt=OuterRef("task__created_at")
            )
        )


class ContactBirthday(TriggerSpec):
    """A contact's birthday falls within ``days_before`` days (seed 000 §四.2 生日提醒).

    The window (today … today + N) instead of one exact day means a sweep missed while the
    scheduler was down is caught up the next time; the slot is this year's birthday, so each
    birthday is reminded once. 29 February is remembered on 28 February in other years.
    """

    code = Trigger.CONTACT_BIRTHDAY
    kind = "time"
    target = "customers.contact"
    params = (Param("days_before", _("Days before the birthday"), "int", 3, 0, 60),)
    placeholders = ("contact", "account", "date")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        days = int(self.values(rule)["days_before"])
        window = [sweep.today + dt.timedelta(days=i) for i in range(days + 1)]
        occurrences: dict[tuple[int, int], dt.date] = {(d.month, d.day): d for d in window}
        for day in window:
            if (day.month, day.day) == (2, 28) and not std_calendar.isleap(day.year):
                occurrences[(2, 29)] = day
        match = Q()
        for month, day in occurrences:
            match |= Q(birthday__month=month, birthday__day=day)
        rows = (
            Contact.objects.filter(match, birthday__isnull=False, account__owner__is_active=True)
            .filter(_not_fired(rule, self.target, slot=[d.isoformat() for d in window]))
            .values("pk", "name", "birthday", "account_id", "account__name", "account__owner_id")
        )
        for row in rows.iterator(chunk_size=2000):
            occurrence = occurrences[(row["birthday"].month, row["birthday"].day)]
            yield Candidate(
                target=self.target,
                object_id=row["pk"],
                slot=occurrence.isoformat(),
                owner_id=row["account__owner_id"],
                event_at=sweep.now,
                account_id=row["account_id"],
                context={
                    "contact": row["name"],
                    "account": row["account__name"],
                    "date": occurrence.isoformat(),
                },
            )


class ContractEnding(TriggerSpec):
    """An active contract ends within ``days_before`` days (seed 000 §四.2 合同到期提醒)."""

    code = Trigger.CONTRACT_ENDING
    kind = "time"
    target = "sales.contract"
    params = (Param("days_before", _("Days before the end date"), "int", 30, 1, 365),)
    placeholders = ("contract", "account", "date")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        days = int(self.values(rule)["days_before"])
        rows = (
            Contract.objects.filter(
                status=ContractStatus.ACTIVE,
                end_date__gte=sweep.today,
                end_date__lte=sweep.today + dt.timedelta(days=days),
                owner__is_active=True,
            )
            .annotate(slot_key=Cast("end_date", CharField()))
            .filter(_not_fired(rule, self.target, slot=OuterRef("slot_key")))
            .values("pk", "number", "title", "end_date", "account_id", "account__name", "owner_id")
        )
        for row in rows.iterator(chunk_size=2000):
            yield Candidate(
                target=self.target,
                object_id=row["pk"],
                slot=row["end_date"].isoformat(),
                owner_id=row["owner_id"],
                event_at=sweep.now,
                account_id=row["account_id"],
                context={
                    "contract": f"{row['number']} {row['title']}",
                    "account": row["account__name"],
                    "date": row["end_date"].isoformat(),
                },
            )

    def goal_met(self, rule: Rule) -> Exists:
        # Renewed or terminated: the contract is no longer an active one ending on that date.
        still_due = (
            Contract.objects.filter(pk=OuterRef("object_id"), status=ContractStatus.ACTIVE)
            .annotate(slot_key=Cast("end_date", CharField()))
            .filter(slot_key=OuterRef("slot"))
        )
        return ~Exists(still_due)


class InvoiceOverdue(TriggerSpec):
    """An open invoice is more than ``days_overdue`` days past due (seed 000 §四.3 应收账款)."""

    code = Trigger.INVOICE_OVERDUE
    kind = "time"
    target = "sales.invoice"
    params = (Param("days_overdue", _("Days past the due date"), "int", 30, 0, 3650),)
    placeholders = ("invoice", "account", "days", "balance", "date")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        days = int(self.values(rule)["days_overdue"])
        rows = (
            Invoice.objects.filter(
                status=InvoiceStatus.OPEN,
                due_date__lt=sweep.today - dt.timedelta(days=days),
                amount__gt=F("paid_amount"),
                account__owner__is_active=True,
            )
            .annotate(slot_key=Cast("due_date", CharField()))
            .filter(_not_fired(rule, self.target, slot=OuterRef("slot_key")))
            .values(
                "pk",
                "number",
                "due_date",
                "amount",
                "paid_amount",
                "currency",
                "account_id",
                "account__name",
                "account__owner_id",
            )
        )
        for row in rows.iterator(chunk_size=2000):
            yield Candidate(
                target=self.target,
                object_id=row["pk"],
                slot=row["due_date"].isoformat(),
                owner_id=row["account__owner_id"],
                event_at=sweep.now,
                account_id=row["account_id"],
                context={
                    "invoice": row["number"],
                    "account": row["account__name"],
                    "days": (sweep.today - row["due_date"]).days,
                    "balance": f"{row['amount'] - row['paid_amount']} {row['currency']}",
                    "date": row["due_date"].isoformat(),
                },
            )

    def goal_met(self, rule: Rule) -> Exists:
        return ~Exists(Invoice.objects.filter(pk=OuterRef("object_id"), status=InvoiceStatus.OPEN))


class LeadCreated(TriggerSpec):
    """A new lead with an owner and no first touch yet (seed 000 §三.2: first touch within 72 h).

    The SLA runs from the lead's latest routing to its current owner (issue #7: "SLA for first
    touch applies from assignment"), or from its creation when it was never routed to them. A
    lead routed again fires once more for the new assignment (slot ``assignment:<id>``), unless
    the first firing (slot ``""``) already came after that assignment; the earlier assignee's
    open task is then closed as superseded (see :meth:`goal_met`).
    """

    code = Trigger.LEAD_CREATED
    kind = "event"
    target = "customers.lead"
    params = (_AUTO_DONE,)
    placeholders = ("lead", "company")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        latest = LeadAssignment.objects.filter(lead_id=OuterRef("pk"), assignee_id=OuterRef("owner_id")).order_by(
            "-assigned_at", "-pk"
        )
        rows = (
            Lead.objects.filter(
                owner__isnull=False,
                owner__is_active=True,
                status=LeadStatus.NEW,
                first_touch_at__isnull=True,
            )
            .annotate(
                routed_at=Subquery(latest.values("assigned_at")[:1]),
                routed_id=Subquery(latest.values("pk")[:1]),
            )
            .annotate(
                sla_from=Coalesce("routed_at", "created_at"),
                slot_key=Case(
                    When(routed_id__isnull=True, then=Value("")),
                    default=Concat(Value("assignment:"), Cast("routed_id", CharField())),
                    output_field=CharField(),
                ),
            )
            .filter(sla_from__gte=rule.active_since, sla_from__lte=sweep.now)
            .filter(_not_fired(rule, self.target, slot=OuterRef("slot_key")))
            .exclude(
                Exists(
                    RuleFiring.objects.filter(
                        rule_id=rule.pk,
                        target=self.target,
                        object_id=OuterRef("pk"),
                        slot="",
                        fired_at__gte=OuterRef("routed_at"),
                    )
                )
            )
            .values("pk", "name", "company", "owner_id", "account_id", "sla_from", "slot_key")
        )
        for row in rows.iterator(chunk_size=2000):
            yield Candidate(
                target=self.target,
                object_id=row["pk"],
                slot=row["slot_key"],
                owner_id=row["owner_id"],
                event_at=row["sla_from"],
                account_id=row["account_id"],
                lead_id=row["pk"],
                context={"lead": row["name"], "company": row["company"] or row["name"]},
            )

    def goal_met(self, rule: Rule) -> Q | Exists | None:
        if not self.values(rule)["auto_done"]:
            return None
        touched = Exists(
            Lead.objects.filter(pk=OuterRef("object_id")).filter(
                Q(first_touch_at__isnull=False) | ~Q(status=LeadStatus.NEW)
            )
        )
        rerouted = Exists(
            LeadAssignment.objects.filter(
                lead_id=OuterRef("object_id"), assignee__isnull=False, assigned_at__gt=OuterRef("fired_at")
            )
        )
        return touched | rerouted | self._follow_up_logged("lead_id")


class FirstContact(TriggerSpec):
    """The first logged contact with an account (seed 000 §三.2: thank-you within 24 h)."""

    code = Trigger.FIRST_CONTACT
    kind = "event"
    target = "customers.account"
    params = (
        Param(
            "activity_kinds",
            _("Kinds of activity that count as contact"),
            "choices",
            [ActivityKind.VISIT, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.DEMO],
            choices=_activity_kind_choices,
        ),
        _AUTO_DONE,
    )
    placeholders = ("account", "date")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        kinds = list(self.values(rule)["activity_kinds"])
        earlier = Activity.objects.filter(account_id=OuterRef("account_id"), kind__in=kinds).filter(
            Q(occurred_at__lt=OuterRef("occurred_at"))
            | Q(occurred_at=OuterRef("occurred_at"), pk__lt=OuterRef("pk"))
        )
        rows = (
            Activity.objects.filter(
                occurred_at__gte=rule.active_since,
                occurred_at__lte=sweep.now,
                account__isnull=False,
                kind__in=kinds,
                owner__is_active=True,
            )
            .filter(~Exists(earlier))
            .filter(_not_fired(rule, self.target, object_ref="account_id"))
            .values(
                "pk", "account_id", "account__name", "owner_id", "occurred_at", "opportunity_id"
            )
        )
        for row in rows.iterator(chunk_size=2000):
            yield Candidate(
                target=self.target,
                object_id=row["account_id"],
                slot="",
                owner_id=row["owner_id"],
                event_at=row["occurred_at"],
                account_id=row["account_id"],
                opportunity_id=row["opportunity_id"],
                context={
                    "account": row["account__name"],
                    "date": row["occurred_at"].date().isoformat(),
                },
            )

    def goal_met(self, rule: Rule) -> Exists | None:
        if not self.values(rule)["auto_done"]:
            return None
        return self._follow_up_logged("account_id")


class StageEntered(TriggerSpec):
    """A deal entered a stage (seed 000 §三.2: call within 3 days of a proposal)."""

    code = Trigger.STAGE_ENTERED
    kind = "event"
    target = "pipeline.opportunity"
    params = (Param("stage", _("Stage"), "choice", "proposal", choices=_stage_choices), _AUTO_DONE)
    placeholders = ("opportunity", "account", "stage")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        stage = self.values(rule)["stage"]
        rows = (
            StageChange.objects.filter(
                to_stage__code=stage,
                changed_at__gte=rule.active_since,
                changed_at__lte=sweep.now,
                opportunity__stage__code=stage,
                opportunity__owner__is_active=True,
            )
            .annotate(slot_key=Cast("pk", CharField()))
            .filter(
                _not_fired(
                    rule, self.target, object_ref="opportunity_id", slot=OuterRef("slot_key")
                )
            )
            .values(
                "pk",
                "opportunity_id",
                "opportunity__name",
                "opportunity__owner_id",
                "opportunity__account_id",
                "opportunity__account__name",
                "to_stage__name",
                "changed_at",
            )
        )
        for row in rows.iterator(chunk_size=2000):
            yield Candidate(
                target=self.target,
                object_id=row["opportunity_id"],
                slot=str(row["pk"]),
                owner_id=row["opportunity__owner_id"],
                event_at=row["changed_at"],
                account_id=row["opportunity__account_id"],
                opportunity_id=row["opportunity_id"],
                context={
                    "opportunity": row["opportunity__name"],
                    "account": row["opportunity__account__name"],
                    "stage": row["to_stage__name"],
                },
            )

    def goal_met(self, rule: Rule) -> Exists | None:
        if not self.values(rule)["auto_done"]:
            return None
        return self._follow_up_logged("opportunity_id")


class InStage(TriggerSpec):
    """A deal sits in one of the stages: a task every working day or week.

    Seed 000 §三.2: weekly progress while in evaluation (qualified/proposal), daily review in
    negotiation. Only on working days; the slot is the ISO week or the date.
    """

    code = Trigger.IN_STAGE
    kind = "time"
    target = "pipeline.opportunity"
    params = (
        Param("stages", _("Stages"), "choices", ["qualified", "proposal"], choices=_stage_choices),
        Param(
            "period",
            _("Every"),
            "choice",
            "week",
            choices=lambda: [("week", str(_("week"))), ("day", str(_("working day")))],
        ),
        _AUTO_DONE,
    )
    placeholders = ("opportunity", "account", "stage", "period")

    @staticmethod
    def slot_for(day: dt.date, period: str) -> str:
        if period == "day":
            return day.isoformat()
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        if not sweep.calendar.is_working_day(sweep.today):
            return
        values = self.values(rule)
        slot = self.slot_for(sweep.today, values["period"])
        rows = (
            Opportunity.objects.filter(
                stage__code__in=list(values["stages"]),
                closed_at__isnull=True,
                owner__is_active=True,
            )
            .filter(_not_fired(rule, self.target, slot=slot))
            .values("pk", "name", "owner_id", "account_id", "account__name", "stage__name")
        )
        for row in rows.iterator(chunk_size=2000):
            yield Candidate(
                target=self.target,
                object_id=row["pk"],
                slot=slot,
                owner_id=row["owner_id"],
                event_at=sweep.now,
                account_id=row["account_id"],
                opportunity_id=row["pk"],
                context={
                    "opportunity": row["name"],
                    "account": row["account__name"],
                    "stage": row["stage__name"],
                    "period": slot,
                },
            )

    def goal_met(self, rule: Rule) -> Exists | None:
        if not self.values(rule)["auto_done"]:
            return None
        return self._follow_up_logged("opportunity_id")


class CompetitorNote(TriggerSpec):
    """An activity whose subject or notes mention a competitor (seed 000 §三.3, §四.2 竞品动态)."""

    code = Trigger.COMPETITOR_NOTE
    kind = "event"
    target = "activities.activity"
    params = (
        Param(
            "keywords",
            _("Words that mark a competitor's move"),
            "words",
            ["竞争对手", "竞品", "competitor"],
            help_text=_("One per line; matching ignores case."),
        ),
    )
    placeholders = ("account", "subject", "date")

    def candidates(self, rule: Rule, sweep: Sweep) -> Iterator[Candidate]:
        words = [w for w in self.values(rule)["keywords"] if str(w).strip()]
        if not words:
            return
        mention = Q()
        for word in words:
            mention |= Q(subject__icontains=word) | Q(notes__icontains=word)
        rows = (
            Activity.objects.filter(
                mention, created_at__gte=rule.active_since, created_at__lte=sweep.now
            )
            .filter(owner__is_active=True)
            .filter(_not_fired(rule, self.target))
            .values(
                "pk",
                "subject",
                "owner_id",
                "account_id",
                "account__name",
                "opportunity_id",
                "lead_id",
                "occurred_at",
                "created_at",
            )
        )
        for row in rows.iterator(chunk_size=2000):
            yield Candidate(
                target=self.target,
                object_id=row["pk"],
                slot="",
                owner_id=row["owner_id"],
                event_at=row["created_at"],
                account_id=row["account_id"],
                opportunity_id=row["opportunity_id"],
                lead_id=row["lead_id"],
                context={
                    "account": row["account__name"] or "",
                    "subject": row["subject"],
                    "date": row["occurred_at"].date().isoformat(),
                },
            )


TRIGGERS: dict[str, TriggerSpec] = {
    spec.code: spec
    for spec in (
        ContactBirthday(),
        ContractEnding(),
        InvoiceOverdue(),
        LeadCreated(),
        FirstContact(),
        StageEntered(),
        InStage(),
        CompetitorNote(),
    )
}


def trigger_for(rule: Rule) -> TriggerSpec:
    return TRIGGERS[rule.trigger]
