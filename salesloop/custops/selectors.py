"""Reads of customer operations. Every queryset starts from ``org.access.restrict``.

* :func:`segment_distribution` / :func:`segment_movements` — the manager's segment charts;
* :func:`with_cadence` / :func:`coverage_report` — who is overdue for contact per cadence;
* :func:`call_list` — the rep's "call this week" list with reasons;
* :func:`at_risk_list` — churn-flagged customers by value at risk;
* :func:`sla_compliance` — SOP rule tasks done on time vs breached, per rep, team and rule;
* :func:`sop_guidance_for` — what to bring to this customer at this stage.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.activities.models import Activity, Task, TaskStatus
from salesloop.customers.models import Account, Contact
from salesloop.custops.models import (
    AccountChurn,
    AccountPlan,
    AccountRfm,
    Cadence,
    CustomerOpsPolicy,
    GridSegment,
    PlanStatus,
    RuleSegment,
    ScoringRun,
    SegmentChange,
    SegmentScheme,
    SopGuidance,
)
from salesloop.org import access
from salesloop.org.models import Team, User


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def latest_run() -> ScoringRun | None:
    return (
        ScoringRun.objects.filter(finished_at__isnull=False).order_by("-created_at", "-id").first()
    )


# Segments --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRow:
    code: str
    label: str
    value_rank: int
    accounts: int
    monetary: Decimal


def segment_labels(scheme: str) -> dict[str, tuple[str, int]]:
    rows = RuleSegment.objects.all() if scheme == SegmentScheme.RULE else GridSegment.objects.all()
    labels = {r.code: (r.label, r.value_rank) for r in rows}
    if scheme == SegmentScheme.GRID:
        labels.setdefault("", (_("No purchase yet"), -1))
    return labels


def segment_distribution(*, user: User, scheme: str = SegmentScheme.RULE) -> list[SegmentRow]:
    """Accounts and their window revenue per segment, most valuable segment first."""
    column = "rule_segment" if scheme == SegmentScheme.RULE else "grid_segment"
    rows = (
        access.restrict(AccountRfm.objects.all(), user, "read")
        .values(column)
        .annotate(accounts=Count("pk"), monetary=Sum("monetary"))
        .order_by()
    )
    labels = segment_labels(scheme)
    found = {r[column]: r for r in rows}
    out = []
    for code, (label, rank) in labels.items():
        row = found.pop(code, None)
        out.append(
            SegmentRow(
                code,
                label,
                rank,
                row["accounts"] if row else 0,
                (row or {}).get("monetary") or Decimal(0),
            )
        )
    for code, row in found.items():  # a code whose definition was since deleted
        out.append(SegmentRow(code, code, -2, row["accounts"], row["monetary"] or Decimal(0)))
    return sorted(out, key=lambda r: -r.value_rank)


@dataclass
class Movements:
    scheme: str
    start: dt.date
    end: dt.date
    up: int = 0
    down: int = 0
    sideways: int = 0
    #: (from code, to code) → number of accounts
    flows: dict[tuple[str, str], int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


def month_bounds(month: str | None) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` → first day and first day of the next month (default: this month)."""
    if month:
        year, mon = (int(p) for p in month.split("-"))
        start = dt.date(year, mon, 1)
    else:
        today = timezone.localdate()
        start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def segment_changes(*, user: User, scheme: str, start: dt.date, end: dt.date) -> QuerySet:
    """Moves (not first classifications) in ``[start, end)`` of accounts the user may read."""
    return (
        access.restrict(SegmentChange.objects.all(), user, "read")
        .filter(scheme=scheme, changed_on__gte=start, changed_on__lt=end)
        .exclude(from_code="")
    )


