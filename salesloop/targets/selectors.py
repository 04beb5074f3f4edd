"""Reads for targets and live tracking; visibility is decided here, through ``org.access``.

For other apps (the workspace home pages call these):

* ``attainment_for(user=, scope=, period=, metric=)`` — one number against its target, with pace;
* ``tracking_board(user=, team=, period=, metrics=)`` — a team's children (sub-teams or reps) ×
  metrics, with targets, actuals, attainment and pace status;
* ``today_board(user=, team=, day=)`` — the morning meeting's board;
* ``run_rate_series(user=, scope=, period=, metric=)`` — cumulative actual per day vs the target line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.activities.models import Task, TaskStatus
from salesloop.analytics.queries import actuals as q
from salesloop.core.errors import Forbidden
from salesloop.org import access
from salesloop.org.models import OrgSettings, Role, Team, User
from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.metrics import METRICS, Metric, Unit, spec
from salesloop.targets.models import Flag, FlagStatus, Target, TargetSettings, TargetStatus
from salesloop.targets.pace import Pace, PaceStatus, pace_for
from salesloop.targets.periods import Period, PeriodKind, period_containing


@dataclass(frozen=True)
class TargetScope:
    """Whose number: a team node (its whole subtree) or one rep."""

    team: Team | None = None
    rep: User | None = None

    @classmethod
    def of(cls, obj: Team | User) -> TargetScope:
        return cls(rep=obj) if isinstance(obj, User) else cls(team=obj)

    @property
    def key(self) -> str:
        return f"r{self.rep.pk}" if self.rep is not None else f"t{self.team.pk}"

    @property
    def label(self) -> str:
        return str(self.rep if self.rep is not None else self.team)

    def filter(self) -> q.ScopeFilter:
        if self.rep is not None:
            return q.ScopeFilter(rep_ids=(self.rep.pk,))
        return q.ScopeFilter(team_path=self.team.path)


def fiscal_start_month() -> int:
    return OrgSettings.current().fiscal_year_start_month


def current_period(kind: str, day: dt.date | None = None) -> Period:
    return period_containing(kind, day or timezone.localdate(), fiscal_start_month=fiscal_start_month())


# Visibility ----------------------------------------------------------------------------------


def visible_targets(*, user: User) -> QuerySet[Target]:
    return access.restrict(Target.objects.select_related("team", "rep", "parent"), user, "read")


def target_list(
    *,
    user: User,
    metric: str | None = None,
    period_kind: str | None = None,
    period_start: dt.date | None = None,
    on_date: dt.date | None = None,
    team_id: int | None = None,
    rep_id: int | None = None,
    status: str | None = None,
    parent_id: int | None = None,
    top_level: bool | None = None,
) -> QuerySet[Target]:
    qs = visible_targets(user=user)
    if metric:
        qs = qs.filter(metric=metric)
    if period_kind:
        qs = qs.filter(period_kind=period_kind)
    if period_start:
        qs = qs.filter(period_start=period_start)
    if on_date:
        qs = qs.filter(period_start__lte=on_date, period_end__gte=on_date)
    if team_id:
        qs = qs.filter(team_id=team_id)
    if rep_id:
        qs = qs.filter(rep_id=rep_id)
    if status:
        qs = qs.filter(status=status)
    if parent_id:
        qs = qs.filter(parent_id=parent_id)
    if top_level:
        qs = qs.filter(parent__isnull=True)
    return qs


def target_get(*, user: User, target_id: int) -> Target:
    return visible_targets(user=user).get(pk=target_id)


def may_see_scope(user: User, scope: TargetScope) -> bool:
    """Numbers of a scope are visible to whoever may read its targets (same rule, one place)."""
    level = access.scope_for(user, Target, "read")
    if level == access.Scope.ALL:
        return True
    if level == access.Scope.NONE:
        return False
    if scope.rep is not None:
        if scope.rep.pk == user.pk:
            return True
        if level == access.Scope.SUBTREE and user.team_id and scope.rep.team_id:
            return scope.rep.team.path.startswith(user.team.path)
        return False
    if level == access.Scope.OWN:
        return scope.team.pk == user.team_id
    return bool(user.team_id) and scope.team.path.startswith(user.team.path)


def check_scope(user: User, scope: TargetScope) -> None:
    if not may_see_scope(user, scope):
        raise Forbidden(_("You may not see the numbers of %(scope)s.") % {"scope": scope.label})


def home_team(user: User) -> Team | None:
    """The team a user looks at by default: their own (a rep's group, a lead's subtree)."""
    if user.team_id:
        return user.team
    return Team.objects.filter(parent__isnull=True).order_by("path").first()


# Attainment ----------------------------------------------------------------------------------


@dataclass
class Attainment:
    scope_key: str
    scope_label: str
    metric: str
    period: Period
    unit: str
    target_id: int | None
    pace: Pace

    @property
    def target(self) -> Decimal | None:
        return self.pace.target

    @property
    def actual(self) -> Decimal:
        return self.pace.actual

    @property
    def status(self) -> str:
        return self.pace.status

    @property
    def status_label(self) -> str:
        return str(PaceStatus(self.pace.status).label)

    @property
    def metric_label(self) -> str:
        return str(Metric(self.metric).label)


def _approved_targets(metric_list: list[str], period: Period, scope_keys: list[str], tier: str = "") -> dict:
    rows = Target.objects.filter(
        metric__in=metric_list,
        period_start=period.start,
        period_end=period.end,
        scope_key__in=scope_keys,
        tier=tier,
        status=TargetStatus.APPROVED,
    ).values_list("metric", "scope_key", "amount", "id")
    return {(m, k): (amount, pk) for m, k, amount, pk in rows}


def _pace_args(settings: TargetSettings) -> dict:
    return {"at_risk_pct": settings.pace_at_risk_pct, "behind_pct": settings.pace_behind_pct}


def attainment_for(
    *,
    user: User,
    scope: Team | User | TargetScope,
    period: Period,
    metric: str,
    as_of: dt.date | None = None,
    tier: str = "",
) -> Attainment:
    """``metric`` for ``scope`` in ``period`` against its approved target, with pace status."""
    scope = scope if isinstance(scope, TargetScope) else TargetScope.of(scope)
    check_scope(user, scope)
    as_of = as_of or timezone.localdate()
    if tier:
        from salesloop.analytics.queries.attribution import tier_actuals

        actual = tier_actuals(metric, period, scope.filter(), tier)
    else:
        actual = q.to_amount(metric, q.grouped(metric, period, scope.filter(), by="total").get(None, 0))
    found = _approved_targets([metric], period, [scope.key], tier).get((metric, scope.key))
    settings = TargetSettings.current()
    pace = pace_for(
        target=found[0] if found else None,
        actual=actual,
        period=period,
        as_of=as_of,
        calendar=WorkCalendar.for_period(period),
        **_pace_args(settings),
    )
    return Attainment(scope.key, scope.label, metric, period, spec(metric).unit, found[1] if found else None, pace)


@dataclass
class BoardRow:
    key: str
    label: str
    kind: str  # "team" or "rep"
    object_id: int
    cells: dict[str, Attainment] = field(default_factory=dict)


@dataclass
class TrackingBoard:
    team: Team
    period: Period
    metrics: list[str]
    rows: list[BoardRow]
    total: BoardRow
    as_of: dt.date

    @property
    def derived(self) -> dict[str, dict[str, Decimal | None]]:
        """Ratios per row: conversion (won deals / visits) and average deal size (revenue / won)."""
        out = {}
        for row in [*self.rows, self.total]:
            c = row.cells
            visits = c[Metric.VISITS].actual if Metric.VISITS in c else None
            won = c[Metric.WON_DEALS].actual if Metric.WON_DEALS in c else None
            revenue = c[Metric.REVENUE].actual if Metric.REVENUE in c else None
            out[row.key] = {
                "conversion_pct": (won * 100 / visits).quantize(Decimal("0.1")) if visits and won is not None else None,
                "avg_deal": (revenue / won).quantize(Decimal("0.01")) if won and revenue is not None else None,
            }
        return out


def board_children(team: Team) -> tuple[list[Team], list[User]]:
    """A team's rows: its sub-teams, then the reps placed directly in it."""
    subteams = list(team.children.order_by("path"))
    reps = list(
        User.objects.filter(team=team, is_active=True, role__in=[Role.REP, Role.GROUP_LEAD]).order_by("username")
    )
    return subteams, reps


