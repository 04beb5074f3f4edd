"""Reads behind the daily workspace: rep home, manager home (team metrics) and the pipeline board.

Every queryset starts from ``org.access.restrict``, so a page, an htmx fragment and a drill-down
list see exactly the same rows. The metric families of the manager home are set-based: one
grouped query per family (visits, newly qualified deals, closings) for the whole team and both
periods at once, so the number of queries does not grow with the number of reps or records.

Money: sums are taken over deals in the organisation's currency (``OrgSettings.currency``);
deals in another currency are counted separately and shown as such, never converted or mixed in.
Times: "today" and "this week" (ISO week, Monday first) are local days of the active time zone.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.apps import apps
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from salesloop.activities.models import Activity, ActivityKind, Task, TaskStatus
from salesloop.core.money import quantize_money
from salesloop.customers.models import Account
from salesloop.org import access
from salesloop.org.models import OrgSettings, Team, User
from salesloop.pipeline.models import Opportunity, Stage, StageChange

ZERO = Decimal("0.00")

#: The seeds' stage that marks a qualified / intent deal (seed 000 §四.1: 线索 → 意向 → ...).
QUALIFIED_STAGE_CODE = "qualified"


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware datetimes, named for the page."""

    code: str
    start: dt.datetime
    end: dt.datetime


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def today_and_week(now: dt.datetime | None = None) -> tuple[Period, Period]:
    """Today and this ISO week (Monday to the end of today), in the active time zone."""
    local_day = timezone.localdate(now or timezone.now())
    tomorrow = _local_midnight(local_day + dt.timedelta(days=1))
    today = Period("today", _local_midnight(local_day), tomorrow)
    week = Period(
        "week", _local_midnight(local_day - dt.timedelta(days=local_day.weekday())), tomorrow
    )
    return today, week


def org_currency() -> str:
    return OrgSettings.current().currency


# --------------------------------------------------------------------------- people


def team_members(viewer: User) -> QuerySet[User]:
    """The sales people whose books ``viewer`` reads: their subtree (all of sales for admin).

    Decided by the viewer's scope on opportunities in ``org.access``, so the team shown on the
    manager home is exactly the set of owners whose deals the viewer can see.
    """
    qs = User.objects.filter(is_active=True, role__in=access.SALES_ROLES).select_related("team")
    scope = access.scope_for(viewer, Opportunity, "read")
    if scope == access.Scope.ALL:
        return qs
    if scope == access.Scope.SUBTREE:
        return qs.filter(pk__in=access.subtree_user_ids(viewer))
    if scope == access.Scope.OWN:
        return qs.filter(pk=viewer.pk)
    return qs.none()


def team_member_or_none(viewer: User, user_id: int) -> User | None:
    return team_members(viewer).filter(pk=user_id).first()


def visible_teams(viewer: User) -> QuerySet[Team]:
    """Teams of the viewer's subtree (every team for admin), for the board's team filter."""
    scope = access.scope_for(viewer, Opportunity, "read")
    if scope == access.Scope.ALL:
        return Team.objects.all()
    if scope == access.Scope.SUBTREE and viewer.team_id:
        return Team.objects.filter(path__startswith=viewer.team.path)
    return Team.objects.none()


# --------------------------------------------------------------------------- rep home


@dataclass
class StageTotal:
    stage: Stage
    count: int = 0
    amount: Decimal = ZERO
    other_currency_count: int = 0


@dataclass
class TaskDigest:
    today: list[Task]
    overdue: list[Task]
    today_count: int
    overdue_count: int


class TargetProgress(Protocol):
    """What a targets app hands the rep home for one metric (the extension point's contract)."""

    label: str
    target: Decimal
    actual: Decimal
    unit: str


@dataclass
class RepHome:
    subject: User
    currency: str
    tasks: TaskDigest
    pipeline: list[StageTotal]
    pipeline_count: int
    pipeline_amount: Decimal
    recent: list[Activity]
    targets: list[TargetProgress] | None = None


def task_digest(
    *, viewer: User, assignee: User, now: dt.datetime | None = None, limit: int = 20
) -> TaskDigest:
    """Open tasks of ``assignee`` due today and overdue (due before today), oldest first."""
    today, _week = today_and_week(now)
    open_tasks = access.restrict(Task.objects.all(), viewer).filter(
        assignee=assignee, status=TaskStatus.OPEN
    )
    counts = open_tasks.aggregate(
        today=Count("id", filter=Q(due_at__gte=today.start, due_at__lt=today.end)),
        overdue=Count("id", filter=Q(due_at__lt=today.start)),
    )
    related = open_tasks.select_related("account", "opportunity").order_by("due_at", "id")
    return TaskDigest(
        today=list(related.filter(due_at__gte=today.start, due_at__lt=today.end)[:limit]),
        overdue=list(related.filter(due_at__lt=today.start)[:limit]),
        today_count=counts["today"],
        overdue_count=counts["overdue"],
    )