def segment_movements(*, user: User, scheme: str, start: dt.date, end: dt.date) -> Movements:
    moves = Movements(scheme=scheme, start=start, end=end)
    rows = (
        segment_changes(user=user, scheme=scheme, start=start, end=end)
        .values("from_code", "to_code", "direction")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        moves.flows[(row["from_code"], row["to_code"])] = (
            moves.flows.get((row["from_code"], row["to_code"]), 0) + row["n"]
        )
        if row["direction"] > 0:
            moves.up += row["n"]
        elif row["direction"] < 0:
            moves.down += row["n"]
        else:
            moves.sideways += row["n"]
    moves.labels = {code: label for code, (label, _rank) in segment_labels(scheme).items()}
    return moves


# Cadence and coverage ----------------------------------------------------------------------------


def with_cadence(
    accounts: QuerySet, *, now: dt.datetime | None = None, contact_kinds: list[str] | None = None
):
    """Annotate accounts with ``cadence_days`` (the shorter of their segment's and their tier's
    interval; NULL when neither has one) and ``last_contact_at`` (latest contact activity)."""
    now = now or timezone.now()
    if contact_kinds is None:
        contact_kinds = CustomerOpsPolicy.current().contact_kinds
    segment_days = Subquery(
        Cadence.objects.filter(
            is_active=True, segment__is_active=True, segment__code=OuterRef("rfm__rule_segment")
        )
        .order_by("interval_days")
        .values("interval_days")[:1],
        output_field=IntegerField(),
    )
    tier_days = Subquery(
        Cadence.objects.filter(
            is_active=True, segment__isnull=True, key_account_tier=OuterRef("key_account_tier")
        )
        .exclude(key_account_tier="")
        .order_by("interval_days")
        .values("interval_days")[:1],
        output_field=IntegerField(),
    )
    last_contact = Subquery(
        Activity.objects.filter(
            account_id=OuterRef("pk"), kind__in=contact_kinds, occurred_at__lte=now
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1],
        output_field=DateTimeField(),
    )
    return accounts.annotate(
        cadence_days=Least(Coalesce(segment_days, tier_days), Coalesce(tier_days, segment_days)),
        last_contact_at=last_contact,
    ).filter(cadence_days__isnull=False)


def cadence_intervals() -> list[int]:
    return sorted(
        set(Cadence.objects.filter(is_active=True).values_list("interval_days", flat=True))
    )


def due_by(day: dt.date, intervals: list[int] | None = None) -> Q:
    """Accounts (annotated by :func:`with_cadence`) whose next contact is due on or before ``day``.

    Next contact = last contact (or, never contacted, the account's creation) + cadence days. One
    OR term per distinct interval keeps it a single indexed query at any number of accounts.
    """
    intervals = cadence_intervals() if intervals is None else intervals
    q = Q(pk__in=[])
    for days in intervals:
        cutoff = _start_of(day - dt.timedelta(days=days) + dt.timedelta(days=1))
        q |= Q(cadence_days=days) & (
            Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True, created_at__lt=cutoff)
        )
    return q


def next_contact_date(account: Any) -> dt.date:
    base = account.last_contact_at or account.created_at
    return timezone.localtime(base).date() + dt.timedelta(days=account.cadence_days)


@dataclass(frozen=True)
class CoverageRow:
    owner_id: int
    owner_name: str
    accounts: int
    overdue: int

    @property
    def coverage_pct(self) -> float:
        return 100.0 * (self.accounts - self.overdue) / self.accounts if self.accounts else 100.0


def coverage_report(*, user: User, today: dt.date | None = None) -> list[CoverageRow]:
    """Per owner: accounts with a cadence and how many are overdue for contact today."""
    today = today or timezone.localdate()
    accounts = with_cadence(access.restrict(Account.objects.all(), user, "read"))
    rows = (
        accounts.values("owner_id", "owner__display_name", "owner__username")
        .annotate(
            total=Count("pk"), overdue=Count("pk", filter=due_by(today - dt.timedelta(days=1)))
        )
        .order_by("-overdue", "owner__username")
    )
    return [
        CoverageRow(
            r["owner_id"],
            r["owner__display_name"] or r["owner__username"],
            r["total"],
            r["overdue"],
        )
        for r in rows
    ]