def tracking_board(
    *,
    user: User,
    team: Team,
    period: Period,
    metrics: list[str] | None = None,
    as_of: dt.date | None = None,
) -> TrackingBoard:
    """The team's children × metrics; one grouped query per metric for the whole subtree."""
    check_scope(user, TargetScope(team=team))
    metrics = metrics or [Metric.REVENUE, Metric.WON_DEALS, Metric.VISITS, Metric.QUALIFIED_LEADS]
    as_of = as_of or timezone.localdate()
    subteams, reps = board_children(team)
    people = dict(User.objects.filter(team__path__startswith=team.path).values_list("pk", "team__path"))
    stages = q.StageOrders.load()
    per_rep = {m: q.grouped(m, period, q.ScopeFilter(team_path=team.path), by="rep", stages=stages) for m in metrics}
    keys = [f"t{t.pk}" for t in subteams] + [f"r{u.pk}" for u in reps] + [f"t{team.pk}"]
    targets = _approved_targets(metrics, period, keys)
    cal = WorkCalendar.for_period(period)
    settings = TargetSettings.current()

    def cell(metric: str, key: str, label: str, units: int) -> Attainment:
        found = targets.get((metric, key))
        pace = pace_for(
            target=found[0] if found else None,
            actual=q.to_amount(metric, units),
            period=period,
            as_of=as_of,
            calendar=cal,
            **_pace_args(settings),
        )
        return Attainment(key, label, metric, period, spec(metric).unit, found[1] if found else None, pace)

    rows: list[BoardRow] = []
    for sub in subteams:
        row = BoardRow(f"t{sub.pk}", sub.name, "team", sub.pk)
        for m in metrics:
            units = sum(v for rep_id, v in per_rep[m].items() if (people.get(rep_id) or "").startswith(sub.path))
            row.cells[m] = cell(m, row.key, row.label, units)
        rows.append(row)
    for rep in reps:
        row = BoardRow(f"r{rep.pk}", str(rep), "rep", rep.pk)
        for m in metrics:
            row.cells[m] = cell(m, row.key, row.label, per_rep[m].get(rep.pk, 0))
        rows.append(row)
    total = BoardRow(f"t{team.pk}", team.name, "team", team.pk)
    for m in metrics:
        total.cells[m] = cell(m, total.key, total.label, sum(per_rep[m].values()))
    return TrackingBoard(team, period, metrics, rows, total, as_of)