def open_pipeline_by_stage(*, viewer: User, owner: User, currency: str) -> list[StageTotal]:
    """``owner``'s open deals per stage, in stage order; amounts summed in ``currency`` only."""
    stages = {s.pk: s for s in Stage.objects.filter(is_won=False, is_lost=False)}
    rows = (
        access.restrict(Opportunity.objects.all(), viewer)
        .filter(owner=owner, stage_id__in=list(stages))
        .values("stage_id")
        .annotate(
            count=Count("id"),
            amount=Sum("amount", filter=Q(currency=currency)),
            other=Count("id", filter=~Q(currency=currency)),
        )
        .order_by()
    )
    by_stage = {
        r["stage_id"]: StageTotal(
            stages[r["stage_id"]], r["count"], r["amount"] or ZERO, r["other"]
        )
        for r in rows
    }
    ordered = sorted(stages.values(), key=lambda s: (s.order, s.pk))
    # An inactive stage is listed only while deals still sit in it.
    return [by_stage.get(s.pk, StageTotal(s)) for s in ordered if s.is_active or s.pk in by_stage]


def recent_activities(*, viewer: User, owner: User, limit: int = 10) -> list[Activity]:
    return list(
        access.restrict(Activity.objects.all(), viewer)
        .filter(owner=owner)
        .select_related("account", "opportunity")
        .order_by("-occurred_at", "-id")[:limit]
    )


def targets_for(*, viewer: User, rep: User, on: dt.date) -> list[TargetProgress] | None:
    """Targets vs actual for ``rep``, or ``None`` when no targets app is installed.

    Extension point: when ``salesloop.targets`` is installed and its ``selectors`` module has
    ``rep_target_progress(*, viewer, rep, on) -> Iterable[TargetProgress]``, the rep home shows
    what it returns. Nothing is invented here: without that app the section is not shown.
    """
    if not apps.is_installed("salesloop.targets"):
        return None
    try:
        module = importlib.import_module("salesloop.targets.selectors")
    except ImportError:
        return None
    provider = getattr(module, "rep_target_progress", None)
    if provider is None:
        return None
    return list(provider(viewer=viewer, rep=rep, on=on))


def rep_home(*, viewer: User, subject: User, now: dt.datetime | None = None) -> RepHome:
    """Everything on a rep's home page; ``viewer`` is the rep or a leader drilling down."""
    now = now or timezone.now()
    currency = org_currency()
    pipeline = open_pipeline_by_stage(viewer=viewer, owner=subject, currency=currency)
    return RepHome(
        subject=subject,
        currency=currency,
        tasks=task_digest(viewer=viewer, assignee=subject, now=now),
        pipeline=pipeline,
        pipeline_count=sum(s.count for s in pipeline),
        pipeline_amount=sum((s.amount for s in pipeline), ZERO),
        recent=recent_activities(viewer=viewer, owner=subject),
        targets=targets_for(viewer=viewer, rep=subject, on=timezone.localdate(now)),
    )


@dataclass(frozen=True)
class LinkOption:
    """What an activity can be logged against; ``value`` is ``account:ID``/``opportunity:ID``."""

    kind: str
    pk: int
    label: str
    detail: str

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.pk}"


def link_options(*, user: User, query: str = "", limit: int = 8) -> list[LinkOption]:
    """Accounts and open deals ``user`` sees whose name matches ``query`` (quick-log picker)."""
    query = query.strip()
    accounts = access.restrict(Account.objects.all(), user).only("pk", "name", "city")
    deals = (
        access.restrict(Opportunity.objects.all(), user)
        .filter(closed_at__isnull=True)
        .select_related("account")
        .only("pk", "name", "account__name")
    )
    if query:
        accounts = accounts.filter(name__icontains=query)
        deals = deals.filter(Q(name__icontains=query) | Q(account__name__icontains=query))
    options = [
        LinkOption("opportunity", d.pk, d.name, d.account.name)
        for d in deals.order_by("-updated_at")[:limit]
    ]
    options += [
        LinkOption("account", a.pk, a.name, a.city) for a in accounts.order_by("name")[:limit]
    ]
    return options