def overdue_accounts(
    *, user: User, owner_id: int | None = None, today: dt.date | None = None
) -> QuerySet:
    """Accounts overdue for contact (their next contact date is before today), oldest due first."""
    today = today or timezone.localdate()
    qs = access.restrict(Account.objects.select_related("owner", "rfm"), user, "read")
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    return (
        with_cadence(qs)
        .filter(due_by(today - dt.timedelta(days=1)))
        .order_by("last_contact_at", "pk")
    )


# The rep's call list ----------------------------------------------------------------------------


@dataclass
class CallItem:
    account: Account
    reasons: list[dict[str, Any]] = field(default_factory=list)
    priority: float = 0.0

    @property
    def monetary(self) -> Decimal:
        rfm = getattr(self.account, "rfm", None)
        return rfm.monetary if rfm else Decimal(0)


#: How much each reason weighs when ordering the list (a churn risk before a routine call).
REASON_WEIGHT = {"churn": 4, "plan_step": 3, "cadence": 2, "reorder": 2, "birthday": 1}


def call_list(*, user: User, owner: User, today: dt.date | None = None) -> list[CallItem]:
    """Whom ``owner`` should call in the next ``call_list_days`` days, and why.

    Reasons: the cadence says contact is due (or overdue); the churn model flagged the customer;
    the customer usually reorders about now (gap ≥ 90% of their own mean gap, still likely
    active); a key-account plan step falls due; a decision maker's birthday comes up. A list of
    the accounts ``user`` may read and ``owner`` owns, most reasons and most value first.
    """
    today = today or timezone.localdate()
    policy = CustomerOpsPolicy.current()
    horizon = today + dt.timedelta(days=policy.call_list_days - 1)
    book = access.restrict(Account.objects.all(), user, "read").filter(owner=owner)
    items: dict[int, CallItem] = {}

    def item(account: Account) -> CallItem:
        if account.pk not in items:
            items[account.pk] = CallItem(account)
        return items[account.pk]

    due = with_cadence(book.select_related("rfm"), contact_kinds=policy.contact_kinds).filter(
        due_by(horizon)
    )
    for account in due:
        when = next_contact_date(account)
        item(account).reasons.append(
            {
                "code": "cadence",
                "text": _("Contact due %(date)s (every %(days)s days)")
                % {"date": when.isoformat(), "days": account.cadence_days},
                "due": when.isoformat(),
                "overdue_days": max(0, (today - when).days),
            }
        )
    churned = AccountChurn.objects.filter(account__in=book, is_flagged=True).select_related(
        "account__rfm"
    )
    for churn in churned:
        if churn.flag_p_alive:
            text = _("Churn risk: P(active) %(p).0f%%, value at risk %(v)s") % {
                "p": 100 * (churn.p_alive or 0),
                "v": churn.value_at_risk,
            }
        else:
            text = _("No order for %(gap)s days, usually every %(usual).0f") % {
                "gap": churn.current_gap_days,
                "usual": churn.usual_gap_days or 0,
            }
        item(churn.account).reasons.append(
            {"code": "churn", "text": text, "value_at_risk": str(churn.value_at_risk)}
        )
    reorder = (
        AccountChurn.objects.filter(
            account__in=book, is_flagged=False, repeat_purchases__gt=0, usual_gap_days__gt=0
        )
        .filter(current_gap_days__gte=0.9 * F("usual_gap_days"))
        .select_related("account__rfm")
    )
    for churn in reorder:
        item(churn.account).reasons.append(
            {
                "code": "reorder",
                "text": _("Usually orders every %(usual).0f days; last order %(gap)s days ago")
                % {"usual": churn.usual_gap_days, "gap": churn.current_gap_days},
            }
        )
    plans = AccountPlan.objects.filter(account__in=book, status=PlanStatus.ACTIVE).select_related(
        "account__rfm"
    )
    for plan in plans:
        for step in plan.next_steps:
            if step.get("done"):
                continue
            due_date = dt.date.fromisoformat(step["due_date"])
            if due_date <= horizon:
                item(plan.account).reasons.append(
                    {
                        "code": "plan_step",
                        "text": _("Plan step due %(date)s: %(action)s")
                        % {"date": due_date.isoformat(), "action": step["action"]},
                        "due": due_date.isoformat(),
                    }
                )
    for contact in Contact.objects.filter(
        account__in=book, is_decision_maker=True, birthday__isnull=False
    ).select_related("account__rfm"):
        upcoming = _next_birthday(contact.birthday, today)
        if upcoming <= horizon:
            item(contact.account).reasons.append(
                {
                    "code": "birthday",
                    "text": _("%(name)s's birthday on %(date)s")
                    % {"name": contact.name, "date": upcoming.isoformat()},
                    "due": upcoming.isoformat(),
                }
            )
    for entry in items.values():
        entry.priority = sum(REASON_WEIGHT.get(r["code"], 1) for r in entry.reasons)
    return sorted(items.values(), key=lambda e: (-e.priority, -e.monetary, e.account.name))