def run_rate_series(*, user: User, scope: Team | User | TargetScope, period: Period, metric: str) -> dict:
    """Per working day: cumulative actual and the straight target line (for the run-rate chart)."""
    scope = scope if isinstance(scope, TargetScope) else TargetScope.of(scope)
    check_scope(user, scope)
    by_day = q.daily(metric, period, scope.filter())
    cal = WorkCalendar.for_period(period)
    days = period.dates()
    found = _approved_targets([metric], period, [scope.key]).get((metric, scope.key))
    total_wd = cal.count_in(period) or 1
    cumulative, running, plan, seen_wd = [], Decimal(0), [], 0
    today = timezone.localdate()
    for day in days:
        running += by_day.get(day, Decimal(0))
        if cal.is_working(day):
            seen_wd += 1
        cumulative.append(running if day <= today else None)
        plan.append((found[0] * seen_wd / total_wd).quantize(Decimal("0.01")) if found else None)
    return {"days": [d.isoformat() for d in days], "actual": cumulative, "target": plan, "unit": spec(metric).unit}


# The morning board -----------------------------------------------------------------------------


def previous_working_day(day: dt.date, cal: WorkCalendar | None = None) -> dt.date:
    cal = cal or WorkCalendar.load(day - dt.timedelta(days=31), day)
    prev = day - dt.timedelta(days=1)
    for _i in range(31):
        if cal.is_working(prev):
            return prev
        prev -= dt.timedelta(days=1)
    return day - dt.timedelta(days=1)