# --------------------------------------------------------------------------- manager home


def visits_between(*, viewer: User, start: dt.datetime, end: dt.datetime) -> QuerySet[Activity]:
    """Visits in [start, end), credited to whoever performed them (``rep_id``).

    ``performed_by`` survives a book reassignment, so a visit stays with the rep who made it.
    """
    return (
        access.restrict(Activity.objects.all(), viewer)
        .filter(kind=ActivityKind.VISIT, occurred_at__gte=start, occurred_at__lt=end)
        .annotate(rep_id=Coalesce("performed_by_id", "owner_id"))
    )


def qualified_entries_between(
    *, viewer: User, start: dt.datetime, end: dt.datetime, qualified_stage: Stage | None
) -> QuerySet[StageChange]:
    """Stage changes in [start, end) that made a deal *newly qualified*, credited to its owner.

    Definition: a deal becomes newly qualified when a stage change takes it from no stage (it
    was created) or from a stage ordered before the qualified stage (``lead``) into the qualified
    stage or any later stage that is not lost. A deal created directly in ``proposal`` counts;
    ``qualified → proposal`` does not (it was already qualified); reopening a lost deal does not.
    Leads (``customers.Lead``) have no timestamped status history, so a lead counts once it
    becomes a deal that enters the qualified stage. Count distinct deals, not changes.
    """
    qs = access.restrict(StageChange.objects.all(), viewer)
    if qualified_stage is None:
        return qs.none()
    order = qualified_stage.order
    return qs.filter(
        Q(from_stage__isnull=True) | Q(from_stage__order__lt=order),
        changed_at__gte=start,
        changed_at__lt=end,
        to_stage__order__gte=order,
        to_stage__is_lost=False,
    ).annotate(rep_id=F("opportunity__owner_id"))


def closings_between(
    *, viewer: User, start: dt.datetime, end: dt.datetime
) -> QuerySet[Opportunity]:
    """Deals closed (won or lost) in [start, end) by ``closed_at``, credited to their owner."""
    return (
        access.restrict(Opportunity.objects.all(), viewer)
        .filter(closed_at__gte=start, closed_at__lt=end)
        .filter(Q(stage__is_won=True) | Q(stage__is_lost=True))
        .annotate(rep_id=F("owner_id"))
    )


@dataclass
class RepMetrics:
    """One rep's numbers for one period.

    * ``conversion_rate``: won ÷ (won + lost) over the deals *closed in the period* — the share
      of this period's decisions that went our way; ``None`` when nothing closed.
    * ``average_deal_size``: won amount ÷ number of won deals in the organisation's currency.
    """

    user: User | None
    visits: int = 0
    qualified: int = 0
    won: int = 0
    lost: int = 0
    won_amount: Decimal = ZERO
    won_other_currency: int = 0

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def conversion_rate(self) -> Decimal | None:
        if not self.closed:
            return None
        return (Decimal(self.won) * 100 / Decimal(self.closed)).quantize(Decimal("0.1"))

    @property
    def average_deal_size(self) -> Decimal | None:
        counted = self.won - self.won_other_currency
        if counted <= 0:
            return None
        return quantize_money(self.won_amount / counted)

    def add(self, other: RepMetrics) -> None:
        self.visits += other.visits
        self.qualified += other.qualified
        self.won += other.won
        self.lost += other.lost
        self.won_amount += other.won_amount
        self.won_other_currency += other.won_other_currency


SORT_KEYS: dict[str, Any] = {
    "name": lambda m: str(m.user).lower(),
    "visits": lambda m: m.visits,
    "qualified": lambda m: m.qualified,
    "conversion": lambda m: (m.conversion_rate is not None, m.conversion_rate or 0),
    "average": lambda m: (m.average_deal_size is not None, m.average_deal_size or 0),
    "won_amount": lambda m: m.won_amount,
}


@dataclass
class TeamPerformance:
    currency: str
    today: Period
    week: Period
    rows: dict[str, list[RepMetrics]] = field(default_factory=dict)  # period code → one per rep
    totals: dict[str, RepMetrics] = field(default_factory=dict)

    def sorted_rows(self, period: str, sort: str) -> list[RepMetrics]:
        key = sort.lstrip("-")
        rows = list(self.rows[period])
        if key in SORT_KEYS:
            rows.sort(key=SORT_KEYS[key], reverse=sort.startswith("-"))
        return rows