def _next_birthday(birthday: dt.date, today: dt.date) -> dt.date:
    for year in (today.year, today.year + 1):
        try:
            day = birthday.replace(year=year)
        except ValueError:  # 29 February in a common year
            day = dt.date(year, 2, 28)
        if day >= today:
            return day
    return today


# At-risk list -------------------------------------------------------------------------------------


def at_risk_list(*, user: User, owner_id: int | None = None) -> QuerySet:
    """Churn-flagged customers the user may read, largest value at risk first."""
    qs = access.restrict(AccountChurn.objects.filter(is_flagged=True), user, "read").select_related(
        "account__owner", "account__rfm"
    )
    if owner_id is not None:
        qs = qs.filter(account__owner_id=owner_id)
    open_winback = Task.objects.filter(
        account_id=OuterRef("account_id"), status=TaskStatus.OPEN, source="rule:churn_winback"
    )
    return qs.annotate(winback_open=Exists(open_winback)).order_by("-value_at_risk", "account_id")


def at_risk_totals(qs: QuerySet) -> dict[str, Any]:
    totals = qs.aggregate(n=Count("pk"), value=Sum("value_at_risk"))
    return {"accounts": totals["n"], "value_at_risk": totals["value"] or Decimal("0.00")}


# SLA compliance -----------------------------------------------------------------------------------


@dataclass
class SlaRow:
    key: Any
    label: str
    on_time: int = 0
    late: int = 0
    overdue_open: int = 0
    escalated: int = 0

    @property
    def breaches(self) -> int:
        return self.late + self.overdue_open

    @property
    def compliance_pct(self) -> float | None:
        judged = self.on_time + self.breaches
        return round(100.0 * self.on_time / judged, 1) if judged else None


@dataclass
class SlaReport:
    start: dt.date
    end: dt.date
    by_rep: list[SlaRow]
    by_team: list[SlaRow]
    by_rule: list[SlaRow]
    breaches: QuerySet