@dataclass
class TodayRow:
    rep: User
    yesterday: dict[str, Decimal]
    today_targets: dict[str, Decimal | None]
    flags: list[Flag]


@dataclass
class TodayBoard:
    team: Team
    day: dt.date
    yesterday: dt.date
    rows: list[TodayRow]
    totals_yesterday: dict[str, Decimal]
    totals_today: dict[str, Decimal]
    follow_ups: list[Task]
    blockers: list
    metrics: list[str]


TODAY_METRICS = [Metric.VISITS, Metric.QUALIFIED_LEADS, Metric.NEGOTIATIONS, Metric.WON_DEALS]


def today_targets_for(reps: list[User], day: dt.date, metrics: list[str]) -> dict[tuple[int, str], Decimal]:
    """Today's number per rep and metric: a day target if one was set, else what the rep's current
    week (then month) target still needs per remaining working day, rounded up for counts."""
    keys = [f"r{r.pk}" for r in reps]
    rows = Target.objects.filter(
        scope_key__in=keys,
        metric__in=metrics,
        status=TargetStatus.APPROVED,
        tier="",
        period_start__lte=day,
        period_end__gte=day,
        period_kind__in=[PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH],
    ).order_by("scope_key", "metric")
    rank = {PeriodKind.DAY: 0, PeriodKind.WEEK: 1, PeriodKind.MONTH: 2}
    best: dict[tuple[int, str], Target] = {}
    for t in rows:
        key = (t.rep_id, t.metric)
        if key not in best or rank[t.period_kind] < rank[best[key].period_kind]:
            best[key] = t
    out: dict[tuple[int, str], Decimal] = {}
    needs = [t for t in best.values() if t.period_kind != PeriodKind.DAY]
    for key, t in best.items():
        if t.period_kind == PeriodKind.DAY:
            out[key] = t.amount
    if needs:
        start = min(t.period_start for t in needs)
        end = max(t.period_end for t in needs)
        cal = WorkCalendar.load(start, end)
        stages = q.StageOrders.load()
        cache: dict[tuple[str, dt.date, dt.date], dict] = {}
        for t in needs:
            before = Period(t.period_start, day - dt.timedelta(days=1), t.period_kind)
            done = Decimal(0)
            if before.end >= before.start:
                ck = (t.metric, before.start, before.end)
                if ck not in cache:
                    cache[ck] = q.grouped(
                        t.metric, before, q.ScopeFilter(rep_ids=tuple(r.pk for r in reps)), by="rep", stages=stages
                    )
                done = q.to_amount(t.metric, cache[ck].get(t.rep_id, 0))
            left = cal.count(day, t.period_end)
            remaining = max(t.amount - done, Decimal(0))
            if not left:
                out[(t.rep_id, t.metric)] = remaining
                continue
            per_day = remaining / left
            if spec(t.metric).unit == Unit.COUNT:
                per_day = Decimal(int(per_day.to_integral_value(rounding="ROUND_CEILING")))
            else:
                per_day = per_day.quantize(Decimal("0.01"))
            out[(t.rep_id, t.metric)] = per_day
    return out


