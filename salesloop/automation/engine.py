"""The rule engine's sweep: close tasks whose goal was met, fire due rules, escalate breaches.

One sweep is a fixed number of set-based queries per rule (see ``bench/rules_bench.py``): the
candidates of a rule come from one query, and their tasks, ledger rows and notifications are
written with bulk inserts in chunks, each chunk in one transaction. The ledger's unique key
(rule, record, slot) decides who acts: a chunk that loses a race with another scheduler
deletes the tasks it had inserted before committing, so nobody ever sees a double.
"""

from __future__ import annotations

import datetime as dt
import logging
import string
import time
import traceback
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from salesloop.activities.models import Task, TaskKind, TaskStatus
from salesloop.automation.ladder import Ladder
from salesloop.automation.models import AssignTo, Escalation, Rule, RuleFiring
from salesloop.automation.triggers import TRIGGERS, Candidate, Sweep
from salesloop.automation.workcalendar import WorkCalendar
from salesloop.notifications.models import NotificationKind
from salesloop.notifications.services import Draft, notifications_create
from salesloop.org.models import User

CHUNK = 1000
log = logging.getLogger(__name__)

_DETAIL_URL = {
    "customers.contact": "contact_detail",
    "customers.account": "account_detail",
    "customers.lead": "lead_detail",
    "sales.contract": "contract_detail",
    "sales.invoice": "invoice_detail",
    "pipeline.opportunity": "opportunity_detail",
    "activities.activity": "activity_detail",
}


def detail_url(url_name: str, pk: int | None) -> str:
    if pk is None:
        return ""
    try:
        return reverse(url_name, args=[pk])
    except NoReverseMatch:
        return ""


@dataclass
class People:
    """Active people's language, name and role, loaded once per sweep (one query)."""

    language: dict[int, str] = field(default_factory=dict)
    name: dict[int, str] = field(default_factory=dict)
    by_role: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> People:
        people = cls()
        rows = User.objects.filter(is_active=True).values_list(
            "pk", "language", "display_name", "username", "role"
        )
        for pk, language, display, username, role in rows:
            people.language[pk] = language or settings.LANGUAGE_CODE
            people.name[pk] = display or username
            people.by_role.setdefault(role, []).append(pk)
        return people

    def lang(self, user_id: int) -> str:
        return self.language.get(user_id, settings.LANGUAGE_CODE)


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_title(rule: Rule, language: str, context: dict) -> str:
    """The rule's task title in ``language`` (English template for ``en`` when there is one)."""
    template = rule.task_title_en if language == "en" and rule.task_title_en else rule.task_title
    try:
        return string.Formatter().vformat(template, (), _KeepMissing(context))[:200]
    except (ValueError, IndexError):  # a template saved before validation existed: show it as is
        return template[:200]


def _when(moment: dt.datetime, tz) -> str:
    return formats.date_format(moment.astimezone(tz), "SHORT_DATETIME_FORMAT")


# Phase 1: tasks whose goal was met ------------------------------------------------------------


def close_met_goals(rule: Rule, now: dt.datetime) -> int:
    """Mark done the open tasks of ``rule`` whose goal later work already met (one UPDATE)."""
    condition = TRIGGERS[rule.trigger].goal_met(rule)
    if condition is None:
        return 0
    task_ids = (
        RuleFiring.objects.filter(rule_id=rule.pk, task__status=TaskStatus.OPEN)
        .filter(condition)
        .values("task_id")
    )
    return Task.objects.filter(pk__in=task_ids, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, completed_at=now, version=F("version") + 1, updated_at=now
    )


# Phase 2: fire ---------------------------------------------------------------------------------


def _assignee(rule: Rule, owner_id: int, ladder: Ladder) -> int:
    if rule.assign_to == AssignTo.OWNER_LEAD:
        return ladder.one_up(owner_id) or owner_id
    return owner_id