def sla_compliance(
    *, user: User, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> SlaReport:
    """Rule tasks (the automation's SOP and cadence rules) due in ``[start, end)``, judged by
    their deadline: done by it = on time; done after it = late; still open after it = overdue.

    Tasks not yet due are not judged. Teams are the assignee's current team; rows come from
    tasks the user may read, so a lead sees their group and a manager their subtree.
    """
    from salesloop.automation.models import Escalation, Rule, RuleFiring

    now = now or timezone.now()
    fired = RuleFiring.objects.filter(task_id=OuterRef("pk"))
    tasks = (
        access.restrict(Task.objects.all(), user, "read")
        .filter(Exists(fired), due_at__gte=_start_of(start), due_at__lt=_start_of(end))
        .exclude(status=TaskStatus.CANCELLED)
    )
    on_time = Q(status=TaskStatus.DONE, completed_at__lte=F("due_at"))
    late = Q(status=TaskStatus.DONE, completed_at__gt=F("due_at"))
    overdue = Q(status=TaskStatus.OPEN, due_at__lt=now)
    escalated = Exists(Escalation.objects.filter(task_id=OuterRef("pk")))
    measures = {
        "on_time": Count("pk", filter=on_time),
        "late": Count("pk", filter=late),
        "overdue_open": Count("pk", filter=overdue),
        "escalated": Count(
            "pk", filter=Q(Exists(Escalation.objects.filter(task_id=OuterRef("pk"))))
        ),
    }
    by_rep_rows = (
        tasks.values(
            "assignee_id", "assignee__display_name", "assignee__username", "assignee__team_id"
        )
        .annotate(**measures)
        .order_by("assignee__username")
    )
    by_rep, team_totals = [], defaultdict(lambda: [0, 0, 0, 0])
    for r in by_rep_rows:
        row = SlaRow(
            r["assignee_id"],
            r["assignee__display_name"] or r["assignee__username"],
            r["on_time"],
            r["late"],
            r["overdue_open"],
            r["escalated"],
        )
        by_rep.append(row)
        totals = team_totals[r["assignee__team_id"]]
        for i, value in enumerate((row.on_time, row.late, row.overdue_open, row.escalated)):
            totals[i] += value
    teams = Team.objects.in_bulk([t for t in team_totals if t is not None])
    by_team = [
        SlaRow(team_id, str(teams[team_id]) if team_id in teams else _("No team"), *values)
        for team_id, values in team_totals.items()
    ]
    by_team.sort(key=lambda r: r.label)
    rule_of_task = Subquery(RuleFiring.objects.filter(task_id=OuterRef("pk")).values("rule_id")[:1])
    rules = {r.pk: r for r in Rule.objects.all()}
    by_rule = []
    for r in (
        tasks.annotate(rule_id=rule_of_task)
        .values("rule_id")
        .annotate(**measures)
        .order_by("rule_id")
    ):
        rule = rules.get(r["rule_id"])
        label = (
            (rule.name_en if rule and _is_english() and rule.name_en else rule.name)
            if rule
            else "?"
        )
        by_rule.append(
            SlaRow(r["rule_id"], label, r["on_time"], r["late"], r["overdue_open"], r["escalated"])
        )
    breaches = (
        tasks.filter(late | overdue)
        .annotate(was_escalated=escalated)
        .select_related("assignee", "account")
        .order_by("due_at", "pk")
    )
    return SlaReport(start, end, by_rep, by_team, by_rule, breaches)


def _is_english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")


# SOP guidance ------------------------------------------------------------------------------------


def sop_guidance_for(account: Account, stage_code: str = "") -> list[SopGuidance]:
    """Notes matching the stage (or any), the decision style (or any) and the customer's tags or
    industry (or any) — e.g. a state-owned rational buyer in negotiation gets three notes."""
    markers = {str(t).strip() for t in (account.tags or []) if str(t).strip()}
    if account.industry:
        markers.add(account.industry)
    rows = SopGuidance.objects.filter(is_active=True).filter(
        Q(stage_code="") | Q(stage_code=stage_code)
    )
    rows = rows.filter(Q(decision_style="") | Q(decision_style=account.decision_style))
    rows = rows.filter(Q(customer_tag="") | Q(customer_tag__in=markers))
    if not stage_code:
        rows = rows.filter(stage_code="")
    return list(rows)


def account_summary(*, user: User, account_id: int) -> dict[str, Any]:
    """RFM, churn score, plans and guidance of one account the user may read (404 otherwise)."""
    account = access.restrict(Account.objects.select_related("owner"), user, "read").get(
        pk=account_id
    )
    rfm = AccountRfm.objects.filter(account=account).first()
    churn = AccountChurn.objects.filter(account=account).first()
    open_stage = (
        account.opportunities.filter(closed_at__isnull=True)
        .order_by("-stage__order")
        .values_list("stage__code", flat=True)
        .first()
        or ""
    )
    last_contact = Activity.objects.filter(account=account).aggregate(at=Max("occurred_at"))["at"]
    return {
        "account": account,
        "rfm": rfm,
        "churn": churn,
        "stage_code": open_stage,
        "guidance": sop_guidance_for(account, open_stage),
        "last_contact_at": last_contact,
    }