def today_board(*, user: User, team: Team, day: dt.date | None = None, metrics: list[str] | None = None) -> TodayBoard:
    """Seed 000 §二.1 morning meeting: yesterday per rep ("visited 10, 3 intents, 1 into
    negotiation"), today's numbers, key follow-ups due today, blockers from last evening's reports."""
    check_scope(user, TargetScope(team=team))
    day = day or timezone.localdate()
    metrics = metrics or TODAY_METRICS
    yesterday = previous_working_day(day)
    reps = list(
        User.objects.filter(team__path__startswith=team.path, is_active=True, role=Role.REP)
        .select_related("team")
        .order_by("team__path", "username")
    )
    ids = tuple(r.pk for r in reps)
    stages = q.StageOrders.load()
    y_period = Period(yesterday, yesterday, PeriodKind.DAY)
    done = {m: q.grouped(m, y_period, q.ScopeFilter(rep_ids=ids), by="rep", stages=stages) for m in metrics}
    targets = today_targets_for(reps, day, metrics)
    flags: dict[int, list[Flag]] = {}
    for f in Flag.objects.filter(rep_id__in=ids, status=FlagStatus.OPEN).select_related("rule"):
        flags.setdefault(f.rep_id, []).append(f)
    rows = [
        TodayRow(
            rep=r,
            yesterday={m: q.to_amount(m, done[m].get(r.pk, 0)) for m in metrics},
            today_targets={m: targets.get((r.pk, m)) for m in metrics},
            flags=flags.get(r.pk, []),
        )
        for r in reps
    ]
    start, end = Period(day, day, PeriodKind.DAY).bounds()
    follow_ups = list(
        access.restrict(Task.objects.all(), user, "read")
        .filter(assignee_id__in=ids, status=TaskStatus.OPEN, due_at__lt=end)
        .select_related("assignee", "account", "opportunity")
        .order_by("due_at")[:30]
    )
    blockers = evening_blockers(rep_ids=list(ids), day=yesterday)
    return TodayBoard(
        team=team,
        day=day,
        yesterday=yesterday,
        rows=rows,
        totals_yesterday={m: sum((row.yesterday[m] for row in rows), Decimal(0)) for m in metrics},
        totals_today={m: sum((row.today_targets[m] or Decimal(0) for row in rows), Decimal(0)) for m in metrics},
        follow_ups=follow_ups,
        blockers=blockers,
        metrics=metrics,
    )