def team_performance(*, viewer: User, now: dt.datetime | None = None) -> TeamPerformance:
    """Per-rep visits, newly qualified deals, conversion, average won deal, won amount.

    Three grouped queries (one per metric family) cover every rep and both periods: each family
    is filtered to this week and splits today out with a conditional aggregate.
    """
    today, week = today_and_week(now)
    currency = org_currency()
    members = list(team_members(viewer).order_by("display_name", "username"))
    member_ids = [m.pk for m in members]
    in_today = Q(occurred_at__gte=today.start)

    visits = {
        r["rep_id"]: r
        for r in visits_between(viewer=viewer, start=week.start, end=week.end)
        .filter(rep_id__in=member_ids)
        .values("rep_id")
        .annotate(week=Count("id"), today=Count("id", filter=in_today))
        .order_by()
    }
    qualified_stage = Stage.objects.filter(code=QUALIFIED_STAGE_CODE).first()
    qualified = {
        r["rep_id"]: r
        for r in qualified_entries_between(
            viewer=viewer, start=week.start, end=week.end, qualified_stage=qualified_stage
        )
        .filter(rep_id__in=member_ids)
        .values("rep_id")
        .annotate(
            week=Count("opportunity_id", distinct=True),
            today=Count("opportunity_id", distinct=True, filter=Q(changed_at__gte=today.start)),
        )
        .order_by()
    }
    won, lost, own_currency = Q(stage__is_won=True), Q(stage__is_lost=True), Q(currency=currency)
    closed_today = Q(closed_at__gte=today.start)
    closings = {
        r["rep_id"]: r
        for r in closings_between(viewer=viewer, start=week.start, end=week.end)
        .filter(rep_id__in=member_ids)
        .values("rep_id")
        .annotate(
            won_week=Count("id", filter=won),
            lost_week=Count("id", filter=lost),
            amount_week=Sum("amount", filter=won & own_currency),
            other_week=Count("id", filter=won & ~own_currency),
            won_today=Count("id", filter=won & closed_today),
            lost_today=Count("id", filter=lost & closed_today),
            amount_today=Sum("amount", filter=won & own_currency & closed_today),
            other_today=Count("id", filter=won & ~own_currency & closed_today),
        )
        .order_by()
    }

    result = TeamPerformance(currency=currency, today=today, week=week)
    for period in ("today", "week"):
        rows = []
        total = RepMetrics(user=None)
        for member in members:
            v, q, c = (
                visits.get(member.pk, {}),
                qualified.get(member.pk, {}),
                closings.get(member.pk, {}),
            )
            row = RepMetrics(
                user=member,
                visits=v.get(period, 0),
                qualified=q.get(period, 0),
                won=c.get(f"won_{period}", 0),
                lost=c.get(f"lost_{period}", 0),
                won_amount=c.get(f"amount_{period}") or ZERO,
                won_other_currency=c.get(f"other_{period}", 0),
            )
            total.add(row)
            rows.append(row)
        result.rows[period] = rows
        result.totals[period] = total
    return result


#: Drill-down lists: the records behind each number of the manager home, same filters.
DRILL_METRICS = ("visits", "qualified", "won", "closed")


def metric_records(*, viewer: User, rep: User, metric: str, period: Period) -> QuerySet:
    """The records that make up one cell of the manager table (``rep`` × ``metric`` × period)."""
    if metric == "visits":
        return (
            visits_between(viewer=viewer, start=period.start, end=period.end)
            .filter(rep_id=rep.pk)
            .select_related("account", "opportunity")
            .order_by("-occurred_at", "-id")
        )
    if metric == "qualified":
        qualified_stage = Stage.objects.filter(code=QUALIFIED_STAGE_CODE).first()
        entries = qualified_entries_between(
            viewer=viewer, start=period.start, end=period.end, qualified_stage=qualified_stage
        ).filter(rep_id=rep.pk)
        return (
            access.restrict(Opportunity.objects.all(), viewer)
            .filter(pk__in=entries.values("opportunity_id"))
            .select_related("account", "stage")
            .order_by("-updated_at", "-id")
        )
    closings = closings_between(viewer=viewer, start=period.start, end=period.end).filter(
        rep_id=rep.pk
    )
    if metric == "won":
        closings = closings.filter(stage__is_won=True)
    elif metric != "closed":
        raise ValueError(metric)
    return closings.select_related("account", "stage").order_by("-closed_at", "-id")


# --------------------------------------------------------------------------- pipeline board


