"""Meeting packs (seed 000 §二.1, seed 001 销售团队日常管理): morning, weekly and monthly.

A pack is a list of titled tables built from the selectors, so the page, the ``.xlsx`` and the
PDF show the same numbers (``targets.exports`` renders them). What each pack holds:

* **morning** (晨会, 15–20 minutes) — yesterday per rep ("visited 10, 3 intents, 1 into
  negotiation"), today's numbers, open bottleneck flags, key follow-ups due, blockers from
  yesterday's evening reports, month-to-date attainment;
* **weekly** (周例会) — the week's attainment per child, the variance attribution of revenue,
  flags, key deals (won in the week, biggest open in proposal/negotiation), blockers of the week;
* **monthly** (月度会议) — the same for the month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.core.errors import FieldErrors
from salesloop.org import access
from salesloop.org.models import Team, User
from salesloop.pipeline.models import Opportunity
from salesloop.targets import selectors
from salesloop.targets.bottlenecks import explain
from salesloop.targets.metrics import Metric
from salesloop.targets.models import Flag, FlagStatus, Tier
from salesloop.targets.periods import Period, PeriodKind, period_containing

PACK_KINDS = ("morning", "weekly", "monthly")


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


@dataclass
class Pack:
    kind: str
    team: Team
    period: Period
    as_of: dt.date
    title: str
    sections: list[Section]
    generated_at: dt.datetime
    board: selectors.TrackingBoard | None = None
    attribution: object | None = None
    today: selectors.TodayBoard | None = None


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 10**6 and value.as_tuple().exponent >= 0:
            return f"{value:,.0f}"
        return f"{value:,.2f}"
    return str(value)


def _pct(value) -> str:
    return "—" if value is None else f"{value}%"


def _board_section(board: selectors.TrackingBoard, key: str, title: str) -> Section:
    columns = [_("Team / rep")]
    for m in board.metrics:
        label = str(Metric(m).label)
        columns += [label, _("Target"), _("Attained"), _("Pace")]
    section = Section(key, title, columns)
    for row in [*board.rows, board.total]:
        cells = [row.label]
        for m in board.metrics:
            a = row.cells[m]
            cells += [_fmt(a.actual), _fmt(a.target), _pct(a.pace.attainment_pct), a.status_label]
        section.rows.append(cells)
    return section


def _flags_section(user: User, team: Team) -> Section:
    section = Section("flags", _("Bottleneck flags"), [_("Rep"), _("Detector"), _("Since"), _("Why"), _("Coach")])
    flags = (
        access.restrict(Flag.objects.all(), user, "read")
        .filter(status=FlagStatus.OPEN, rep__team__path__startswith=team.path)
        .select_related("rep", "rule", "task__assignee")
        .order_by("rep__username", "rule__code")
    )
    for f in flags:
        coach = str(f.task.assignee) if f.task_id else "—"
        section.rows.append([str(f.rep), f.rule.get_code_display(), f.opened_at.date().isoformat(), explain(f), coach])
    if not section.rows:
        section.note = _("No open flags.")
    return section


def _blockers_section(reports: list, title: str) -> Section:
    section = Section("blockers", title, [_("Date"), _("Rep"), _("Blockers"), _("Plan")])
    for r in reports:
        section.rows.append([r.date.isoformat(), str(r.user), r.blockers or "—", r.tomorrow_plan or "—"])
    if not section.rows:
        section.note = _("No blockers reported.")
    return section


def _key_deals_section(user: User, team: Team, period: Period) -> Section:
    section = Section("key_deals", _("Key deals"), [_("Deal"), _("Owner"), _("Stage"), _("Amount"), _("Close")])
    visible = access.restrict(Opportunity.objects.all(), user, "read").filter(owner__team__path__startswith=team.path)
    start, end = period.bounds()
    won = visible.filter(stage__is_won=True, closed_at__gte=start, closed_at__lt=end)
    open_ = visible.filter(closed_at__isnull=True, stage__code__in=["proposal", "negotiation"])
    for d in [
        *won.select_related("owner", "stage").order_by("-amount")[:10],
        *open_.select_related("owner", "stage").order_by("-amount")[:10],
    ]:
        close = d.closed_at.date() if d.closed_at else d.expected_close_date
        section.rows.append([d.name, str(d.owner), d.stage.name, _fmt(d.amount), close.isoformat() if close else "—"])
    return section


def _attribution_section(user: User, team: Team, period: Period):
    from salesloop.targets.attribution import DRIVER_LABELS, variance_attribution

    section = Section("attribution", _("Revenue variance attribution"), [_("Cause"), _("Amount"), _("Share of gap")])
    try:
        result = variance_attribution(user=user, scope=team, period=period)
    except FieldErrors as exc:
        section.note = "; ".join(m for msgs in exc.errors.values() for m in msgs)
        return section, None
    section.note = _("Target %(t)s, actual %(a)s (%(p)s attained), gap %(g)s.") % {
        "t": _fmt(result.target),
        "a": _fmt(result.actual),
        "p": _pct(result.attainment_pct),
        "g": _fmt(result.gap),
    }
    for (tier, driver), amount in sorted(result.by_tier_driver.items(), key=lambda kv: kv[1]):
        if amount:
            section.rows.append(
                [f"{Tier(tier).label} · {DRIVER_LABELS[driver]}", _fmt(amount), _pct(result.share_pct(amount))]
            )
    return section, result


def _today_sections(board: selectors.TodayBoard) -> list[Section]:
    labels = [str(Metric(m).label) for m in board.metrics]
    yesterday = Section(
        "yesterday", _("Yesterday (%(day)s)") % {"day": board.yesterday.isoformat()}, [_("Rep"), *labels]
    )
    today = Section("today", _("Today's numbers (%(day)s)") % {"day": board.day.isoformat()}, [_("Rep"), *labels])
    for row in board.rows:
        yesterday.rows.append([str(row.rep), *[_fmt(row.yesterday[m]) for m in board.metrics]])
        today.rows.append([str(row.rep), *[_fmt(row.today_targets[m]) for m in board.metrics]])
    yesterday.rows.append([_("Team"), *[_fmt(board.totals_yesterday[m]) for m in board.metrics]])
    today.rows.append([_("Team"), *[_fmt(board.totals_today[m]) for m in board.metrics]])
    follow = Section("follow_ups", _("Key follow-ups due"), [_("Due"), _("Who"), _("Task"), _("Account")])
    for t in board.follow_ups:
        follow.rows.append(
            [
                timezone.localtime(t.due_at).strftime("%m-%d %H:%M"),
                str(t.assignee),
                t.title,
                str(t.account) if t.account_id else "—",
            ]
        )
    if not follow.rows:
        follow.note = _("Nothing due.")
    return [yesterday, today, follow]


def pack_period(kind: str, as_of: dt.date) -> Period:
    fiscal = selectors.fiscal_start_month()
    if kind == "morning":
        return Period(as_of, as_of, PeriodKind.DAY)
    if kind == "weekly":
        return period_containing(PeriodKind.WEEK, as_of, fiscal_start_month=fiscal)
    return period_containing(PeriodKind.MONTH, as_of, fiscal_start_month=fiscal)


def pack_build(*, user: User, team: Team, kind: str, as_of: dt.date | None = None) -> Pack:
    """Build a pack for ``team``. Weekly and monthly cover the week/month containing ``as_of``
    (default: the previous week/month, the one a review meeting looks back on)."""
    if kind not in PACK_KINDS:
        raise FieldErrors({"kind": [_("Choose morning, weekly or monthly.")]})
    today = timezone.localdate()
    if as_of is None:
        as_of = today if kind == "morning" else (today - dt.timedelta(days=7 if kind == "weekly" else today.day))
    period = pack_period(kind, as_of)
    sections: list[Section] = []
    board = attribution = today_board = None
    if kind == "morning":
        today_board = selectors.today_board(user=user, team=team, day=as_of)
        sections += _today_sections(today_board)
        month = period_containing(PeriodKind.MONTH, as_of, fiscal_start_month=selectors.fiscal_start_month())
        board = selectors.tracking_board(
            user=user, team=team, period=month, as_of=as_of, metrics=[Metric.REVENUE, Metric.VISITS]
        )
        sections.append(_board_section(board, "month_to_date", _("Month to date")))
        sections.append(_flags_section(user, team))
        sections.append(_blockers_section(today_board.blockers, _("Blockers from last evening")))
        title = _("Morning meeting · %(team)s · %(day)s") % {"team": team.name, "day": as_of.isoformat()}
    else:
        board = selectors.tracking_board(
            user=user,
            team=team,
            period=period,
            as_of=min(today, period.end + dt.timedelta(days=1)),
            metrics=[Metric.REVENUE, Metric.WON_DEALS, Metric.VISITS, Metric.QUALIFIED_LEADS, Metric.PROPOSALS],
        )
        sections.append(_board_section(board, "attainment", _("Attainment")))
        attr_section, attribution = _attribution_section(user, team, period)
        sections.append(attr_section)
        sections.append(_flags_section(user, team))
        sections.append(_key_deals_section(user, team, period))
        reports = selectors.evening_blockers(
            rep_ids=User.objects.filter(team__path__startswith=team.path).values("pk"),
            start=period.start,
            end=min(period.end, today),
        )
        sections.append(_blockers_section(reports, _("Blockers reported")))
        name = _("Weekly review") if kind == "weekly" else _("Monthly review")
        title = f"{name} · {team.name} · {period.label()}"
    return Pack(kind, team, period, as_of, title, sections, timezone.now(), board, attribution, today_board)