def evening_blockers(
    *, rep_ids, day: dt.date | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> list:
    """Evening reports (the automation app's) of ``day`` (or ``start``–``end``) that name a
    blocker or a plan."""
    if not apps.is_installed("salesloop.automation"):
        return []
    from salesloop.automation.models import EveningReport

    qs = EveningReport.objects.filter(user_id__in=rep_ids)
    qs = qs.filter(date=day) if day is not None else qs.filter(date__range=(start, end))
    return list(
        qs.exclude(Q(blockers="") & Q(tomorrow_plan="")).select_related("user").order_by("date", "user__username")
    )


def metric_choices() -> list[tuple[str, str]]:
    return [(code, str(Metric(code).label)) for code in METRICS]


@dataclass
class TargetProgress:
    """One current target of a rep, as the workspace's rep home shows it."""

    label: str
    target: Decimal
    actual: Decimal
    unit: str
    status: str
    attainment_pct: Decimal | None
    target_id: int


def rep_target_progress(*, viewer: User, rep: User, on: dt.date) -> list[TargetProgress]:
    """The rep's approved targets whose period contains ``on`` (day to quarter), with actuals.

    The workspace's extension point (``workspace.selectors.targets_for``) calls this.
    """
    scope = TargetScope(rep=rep)
    if not may_see_scope(viewer, scope):
        return []
    kinds = [PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH, PeriodKind.QUARTER]
    rows = list(
        Target.objects.filter(
            scope_key=scope.key,
            status=TargetStatus.APPROVED,
            tier="",
            period_kind__in=kinds,
            period_start__lte=on,
            period_end__gte=on,
        ).order_by("metric", "period_start")
    )
    if not rows:
        return []
    settings = TargetSettings.current()
    currency = OrgSettings.current().currency
    stages = q.StageOrders.load()
    out = []
    for t in sorted(rows, key=lambda t: (kinds.index(t.period_kind), t.metric)):
        period = Period(t.period_start, t.period_end, t.period_kind)
        units = q.grouped(t.metric, period, scope.filter(), by="total", stages=stages).get(None, 0)
        pace = pace_for(
            target=t.amount,
            actual=q.to_amount(t.metric, units),
            period=period,
            as_of=on,
            calendar=WorkCalendar.for_period(period),
            **_pace_args(settings),
        )
        label = f"{Metric(t.metric).label} · {PeriodKind(t.period_kind).label} {period.label()}"
        unit = t.currency or currency if spec(t.metric).unit == Unit.MONEY else ""
        out.append(TargetProgress(label, t.amount, pace.actual, unit, pace.status, pace.attainment_pct, t.pk))
    return out


def attainment_recompute(*, period: Period, as_of: dt.date | None = None) -> dict[int, Pace]:
    """Actual and pace of every approved target of ``period`` (all scopes, all metrics) at once.

    Set-based: one grouped query per metric for the whole organisation (credit by rep), then each
    team target sums its subtree's reps in memory — the number of queries does not grow with the
    number of targets. Tier targets use the tier cells (one query pair per metric with tiers).
    For jobs and benchmarks; it does not check visibility.
    """
    as_of = as_of or timezone.localdate()
    targets = list(
        Target.objects.filter(
            period_start=period.start, period_end=period.end, status=TargetStatus.APPROVED
        ).select_related("team")
    )
    if not targets:
        return {}
    stages = q.StageOrders.load()
    metrics = sorted({t.metric for t in targets})
    per_rep = {m: q.grouped(m, period, q.ScopeFilter(), by="rep", stages=stages) for m in metrics}
    paths = dict(User.objects.values_list("pk", "team__path"))
    tier_cells = None
    if any(t.tier for t in targets):
        from salesloop.analytics.queries.attribution import cells

        tier_cells = cells(period, q.ScopeFilter(), list(TargetSettings.current().high_value_key_tiers or []))
    cal = WorkCalendar.for_period(period)
    settings = TargetSettings.current()
    out: dict[int, Pace] = {}
    for t in targets:
        if t.tier:
            actual = _tier_actual(t, tier_cells or {}, paths)
        else:
            if t.rep_id:
                units = per_rep[t.metric].get(t.rep_id, 0)
            else:
                prefix = t.team.path
                units = sum(v for rep, v in per_rep[t.metric].items() if (paths.get(rep) or "").startswith(prefix))
            actual = q.to_amount(t.metric, units)
        out[t.pk] = pace_for(
            target=t.amount, actual=actual, period=period, as_of=as_of, calendar=cal, **_pace_args(settings)
        )
    return out


def _tier_actual(t: Target, tier_cells: dict, paths: dict) -> Decimal:
    def mine(rep_id: int) -> bool:
        return rep_id == t.rep_id if t.rep_id else (paths.get(rep_id) or "").startswith(t.team.path)

    rows = [c for (rep, tier), c in tier_cells.items() if tier == t.tier and mine(rep)]
    if t.metric == Metric.REVENUE:
        return q.to_amount(t.metric, sum(c.revenue_cents for c in rows))
    if t.metric == Metric.VISITS:
        return Decimal(sum(c.visits for c in rows))
    if t.metric == Metric.WON_DEALS:
        return (Decimal(sum(c.deal_bp for c in rows)) / 10000).quantize(Decimal("0.01"))
    return Decimal(0)