#: Without a close-month filter the won/lost columns show deals closed in this many last days.
BOARD_CLOSED_WINDOW_DAYS = 30
#: Cards drawn per column; the column's count and amount always cover all of its deals.
BOARD_CARDS_PER_COLUMN = 30
#: What a card shows: loading only these keeps a director's board (hundreds of cards) light.
CARD_FIELDS = (
    "id",
    "name",
    "version",
    "stage_id",
    "amount",
    "currency",
    "expected_close_date",
    "account__id",
    "account__name",
    "owner__id",
    "owner__username",
    "owner__display_name",
    "owner__first_name",
    "owner__last_name",
)


@dataclass(frozen=True)
class BoardFilters:
    owner: User | None = None
    team: Team | None = None
    close_month: dt.date | None = None  # the first day of the month


@dataclass
class BoardColumn:
    stage: Stage
    cards: list[Opportunity]
    count: int = 0
    amount: Decimal = ZERO
    other_currency_count: int = 0

    @property
    def is_closed(self) -> bool:
        return self.stage.is_closed

    @property
    def hidden(self) -> int:
        return max(self.count - len(self.cards), 0)


@dataclass
class Board:
    columns: list[BoardColumn]
    currency: str
    can_move: bool


def board_stages() -> list[Stage]:
    """Active stages, open ones first in their order, then won and lost at the end."""
    return sorted(
        Stage.objects.filter(is_active=True), key=lambda s: (s.is_closed, s.is_lost, s.order, s.pk)
    )


def board_queryset(
    *, viewer: User, filters: BoardFilters, now: dt.datetime | None = None
) -> QuerySet[Opportunity]:
    """The deals on ``viewer``'s board: open deals plus recently closed ones, filtered."""
    qs = access.restrict(Opportunity.objects.all(), viewer).filter(stage__is_active=True)
    if filters.owner is not None:
        qs = qs.filter(owner=filters.owner)
    if filters.team is not None:
        qs = qs.filter(owner__team__path__startswith=filters.team.path)
    if filters.close_month is not None:
        start = filters.close_month
        end = (start + dt.timedelta(days=32)).replace(day=1)
        qs = qs.filter(expected_close_date__gte=start, expected_close_date__lt=end)
    else:
        cutoff = (now or timezone.now()) - dt.timedelta(days=BOARD_CLOSED_WINDOW_DAYS)
        qs = qs.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff))
    return qs


def board_totals(qs: QuerySet[Opportunity], currency: str) -> dict[int, dict[str, Any]]:
    """Count and amount (in ``currency``) per stage for the board's deals: one grouped query."""
    rows = (
        qs.values("stage_id")
        .annotate(
            count=Count("id"),
            amount=Sum("amount", filter=Q(currency=currency)),
            other=Count("id", filter=~Q(currency=currency)),
        )
        .order_by()
    )
    return {
        r["stage_id"]: {"count": r["count"], "amount": r["amount"] or ZERO, "other": r["other"]}
        for r in rows
    }


def board(
    *,
    viewer: User,
    filters: BoardFilters,
    now: dt.datetime | None = None,
    per_column: int = BOARD_CARDS_PER_COLUMN,
) -> Board:
    """Columns of cards with totals; cards per column are capped in SQL (ROW_NUMBER per stage)."""
    currency = org_currency()
    stages = board_stages()
    qs = board_queryset(viewer=viewer, filters=filters, now=now)
    ranked = (
        qs.annotate(
            column_rank=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[
                    F("expected_close_date").asc(nulls_last=True),
                    F("amount").desc(),
                    F("id").asc(),
                ],
            )
        )
        .filter(column_rank__lte=per_column)
        .select_related("account", "owner")
        .only(*CARD_FIELDS)
        .order_by("stage_id", "column_rank")
    )
    cards: dict[int, list[Opportunity]] = {}
    for deal in ranked:
        cards.setdefault(deal.stage_id, []).append(deal)
    totals = board_totals(qs, currency)
    columns = []
    for stage in stages:
        t = totals.get(stage.pk, {})
        columns.append(
            BoardColumn(
                stage=stage,
                cards=cards.get(stage.pk, []),
                count=t.get("count", 0),
                amount=t.get("amount", ZERO),
                other_currency_count=t.get("other", 0),
            )
        )
    return Board(
        columns=columns, currency=currency, can_move=access.can_write_model(viewer, Opportunity)
    )


def board_card(*, viewer: User, opportunity_id: int) -> Opportunity | None:
    """One card as ``viewer`` may see it now (after a move or a conflict)."""
    return (
        access.restrict(Opportunity.objects.all(), viewer)
        .select_related("account", "owner", "stage")
        .only(*CARD_FIELDS, "stage__name", "stage__name_en")
        .filter(pk=opportunity_id)
        .first()
    )
