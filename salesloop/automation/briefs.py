"""The morning brief and the evening report (seed 000 §二.1 晨会/晚会, seed 001 销售团队日常管理).

Morning (08:30 on working days by default): every rep and lead gets today's tasks and due
follow-ups, deadline breaches (their own, and their team's for leads), deals to push (expected
to close soon) and the previous working day's numbers. Evening: the report form is pre-filled
from the day's logged activities and asks for tomorrow's plan and blockers; a reminder goes to
whoever has not submitted at 17:30 and leads get who has and has not at 20:00.

Everything is computed for all people at once with grouped queries (a fixed number per run,
whatever the team size); money is summed per currency and shown as decimal strings.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesloop.activities.models import Activity, ActivityKind, Task, TaskStatus
from salesloop.automation.models import AutomationSettings, Brief, EveningReport
from salesloop.automation.workcalendar import WorkCalendar
from salesloop.core.errors import FieldErrors
from salesloop.customers.models import Lead
from salesloop.notifications.models import NotificationKind
from salesloop.notifications.services import Draft, notifications_create
from salesloop.org.models import LEADING_ROLES, Role, User
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Payment

BRIEF_ROLES = (Role.REP, Role.GROUP_LEAD, Role.MANAGER, Role.DIRECTOR)
TOP = 10

#: The evening report's numbers, in form order: key → label.
EVENING_NUMBERS = {
    "visits": gettext_lazy("Visits"),
    "calls": gettext_lazy("Calls"),
    "meetings": gettext_lazy("Meetings and demos"),
    "activities": gettext_lazy("All logged activities"),
    "new_leads": gettext_lazy("New leads"),
    "new_opportunities": gettext_lazy("New deals"),
    "deals_won": gettext_lazy("Deals won"),
    "won_amount": gettext_lazy("Amount won"),
    "collected": gettext_lazy("Collected"),
}


def _day_bounds(cal: WorkCalendar, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = cal.at(day, dt.time(0, 0))
    return start, cal.at(day + dt.timedelta(days=1), dt.time(0, 0))


def _money(amounts: dict[str, Decimal]) -> str:
    return (
        ", ".join(
            f"{amount:.2f} {currency}" for currency, amount in sorted(amounts.items()) if amount
        )
        or "0"
    )


def _sales_people() -> list[dict[str, Any]]:
    return list(
        User.objects.filter(is_active=True, role__in=BRIEF_ROLES).values(
            "pk", "role", "team_id", "team__path", "language", "display_name", "username"
        )
    )


def _subtree_members(people: list[dict[str, Any]]) -> dict[int, list[int]]:
    """For each leader, the people in their team's subtree (themselves included)."""
    members: dict[int, list[int]] = {}
    for leader in people:
        if leader["role"] not in LEADING_ROLES or not leader["team__path"]:
            continue
        prefix = leader["team__path"]
        members[leader["pk"]] = [
            p["pk"] for p in people if (p["team__path"] or "").startswith(prefix)
        ]
    return members


def day_numbers(user_ids: list[int], day: dt.date, cal: WorkCalendar) -> dict[int, dict[str, Any]]:
    """Logged numbers of ``day`` per person: activities by kind, leads, deals, wins, collections."""
    start, end = _day_bounds(cal, day)
    numbers: dict[int, dict[str, Any]] = {
        pk: {key: 0 for key in EVENING_NUMBERS} | {"won_amount": {}, "collected": {}}
        for pk in user_ids
    }
    activities = (
        Activity.objects.filter(owner_id__in=user_ids, occurred_at__gte=start, occurred_at__lt=end)
        .values("owner_id", "kind")
        .annotate(n=Count("pk"))
    )
    for row in activities:
        target = numbers[row["owner_id"]]
        target["activities"] += row["n"]
        if row["kind"] == ActivityKind.VISIT:
            target["visits"] += row["n"]
        elif row["kind"] == ActivityKind.CALL:
            target["calls"] += row["n"]
        elif row["kind"] in (ActivityKind.MEETING, ActivityKind.DEMO):
            target["meetings"] += row["n"]
    for row in (
        Lead.objects.filter(owner_id__in=user_ids, created_at__gte=start, created_at__lt=end)
        .values("owner_id")
        .annotate(n=Count("pk"))
    ):
        numbers[row["owner_id"]]["new_leads"] = row["n"]
    for row in (
        Opportunity.objects.filter(owner_id__in=user_ids, created_at__gte=start, created_at__lt=end)
        .values("owner_id")
        .annotate(n=Count("pk"))
    ):
        numbers[row["owner_id"]]["new_opportunities"] = row["n"]
    for row in (
        Opportunity.objects.filter(
            owner_id__in=user_ids, stage__is_won=True, closed_at__gte=start, closed_at__lt=end
        )
        .values("owner_id", "currency")
        .annotate(n=Count("pk"), amount=Sum("amount"))
    ):
        target = numbers[row["owner_id"]]
        target["deals_won"] += row["n"]
        target["won_amount"][row["currency"]] = row["amount"] or Decimal(0)
    for row in (
        Payment.objects.filter(account__owner_id__in=user_ids, paid_at__gte=start, paid_at__lt=end)
        .values("account__owner_id", "currency")
        .annotate(amount=Sum("amount"))
    ):
        numbers[row["account__owner_id"]]["collected"][row["currency"]] = row["amount"] or Decimal(
            0
        )
    return numbers