def _fire_chunk(
    rule: Rule, candidates: Sequence[Candidate], sweep: Sweep, ladder: Ladder, people: People
) -> dict:
    claim = uuid.uuid4().hex
    tz = sweep.calendar.tz
    with transaction.atomic():
        tasks: dict[tuple[int, str], Task] = {}
        due: dict[tuple[int, str], dt.datetime] = {}
        for cand in candidates:
            key = (cand.object_id, cand.slot)
            due[key] = sweep.calendar.add(cand.event_at, rule.due_amount, rule.due_unit)
            if rule.create_task:
                assignee = _assignee(rule, cand.owner_id, ladder)
                tasks[key] = Task(
                    title=render_title(rule, people.lang(assignee), cand.context),
                    kind=rule.task_kind,
                    due_at=due[key],
                    assignee_id=assignee,
                    source=f"rule:{rule.code}"[:60],
                    account_id=cand.account_id,
                    opportunity_id=cand.opportunity_id,
                    lead_id=cand.lead_id,
                )
        if tasks:
            Task.objects.bulk_create(list(tasks.values()), batch_size=CHUNK)
        RuleFiring.objects.bulk_create(
            [
                RuleFiring(
                    rule_id=rule.pk,
                    target=cand.target,
                    object_id=cand.object_id,
                    slot=cand.slot,
                    task_id=tasks[(cand.object_id, cand.slot)].pk if tasks else None,
                    assignee_id=tasks[(cand.object_id, cand.slot)].assignee_id
                    if tasks
                    else cand.owner_id,
                    fired_at=sweep.now,
                    claim=claim,
                )
                for cand in candidates
            ],
            ignore_conflicts=True,
            batch_size=CHUNK,
        )
        won = {
            (object_id, slot): pk
            for pk, object_id, slot in RuleFiring.objects.filter(claim=claim).values_list(
                "pk", "object_id", "slot"
            )
        }
        lost = [t.pk for key, t in tasks.items() if key not in won]
        if lost:  # another scheduler fired these first: ours must not survive
            Task.objects.filter(pk__in=lost).delete()
        drafts: list[Draft] = []
        by_key = {(c.object_id, c.slot): c for c in candidates}
        for key, firing_id in won.items():
            cand = by_key[key]
            task = tasks.get(key)
            url = (
                detail_url("task_detail", task.pk)
                if task
                else detail_url(_DETAIL_URL.get(cand.target, ""), cand.object_id)
            )
            owner_kind = (
                NotificationKind.REMINDER
                if not rule.create_task or rule.task_kind == TaskKind.REMINDER
                else NotificationKind.TASK
            )
            recipients: dict[int, str] = {}
            if rule.notify_assignee:
                recipients[task.assignee_id if task else cand.owner_id] = owner_kind
            if rule.notify_lead:
                lead = ladder.one_up(cand.owner_id)
                if lead is not None:
                    recipients.setdefault(lead, NotificationKind.REMINDER)
            if rule.notify_role:
                for person in people.by_role.get(rule.notify_role, []):
                    recipients.setdefault(person, NotificationKind.ESCALATION)
            for person, kind in recipients.items():
                with translation.override(people.lang(person)):
                    title = render_title(rule, people.lang(person), cand.context)
                    if task is not None and person == task.assignee_id:
                        body = _("Due %(due)s.") % {"due": _when(due[key], tz)}
                    else:
                        body = _("For %(owner)s, due %(due)s.") % {
                            "owner": people.name.get(cand.owner_id, ""),
                            "due": _when(due[key], tz),
                        }
                drafts.append(
                    Draft(
                        recipient_id=person,
                        kind=kind,
                        title=title,
                        body=body,
                        url=url,
                        dedupe_key=f"rule:{firing_id}:{person}",
                    )
                )
        created = notifications_create(drafts=drafts, now=sweep.now)
    return {
        "fired": len(won),
        "tasks": len(tasks) - len(lost),
        "notifications": len(created),
        "lost": len(lost),
    }


def fire_rule(rule: Rule, sweep: Sweep, ladder: Ladder, people: People) -> dict:
    """Act on every candidate of ``rule`` not acted on before for its slot."""
    totals = {"fired": 0, "tasks": 0, "notifications": 0, "lost": 0}
    # Materialised first: SQLite must not write to the ledger while a read of it is still open.
    candidates = list(TRIGGERS[rule.trigger].candidates(rule, sweep))
    for start in range(0, len(candidates), CHUNK):
        stats = _fire_chunk(rule, candidates[start : start + CHUNK], sweep, ladder, people)
        for key in totals:
            totals[key] += stats[key]
    return totals


# Phase 3: escalate ------------------------------------------------------------------------------


