"""Bottleneck detectors (seed 000 §一.2 卡点识别): find the stuck rep, say why, get them coached.

Each active ``BottleneckRule`` runs its detector over the reps of a team subtree and returns hits
with the numbers behind them. ``bottlenecks_detect`` then reconciles:

* a new hit opens a ``Flag`` and gives the rep's lead a coaching task (once: the flag remembers
  its task, and at most one open flag exists per rule and rep — a partial unique constraint);
* a repeated hit refreshes the flag's numbers;
* an open flag whose rep is no longer hit (the metric recovered, or the rule was switched off)
  is cleared, and its coaching task, if still open, is cancelled with a note.

Running it twice changes nothing the second time (idempotent); it is safe as a scheduled job.

Detectors (thresholds are data, see ``BottleneckRule``):

* conversion_gap — conversion = won deals ÷ visits over the look-back; a rep with at least
  ``min_sample`` visits is flagged when their conversion ≤ team average × (1 − threshold%), the
  team average being pooled over the rep's group (seed: "转化率低于均值20%");
* visits_below_pace — the rep's current visit target (week, else month): visits so far below
  threshold% of the time-elapsed pace, once ``min_sample`` working days have passed;
* stage_stall — an open deal in its stage for longer than threshold% of the usual time there
  (the average completed stay in that stage over the look-back, at least ``min_sample`` stays);
* deal_size_falling — the average won deal over the look-back fell by at least threshold%
  against the window before it (``min_sample`` deals in each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.activities.models import Task, TaskKind, TaskStatus
from salesloop.analytics.queries import actuals as q
from salesloop.analytics.queries.attribution import cells
from salesloop.analytics.queries.dialect import bounds, epoch_seconds
from salesloop.org.models import Role, Team, User
from salesloop.pipeline.models import Opportunity
from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.metrics import Metric
from salesloop.targets.models import BottleneckCode, BottleneckRule, Flag, FlagStatus, Target, TargetSettings
from salesloop.targets.models import TargetStatus as TS
from salesloop.targets.periods import Period, PeriodKind


@dataclass
class Hit:
    rep: User
    facts: dict = field(default_factory=dict)


def _window(as_of: dt.date, days: int, back: int = 0) -> Period:
    end = as_of - dt.timedelta(days=1 + back * days)
    return Period(end - dt.timedelta(days=days - 1), end, PeriodKind.DAY)


def _reps(team: Team) -> list[User]:
    return list(
        User.objects.filter(team__path__startswith=team.path, is_active=True, role=Role.REP)
        .select_related("team")
        .order_by("team__path", "username")
    )


def _pct(value: Decimal) -> str:
    return f"{value:.1f}"


def detect_conversion_gap(rule: BottleneckRule, team: Team, as_of: dt.date) -> list[Hit]:
    period = _window(as_of, rule.lookback_days)
    reps = _reps(team)
    scope = q.ScopeFilter(team_path=team.path)
    stages = q.StageOrders.load()
    visits = q.grouped(Metric.VISITS, period, scope, by="rep", stages=stages)
    won = q.grouped(Metric.WON_DEALS, period, scope, by="rep", stages=stages)
    by_group: dict[int, list[User]] = {}
    for rep in reps:
        by_group.setdefault(rep.team_id, []).append(rep)
    hits = []
    for members in by_group.values():
        sample = [r for r in members if visits.get(r.pk, 0) >= rule.min_sample]
        if len(sample) < 2:
            continue
        team_visits = sum(visits.get(r.pk, 0) for r in sample)
        team_won = sum(won.get(r.pk, 0) for r in sample)
        if not team_won:
            continue
        avg = Decimal(team_won) / team_visits
        for r in sample:
            rate = Decimal(won.get(r.pk, 0)) / visits[r.pk]
            if rate * 100 <= avg * (100 - rule.threshold):
                gap = (avg - rate) * 100 / avg
                hits.append(
                    Hit(
                        r,
                        {
                            "visits": visits[r.pk],
                            "won": won.get(r.pk, 0),
                            "rate_pct": _pct(rate * 100),
                            "team_rate_pct": _pct(avg * 100),
                            "gap_pct": _pct(gap),
                            "days": rule.lookback_days,
                            "team": r.team.name,
                        },
                    )
                )
    return hits


def detect_visits_below_pace(rule: BottleneckRule, team: Team, as_of: dt.date) -> list[Hit]:
    from salesloop.targets.pace import pace_for

    reps = {r.pk: r for r in _reps(team)}
    rank = {PeriodKind.WEEK: 0, PeriodKind.MONTH: 1}
    chosen: dict[int, Target] = {}
    rows = Target.objects.filter(
        metric=Metric.VISITS,
        status=TS.APPROVED,
        tier="",
        rep_id__in=list(reps),
        period_kind__in=list(rank),
        period_start__lte=as_of,
        period_end__gte=as_of,
    )
    for t in rows:
        if t.rep_id not in chosen or rank[t.period_kind] < rank[chosen[t.rep_id].period_kind]:
            chosen[t.rep_id] = t
    settings = TargetSettings.current()
    hits = []
    stages = q.StageOrders.load()
    for rep_id, t in chosen.items():
        period = Period(t.period_start, t.period_end, t.period_kind)
        done = q.grouped(Metric.VISITS, period, q.ScopeFilter(rep_ids=(rep_id,)), by="total", stages=stages)
        actual = Decimal(done.get(None, 0))
        pace = pace_for(
            target=t.amount,
            actual=actual,
            period=period,
            as_of=as_of,
            calendar=WorkCalendar.for_period(period),
            at_risk_pct=settings.pace_at_risk_pct,
            behind_pct=settings.pace_behind_pct,
        )
        if pace.elapsed_days < rule.min_sample or not pace.expected:
            continue
        if actual * pace.total_days * 100 < t.amount * pace.elapsed_days * rule.threshold:
            hits.append(
                Hit(
                    reps[rep_id],
                    {
                        "target": str(t.amount),
                        "actual": str(actual),
                        "expected": str(pace.expected),
                        "pace_pct": str(pace.pace_pct),
                        "elapsed_days": pace.elapsed_days,
                        "total_days": pace.total_days,
                        "period": period.label(),
                    },
                )
            )
    return hits


def usual_stage_days(period: Period) -> dict[int, tuple[Decimal, int]]:
    """Average completed stay per stage (days) among stays that ended in ``period``, and how many."""
    start, end = bounds(period)
    dur = f"{epoch_seconds('x.next_at')} - {epoch_seconds('x.changed_at')}"
    sql = (
        f"SELECT x.to_stage_id, AVG({dur}), COUNT(*) FROM ("
        "  SELECT sc.to_stage_id, sc.changed_at,"
        "         LEAD(sc.changed_at) OVER (PARTITION BY sc.opportunity_id ORDER BY sc.changed_at, sc.id) AS next_at"
        "  FROM pipeline_stagechange sc"
        ") x WHERE x.next_at >= %s AND x.next_at < %s GROUP BY x.to_stage_id"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [start, end])
        return {sid: (Decimal(str(avg)) / 86400, int(n)) for sid, avg, n in cur.fetchall()}


def detect_stage_stall(rule: BottleneckRule, team: Team, as_of: dt.date) -> list[Hit]:
    usual = usual_stage_days(_window(as_of, rule.lookback_days))
    now = timezone.now()
    reps = {r.pk: r for r in _reps(team)}
    deals = (
        Opportunity.objects.filter(
            owner_id__in=list(reps),
            closed_at__isnull=True,
            stage__is_won=False,
            stage__is_lost=False,
            stage_entered_at__isnull=False,
        )
        .select_related("stage")
        .order_by("-amount", "id")
    )
    stalled: dict[int, list[dict]] = {}
    for d in deals:
        avg, n = usual.get(d.stage_id, (None, 0))
        if avg is None or n < rule.min_sample:
            continue
        days = Decimal((now - d.stage_entered_at).total_seconds()) / 86400
        if days * 100 > avg * rule.threshold:
            stalled.setdefault(d.owner_id, []).append(
                {
                    "id": d.pk,
                    "name": d.name,
                    "stage": d.stage.name,
                    "days": _pct(days),
                    "usual_days": _pct(avg),
                    "amount": str(d.amount),
                }
            )
    return [Hit(reps[rep_id], {"deals": items[:5], "count": len(items)}) for rep_id, items in stalled.items()]


def detect_deal_size_falling(rule: BottleneckRule, team: Team, as_of: dt.date) -> list[Hit]:
    hv = list(TargetSettings.current().high_value_key_tiers or [])
    scope = q.ScopeFilter(team_path=team.path)
    now_cells = cells(_window(as_of, rule.lookback_days), scope, hv)
    before_cells = cells(_window(as_of, rule.lookback_days, back=1), scope, hv)

    def per_rep(data) -> dict[int, tuple[int, int]]:
        out: dict[int, tuple[int, int]] = {}
        for (rep, _tier), c in data.items():
            cents, bp = out.get(rep, (0, 0))
            out[rep] = (cents + c.revenue_cents, bp + c.deal_bp)
        return out

    now_by, before_by = per_rep(now_cells), per_rep(before_cells)
    reps = {r.pk: r for r in _reps(team)}
    hits = []
    for rep_id, rep in reps.items():
        (c1, bp1), (c0, bp0) = now_by.get(rep_id, (0, 0)), before_by.get(rep_id, (0, 0))
        if bp1 < rule.min_sample * 10000 or bp0 < rule.min_sample * 10000:
            continue
        avg1 = Decimal(c1) / Decimal(bp1) * 100
        avg0 = Decimal(c0) / Decimal(bp0) * 100
        if avg0 > 0 and avg1 * 100 <= avg0 * (100 - rule.threshold):
            hits.append(
                Hit(
                    rep,
                    {
                        "avg_now": f"{avg1:.2f}",
                        "avg_before": f"{avg0:.2f}",
                        "fall_pct": _pct((avg0 - avg1) * 100 / avg0),
                        "deals_now": f"{Decimal(bp1) / 10000:.2f}",
                        "deals_before": f"{Decimal(bp0) / 10000:.2f}",
                        "days": rule.lookback_days,
                    },
                )
            )
    return hits


DETECTORS = {
    BottleneckCode.CONVERSION_GAP: detect_conversion_gap,
    BottleneckCode.VISITS_BELOW_PACE: detect_visits_below_pace,
    BottleneckCode.STAGE_STALL: detect_stage_stall,
    BottleneckCode.DEAL_SIZE_FALLING: detect_deal_size_falling,
}


def explain(flag: Flag) -> str:
    """The flag's reason in the reader's language, with its numbers."""
    f = flag.facts
    code = flag.rule.code
    if code == BottleneckCode.CONVERSION_GAP:
        return _(
            "Conversion %(rate)s%% (%(won)s won from %(visits)s visits in %(days)s days) is %(gap)s%% below "
            "the %(team)s average of %(team_rate)s%%."
        ) % {
            "rate": f["rate_pct"],
            "won": f["won"],
            "visits": f["visits"],
            "days": f["days"],
            "gap": f["gap_pct"],
            "team": f["team"],
            "team_rate": f["team_rate_pct"],
        }
    if code == BottleneckCode.VISITS_BELOW_PACE:
        return _(
            "%(actual)s visits against %(expected)s expected by now (%(pace)s%% of pace; target %(target)s for "
            "%(period)s, %(elapsed)s of %(total)s working days gone)."
        ) % {
            "actual": f["actual"],
            "expected": f["expected"],
            "pace": f["pace_pct"],
            "target": f["target"],
            "period": f["period"],
            "elapsed": f["elapsed_days"],
            "total": f["total_days"],
        }
    if code == BottleneckCode.STAGE_STALL:
        first = f["deals"][0]
        return _(
            "%(count)s deal(s) stalled; e.g. %(name)s has been in %(stage)s for %(days)s days (usual %(usual)s)."
        ) % {
            "count": f["count"],
            "name": first["name"],
            "stage": first["stage"],
            "days": first["days"],
            "usual": first["usual_days"],
        }
    return _("Average won deal %(now)s over the last %(days)s days, down %(fall)s%% from %(before)s.") % {
        "now": f["avg_now"],
        "days": f["days"],
        "fall": f["fall_pct"],
        "before": f["avg_before"],
    }


@dataclass
class DetectResult:
    opened: int = 0
    refreshed: int = 0
    cleared: int = 0
    tasks_created: int = 0


def _coaching_task(flag: Flag, rule: BottleneckRule) -> Task | None:
    from salesloop.targets.services import team_for_lead

    lead = team_for_lead(flag.rep.team)
    if lead is None or lead.pk == flag.rep_id:
        return None
    return Task.objects.create(
        title=(_("Coach %(rep)s: %(rule)s") % {"rep": flag.rep, "rule": rule.get_code_display()})[:200],
        kind=TaskKind.COACHING,
        due_at=timezone.now() + dt.timedelta(hours=rule.coaching_due_hours),
        assignee=lead,
        source=f"targets.flag:{flag.pk}",
        notes=explain(flag),
    )


@transaction.atomic
def bottlenecks_detect(*, team: Team | None = None, as_of: dt.date | None = None) -> DetectResult:
    """Run every detector over ``team``'s subtree (default: the whole organisation) and reconcile
    the flags and coaching tasks (see the module docstring)."""
    as_of = as_of or timezone.localdate()
    team = team or Team.objects.filter(parent__isnull=True).order_by("path").first()
    result = DetectResult()
    if team is None:
        return result
    now = timezone.now()
    in_scope = User.objects.filter(team__path__startswith=team.path).values("pk")
    for rule in BottleneckRule.objects.order_by("code"):
        hits = DETECTORS[rule.code](rule, team, as_of) if rule.is_active else []
        hit_ids = set()
        for hit in hits:
            hit_ids.add(hit.rep.pk)
            flag = Flag.objects.select_for_update().filter(rule=rule, rep=hit.rep, status=FlagStatus.OPEN).first()
            if flag is None:
                flag = Flag.objects.create(
                    rule=rule, rep=hit.rep, team=hit.rep.team, opened_at=now, last_seen_at=now, facts=hit.facts
                )
                result.opened += 1
            else:
                Flag.objects.filter(pk=flag.pk).update(facts=hit.facts, last_seen_at=now)
                flag.facts = hit.facts
                result.refreshed += 1
            if flag.task_id is None:
                flag.rule = rule
                task = _coaching_task(flag, rule)
                if task is not None:
                    Flag.objects.filter(pk=flag.pk).update(task=task)
                    result.tasks_created += 1
        stale = Flag.objects.filter(rule=rule, status=FlagStatus.OPEN, rep_id__in=in_scope).exclude(rep_id__in=hit_ids)
        for flag in stale.select_related("task"):
            if flag.task is not None and flag.task.status == TaskStatus.OPEN:
                note = _("Cancelled automatically: the flag cleared because the metric recovered.")
                Task.objects.filter(pk=flag.task_id, status=TaskStatus.OPEN).update(
                    status=TaskStatus.CANCELLED,
                    notes=f"{flag.task.notes}\n{note}".strip(),
                    version=F("version") + 1,
                    updated_at=now,
                )
            Flag.objects.filter(pk=flag.pk).update(status=FlagStatus.CLEARED, cleared_at=now)
            result.cleared += 1
    return result