def _plain_numbers(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy: money as ``{"CNY": "1200.00"}``."""
    out = dict(values)
    for key in ("won_amount", "collected"):
        out[key] = {currency: f"{amount:.2f}" for currency, amount in values.get(key, {}).items()}
    return out


def _sum_numbers(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {key: 0 for key in EVENING_NUMBERS} | {
        "won_amount": {},
        "collected": {},
    }
    for row in rows:
        for key in EVENING_NUMBERS:
            if key in ("won_amount", "collected"):
                for currency, amount in row[key].items():
                    total[key][currency] = total[key].get(currency, Decimal(0)) + amount
            else:
                total[key] += row[key]
    return total


# Morning brief ----------------------------------------------------------------------------------


def brief_contents(
    *, day: dt.date, now: dt.datetime, cal: WorkCalendar
) -> dict[int, dict[str, Any]]:
    """The brief of every rep and lead for ``day`` (a fixed number of queries)."""
    conf = AutomationSettings.current()
    people = _sales_people()
    ids = [p["pk"] for p in people]
    start, end = _day_bounds(cal, day)
    previous = cal.previous_working_day(day, include=False)
    members = _subtree_members(people)

    today_tasks: dict[int, list[dict]] = defaultdict(list)
    today_count: dict[int, int] = defaultdict(int)
    for row in (
        Task.objects.filter(
            assignee_id__in=ids, status=TaskStatus.OPEN, due_at__gte=start, due_at__lt=end
        )
        .order_by("assignee_id", "due_at", "pk")
        .values("pk", "assignee_id", "title", "kind", "due_at", "account__name")
    ):
        today_count[row["assignee_id"]] += 1
        if len(today_tasks[row["assignee_id"]]) < TOP:
            today_tasks[row["assignee_id"]].append(
                {
                    "id": row["pk"],
                    "title": row["title"],
                    "kind": row["kind"],
                    "due_at": row["due_at"].isoformat(),
                    "account": row["account__name"] or "",
                }
            )
    overdue = dict(
        Task.objects.filter(assignee_id__in=ids, status=TaskStatus.OPEN, due_at__lt=start)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    breaches: dict[int, list[dict]] = defaultdict(list)
    breach_count: dict[int, int] = defaultdict(int)
    for row in (
        Task.objects.filter(
            assignee_id__in=ids, status=TaskStatus.OPEN, due_at__lt=now, source__startswith="rule:"
        )
        .order_by("due_at", "pk")
        .values("pk", "assignee_id", "title", "due_at")
    ):
        breach_count[row["assignee_id"]] += 1
        if len(breaches[row["assignee_id"]]) < TOP:
            breaches[row["assignee_id"]].append(
                {
                    "id": row["pk"],
                    "title": row["title"],
                    "due_at": row["due_at"].isoformat(),
                    "assignee_id": row["assignee_id"],
                }
            )
    deals: dict[int, list[dict]] = defaultdict(list)
    deal_count: dict[int, int] = defaultdict(int)
    for row in (
        Opportunity.objects.filter(
            owner_id__in=ids,
            closed_at__isnull=True,
            stage__is_won=False,
            stage__is_lost=False,
            expected_close_date__gte=day,
            expected_close_date__lte=day + dt.timedelta(days=conf.deals_to_push_days),
        )
        .order_by("-amount", "pk")
        .values(
            "pk",
            "owner_id",
            "name",
            "amount",
            "currency",
            "expected_close_date",
            "stage__name",
            "account__name",
        )
    ):
        deal_count[row["owner_id"]] += 1
        if len(deals[row["owner_id"]]) < TOP:
            deals[row["owner_id"]].append(
                {
                    "id": row["pk"],
                    "name": row["name"],
                    "account": row["account__name"],
                    "amount": f"{row['amount']:.2f}",
                    "currency": row["currency"],
                    "expected_close_date": row["expected_close_date"].isoformat(),
                    "stage": row["stage__name"],
                }
            )
    yesterday = day_numbers(ids, previous, cal)
    names = {p["pk"]: p["display_name"] or p["username"] for p in people}

    contents: dict[int, dict[str, Any]] = {}
    for person in people:
        pk = person["pk"]
        content: dict[str, Any] = {
            "date": day.isoformat(),
            "previous_day": previous.isoformat(),
            "tasks_today": today_tasks.get(pk, []),
            "tasks_today_count": today_count.get(pk, 0),
            "overdue_count": overdue.get(pk, 0),
            "breaches": breaches.get(pk, []),
            "breach_count": breach_count.get(pk, 0),
            "deals_to_push": deals.get(pk, []),
            "deals_to_push_count": deal_count.get(pk, 0),
            "previous_numbers": _plain_numbers(yesterday[pk]),
        }
        if pk in members:
            team = [m for m in members[pk] if m != pk]
            team_breaches = sorted(
                (
                    b | {"assignee": names.get(b["assignee_id"], "")}
                    for m in team
                    for b in breaches.get(m, [])
                ),
                key=lambda b: b["due_at"],
            )
            content["team"] = {
                "size": len(team),
                "breach_count": sum(breach_count.get(m, 0) for m in team),
                "breaches": team_breaches[:TOP],
                "overdue_count": sum(overdue.get(m, 0) for m in team),
                "previous_numbers": _plain_numbers(
                    _sum_numbers([yesterday[m] for m in members[pk]])
                ),
            }
        contents[pk] = content
    return contents


def brief_summary(content: dict[str, Any]) -> str:
    """The brief in a few lines of text, for e-mail and chat (in the active language)."""
    prev = content["previous_numbers"]
    lines = [
        _("Today: %(tasks)s tasks due, %(overdue)s overdue, %(breaches)s missed deadlines.")
        % {
            "tasks": content["tasks_today_count"],
            "overdue": content["overdue_count"],
            "breaches": content["breach_count"],
        },
        _("Deals to push: %(count)s.") % {"count": content["deals_to_push_count"]},
        _(
            "%(day)s: %(visits)s visits, %(calls)s calls, %(won)s deals won (%(amount)s), "
            "collected %(collected)s."
        )
        % {
            "day": content["previous_day"],
            "visits": prev["visits"],
            "calls": prev["calls"],
            "won": prev["deals_won"],
            "amount": _money({k: Decimal(v) for k, v in prev["won_amount"].items()}),
            "collected": _money({k: Decimal(v) for k, v in prev["collected"].items()}),
        },
    ]
    for task in content["tasks_today"][:5]:
        lines.append(f"• {task['title']}")
    if "team" in content:
        team = content["team"]
        lines.append(
            _("Team: %(breaches)s missed deadlines, %(overdue)s overdue tasks.")
            % {"breaches": team["breach_count"], "overdue": team["overdue_count"]}
        )
    return "\n".join(lines)


def morning_briefs_send(
    *, day: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Store and announce today's briefs; a second run the same day does nothing."""
    now = now or timezone.now()
    cal = WorkCalendar.load()
    day = day or cal.today(now)
    contents = brief_contents(day=day, now=now, cal=cal)
    claim = uuid.uuid4().hex
    languages = dict(User.objects.filter(pk__in=list(contents)).values_list("pk", "language"))
    with transaction.atomic():
        Brief.objects.bulk_create(
            [
                Brief(user_id=pk, date=day, content=content, created_at=now, claim=claim)
                for pk, content in contents.items()
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        created = list(Brief.objects.filter(claim=claim).values_list("user_id", flat=True))
        drafts = []
        url = reverse("automation:brief_day", args=[day.isoformat()])
        for pk in created:
            with translation.override(languages.get(pk) or settings.LANGUAGE_CODE):
                drafts.append(
                    Draft(
                        recipient_id=pk,
                        kind=NotificationKind.BRIEF,
                        title=_("Morning brief for %(date)s") % {"date": day.isoformat()},
                        body=brief_summary(contents[pk]),
                        url=url,
                        dedupe_key=f"brief:{pk}:{day.isoformat()}",
                    )
                )
        notifications_create(drafts=drafts, now=now)
    return {"briefs": len(created)}


# Evening report ----------------------------------------------------------------------------------


def evening_report_draft(*, user: User, day: dt.date) -> dict[str, Any]:
    """The form's initial values: the submitted report, else today's logged numbers."""
    cal = WorkCalendar.load()
    logged = _plain_numbers(day_numbers([user.pk], day, cal)[user.pk])
    report = EveningReport.objects.filter(user=user, date=day).first()
    if report is not None:
        return {
            "date": day.isoformat(),
            "submitted": True,
            "version": report.version,
            "numbers": report.numbers,
            "logged": logged,
            "results_note": report.results_note,
            "tomorrow_plan": report.tomorrow_plan,
            "blockers": report.blockers,
            "submitted_at": report.submitted_at.isoformat(),
        }
    return {
        "date": day.isoformat(),
        "submitted": False,
        "version": None,
        "numbers": logged,
        "logged": logged,
        "results_note": "",
        "tomorrow_plan": "",
        "blockers": "",
        "submitted_at": None,
    }


#: A report may be filed for today or, late, for the previous days within this window.
LATE_DAYS = 7


def _clean_numbers(numbers: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, value in (numbers or {}).items():
        if key not in EVENING_NUMBERS:
            errors[f"numbers.{key}"] = [_("Unknown number.")]
            continue
        if key in ("won_amount", "collected"):
            if not isinstance(value, dict):
                errors[f"numbers.{key}"] = [
                    _('Give amounts per currency, e.g. {"CNY": "1200.00"}.')
                ]
                continue
            money: dict[str, str] = {}
            for currency, amount in value.items():
                try:
                    parsed = Decimal(str(amount))
                except ArithmeticError:
                    errors[f"numbers.{key}.{currency}"] = [_("Not an amount.")]
                    continue
                if not parsed.is_finite() or parsed < 0 or len(str(currency)) != 3:
                    errors[f"numbers.{key}.{currency}"] = [
                        _("Give a non-negative amount and a 3-letter currency.")
                    ]
                    continue
                money[str(currency).upper()] = f"{parsed:.2f}"
            clean[key] = money
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 100000:
            errors[f"numbers.{key}"] = [_("Give a whole number from 0 to 100000.")]
            continue
        clean[key] = value
    if errors:
        raise FieldErrors(errors)
    return clean


@transaction.atomic
def evening_report_submit(
    *,
    user: User,
    day: dt.date,
    data: dict[str, Any],
    version: int | None = None,
    now: dt.datetime | None = None,
) -> EveningReport:
    """File (or correct, quoting the version read) one's own report for ``day``."""
    from salesloop.core.errors import Conflict

    now = now or timezone.now()
    cal = WorkCalendar.load()
    today = cal.today(now)
    errors: dict[str, list[str]] = {}
    if user.role not in BRIEF_ROLES:
        errors["__all__"] = [_("Evening reports are for the sales team.")]
    if day > today:
        errors["date"] = [_("A report cannot be filed for a future day.")]
    elif (today - day).days > LATE_DAYS:
        errors["date"] = [
            _("Reports older than %(days)s days cannot be filed any more.") % {"days": LATE_DAYS}
        ]
    plan = (data.get("tomorrow_plan") or "").strip()
    if not plan:
        errors["tomorrow_plan"] = [_("Say what you plan for tomorrow.")]
    if errors:
        raise FieldErrors(errors)
    numbers = _clean_numbers(data.get("numbers") or {})
    logged = _plain_numbers(day_numbers([user.pk], day, cal)[user.pk])
    fields = {
        "numbers": {**logged, **numbers},
        "logged": logged,
        "results_note": (data.get("results_note") or "").strip(),
        "tomorrow_plan": plan,
        "blockers": (data.get("blockers") or "").strip(),
        "submitted_at": now,
    }
    report = EveningReport.objects.select_for_update().filter(user=user, date=day).first()
    if report is None:
        return EveningReport.objects.create(user=user, date=day, **fields)
    if version is None:
        raise FieldErrors({"version": [_("The version you edited is required.")]})
    if version != report.version:
        raise Conflict(report)
    for key, value in fields.items():
        setattr(report, key, value)
    report.version += 1
    report.save()
    return report


def evening_status(*, viewer: User, day: dt.date) -> list[dict[str, Any]]:
    """Who in the viewer's reach has and has not filed a report for ``day`` (leads: subtree)."""
    from salesloop.org import access

    visible = access.restrict(EveningReport.objects.all(), viewer, "read")
    scope = access.scope_for(viewer, EveningReport)
    people = User.objects.filter(is_active=True, role__in=BRIEF_ROLES)
    if scope == access.Scope.OWN:
        people = people.filter(pk=viewer.pk)
    elif scope == access.Scope.SUBTREE:
        people = people.filter(pk__in=access.subtree_user_ids(viewer))
    elif scope == access.Scope.NONE:
        return []
    reports = {r.user_id: r for r in visible.filter(date=day, user__in=people)}
    rows = []
    for person in people.select_related("team").order_by("team__path", "username"):
        report = reports.get(person.pk)
        rows.append({"user": person, "report": report, "submitted": report is not None})
    return rows


def evening_reminders_send(
    *, day: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Remind every rep and lead who has not filed today's report yet (once per day)."""
    now = now or timezone.now()
    cal = WorkCalendar.load()
    day = day or cal.today(now)
    filed = set(EveningReport.objects.filter(date=day).values_list("user_id", flat=True))
    url = reverse("automation:evening")
    drafts = []
    for person in _sales_people():
        if person["pk"] in filed:
            continue
        with translation.override(person["language"] or settings.LANGUAGE_CODE):
            drafts.append(
                Draft(
                    recipient_id=person["pk"],
                    kind=NotificationKind.REPORT,
                    title=_("Your evening report for %(date)s") % {"date": day.isoformat()},
                    body=_(
                        "Today's numbers are filled in from your activities; "
                        "add tomorrow's plan and blockers."
                    ),
                    url=url,
                    dedupe_key=f"evening-remind:{person['pk']}:{day.isoformat()}",
                )
            )
    created = notifications_create(drafts=drafts, now=now)
    return {"reminded": len(created)}


def evening_digests_send(
    *, day: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Tell each lead who in their team has and has not filed today's report."""
    now = now or timezone.now()
    cal = WorkCalendar.load()
    day = day or cal.today(now)
    people = _sales_people()
    names = {p["pk"]: p["display_name"] or p["username"] for p in people}
    filed = set(EveningReport.objects.filter(date=day).values_list("user_id", flat=True))
    url = reverse("automation:evening_team") + f"?date={day.isoformat()}"
    languages = {p["pk"]: p["language"] for p in people}
    drafts = []
    for leader, members in _subtree_members(people).items():
        team = [m for m in members if m != leader]
        if not team:
            continue
        missing = [names[m] for m in team if m not in filed]
        with translation.override(languages.get(leader) or settings.LANGUAGE_CODE):
            body = _("%(done)s of %(total)s filed.") % {
                "done": len(team) - len(missing),
                "total": len(team),
            }
            if missing:
                body += " " + _("Not yet: %(names)s.") % {"names": ", ".join(missing)}
            drafts.append(
                Draft(
                    recipient_id=leader,
                    kind=NotificationKind.REPORT,
                    title=_("Evening reports for %(date)s") % {"date": day.isoformat()},
                    body=body,
                    url=url,
                    dedupe_key=f"evening-digest:{leader}:{day.isoformat()}",
                )
            )
    created = notifications_create(drafts=drafts, now=now)
    return {"digests": len(created)}