def escalate_breaches(rules: Iterable[Rule], sweep: Sweep, ladder: Ladder, people: People) -> int:
    """Escalate open rule tasks ``escalate_after_hours`` working hours past due, one level up."""
    escalated = 0
    tz = sweep.calendar.tz
    for rule in rules:
        if rule.escalate_after_hours is None:
            continue
        threshold = sweep.calendar.add_working_hours(sweep.now, -rule.escalate_after_hours)
        rows = list(
            RuleFiring.objects.filter(
                rule_id=rule.pk, task__status=TaskStatus.OPEN, task__due_at__lte=threshold
            )
            .filter(~Exists(Escalation.objects.filter(task_id=OuterRef("task_id"), level=1)))
            .values_list("task_id", "task__title", "task__due_at", "task__assignee_id")
        )
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            claim = uuid.uuid4().hex
            with transaction.atomic():
                Escalation.objects.bulk_create(
                    [
                        Escalation(
                            task_id=task_id,
                            rule_id=rule.pk,
                            level=1,
                            escalated_to_id=ladder.one_up(assignee_id),
                            at=sweep.now,
                            claim=claim,
                        )
                        for task_id, _title, _due, assignee_id in chunk
                    ],
                    ignore_conflicts=True,
                    batch_size=CHUNK,
                )
                won = set(Escalation.objects.filter(claim=claim).values_list("task_id", flat=True))
                drafts: list[Draft] = []
                for task_id, title, due_at, assignee_id in chunk:
                    if task_id not in won:
                        continue
                    boss = ladder.one_up(assignee_id)
                    url = detail_url("task_detail", task_id)
                    if boss is not None:
                        with translation.override(people.lang(boss)):
                            drafts.append(
                                Draft(
                                    recipient_id=boss,
                                    kind=NotificationKind.ESCALATION,
                                    title=_("Deadline missed: %(title)s") % {"title": title},
                                    body=_("%(person)s's task was due %(due)s and is still open.")
                                    % {
                                        "person": people.name.get(assignee_id, ""),
                                        "due": _when(due_at, tz),
                                    },
                                    url=url,
                                    dedupe_key=f"esc:{task_id}:1:{boss}",
                                )
                            )
                    with translation.override(people.lang(assignee_id)):
                        drafts.append(
                            Draft(
                                recipient_id=assignee_id,
                                kind=NotificationKind.ESCALATION,
                                title=_("Deadline missed: %(title)s") % {"title": title},
                                body=(
                                    _("It was due %(due)s and has been escalated to %(boss)s.")
                                    % {"due": _when(due_at, tz), "boss": people.name.get(boss, "")}
                                    if boss is not None
                                    else _("It was due %(due)s.") % {"due": _when(due_at, tz)}
                                ),
                                url=url,
                                dedupe_key=f"esc:{task_id}:1:{assignee_id}",
                            )
                        )
                notifications_create(drafts=drafts, now=sweep.now)
                escalated += len(won)
    return escalated


# The sweep ----------------------------------------------------------------------------------------


def rules_sweep(*, now: dt.datetime | None = None) -> dict:
    """Run every active rule once: close met goals, fire, escalate. Safe to run concurrently."""
    now = now or timezone.now()
    sweep = Sweep(now=now, calendar=WorkCalendar.load())
    ladder = Ladder.load()
    people = People.load()
    rules = list(Rule.objects.filter(is_active=True).order_by("pk"))
    result: dict = {
        "closed": 0,
        "fired": 0,
        "tasks": 0,
        "notifications": 0,
        "lost": 0,
        "escalated": 0,
        "rules": {},
        "seconds": {},
    }
    started = time.perf_counter()
    for rule in rules:
        result["closed"] += close_met_goals(rule, now)
    result["seconds"]["close_met_goals"] = round(time.perf_counter() - started, 3)
    failed: list[str] = []
    for rule in rules:
        started = time.perf_counter()
        try:
            stats = fire_rule(rule, sweep, ladder, people)
        except Exception:  # one broken rule must not stop the others; the run still fails below
            log.exception("Rule %s failed", rule.code)
            failed.append(f"{rule.code}:\n{traceback.format_exc()}")
            continue
        result["rules"][rule.code] = stats["fired"]
        result["seconds"][rule.code] = round(time.perf_counter() - started, 3)
        for key in ("fired", "tasks", "notifications", "lost"):
            result[key] += stats[key]
    started = time.perf_counter()
    result["escalated"] = escalate_breaches(rules, sweep, ladder, people)
    result["seconds"]["escalate"] = round(time.perf_counter() - started, 3)
    if failed:
        raise RuleFailed(result, failed)
    return result


class RuleFailed(Exception):
    """Some rules raised, the others ran; the job run records each traceback and is retried."""

    def __init__(self, result: dict, failures: list[str]) -> None:
        self.result = result
        super().__init__(
            f"{len(failures)} rule(s) failed, the others ran ({result}):\n" + "\n".join(failures)
        )
