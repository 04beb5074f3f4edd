"""The reps' commit roll-up (issue #7 §4 (c)): what the people in a scope call for a period.

Two kinds of number live side by side:

* **Live category roll-ups**, from the deals as they stand now. Each deal falls in one forecast
  category (seed 001 销售预测技巧; the categories of Salesforce's collaborative forecasts):
  a won deal is ``closed``; an open deal takes the category its owner or a manager set, or
  ``pipeline`` when nobody did; an open deal still marked ``closed`` (a won deal that was reopened)
  counts as ``commit``, the strongest open category. Roll-ups are cumulative:
  closed ⊂ commit ⊂ best case ⊂ pipeline. ``omitted`` and lost deals never count.
  A deal counts in the period by its close date when won (the organisation's local day of
  ``closed_at``) and by its expected close date when open.
* **Submitted and adjusted numbers**: each person's latest :class:`Submission` for exactly this
  period, and the managers' :class:`Adjustment` rows kept beside it (never over it).

The adjustment rule, for a ``viewer``:
  for each person, among the adjustments of their latest submission, keep those made by the
  viewer or by a manager whose team lies inside the viewer's team subtree ("at or below the
  viewer"); of these, the one made by the manager *nearest the viewer* (the shallowest team in the
  tree) applies, and if that manager adjusted more than once (or two managers sit on the same
  team node), the latest. No such adjustment → the person's own submitted number.
  ``viewer=None`` (and an admin or superuser viewer, who stands above the tree) → the top-most
  adjustment, i.e. the same rule seen from the root. A viewer who leads nobody (a rep, support
  roles) sees owners' own numbers: nobody is below them to adjust.
  Adjustments belong to the submission they were made on: a resubmission starts afresh, because
  a manager adjusted *that* number, not whatever the rep calls next.

Who is counted (``reps_total``): the active reps of the scope, plus anyone else in it (a lead,
a manager) who owns a deal counted in the period or submitted for it — a leader's own book is
called like a rep's, but a leader without one is not "missing" a submission.

``as_of`` keeps backtests honest: only submissions and adjustments made strictly before it are
used. (The live roll-ups are always the deals as they stand now; the roll-ups as they stood when a
rep submitted are stored on the submission itself.)

Money: sums of Decimal amounts in the organisation's currency (``OrgSettings.currency``); deals
and submissions in another currency are left out, since there is no exchange-rate table to convert
them with.

Access is the caller's job (see :func:`may_view_scope`): these functions compute; they do not
decide who may see the answer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.core.errors import Forbidden
from salesloop.core.money import quantize_money
from salesloop.forecasting.models import Adjustment, Category, ScopeKind, Submission
from salesloop.org import access
from salesloop.org.models import LEADING_ROLES, OrgSettings, Role, Team, User
from salesloop.pipeline.models import Opportunity
from salesloop.targets.periods import PeriodKind, period_containing

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CommitRollup:
    submitted: Decimal  # sum of the scope's reps' latest submitted numbers for the period
    adjusted: Decimal  # the same with managers' adjustments applied (see the module docstring)
    closed: Decimal  # live roll-ups from the deals' categories (cumulative):
    commit: Decimal  # closed ⊂ commit ⊂ best_case ⊂ pipeline; omitted and lost never count
    best_case: Decimal
    pipeline: Decimal
    currency: str
    reps_submitted: int
    reps_total: int


@dataclass(frozen=True)
class CategoryTotals:
    """One person's (or a scope's) cumulative live roll-ups."""

    closed: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO

    def __add__(self, other: CategoryTotals) -> CategoryTotals:
        return CategoryTotals(
            self.closed + other.closed,
            self.commit + other.commit,
            self.best_case + other.best_case,
            self.pipeline + other.pipeline,
        )


@dataclass
class RepCommit:
    """One person's line in a roll-up: live totals, latest submission and the adjustments on it."""

    owner: User
    totals: CategoryTotals
    submission: Submission | None = None
    adjustments: list[Adjustment] = field(default_factory=list)  # newest first, all of them
    applied: Adjustment | None = None  # the one the viewer's rule picks

    @property
    def submitted(self) -> Decimal | None:
        return self.submission.amount if self.submission is not None else None

    @property
    def adjusted(self) -> Decimal | None:
        if self.applied is not None:
            return self.applied.amount
        return self.submitted


# Periods and scopes -----------------------------------------------------------------------------


def local_day_bounds(period_start: dt.date, period_end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) as aware datetimes: the organisation's local days ``period_start..period_end``."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(period_start, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time.min), tz)
    return start, end


def scope_people(*, scope_kind: str, scope_id: int | None) -> QuerySet[User]:
    """The people whose books make up a scope: everyone (company), a team's subtree, one rep."""
    if scope_kind == ScopeKind.COMPANY:
        return User.objects.all()
    if scope_kind == ScopeKind.TEAM:
        team = Team.objects.get(pk=scope_id)
        return User.objects.filter(team__path__startswith=team.path)
    if scope_kind == ScopeKind.REP:
        return User.objects.filter(pk=scope_id)
    raise ValueError(f"Unknown scope kind {scope_kind!r}")


def may_view_scope(viewer: User, *, scope_kind: str, scope_id: int | None) -> bool:
    """May ``viewer`` see the commit roll-up of this scope? The same line as deals (org.access):
    admin everything, a leader their team's subtree, anyone their own book."""
    if viewer.is_superuser or viewer.role == Role.ADMIN:
        return True
    if scope_kind == ScopeKind.REP:
        if scope_id == viewer.pk:
            return True
        if viewer.role not in LEADING_ROLES or viewer.team_id is None:
            return False
        return User.objects.filter(pk=scope_id, team__path__startswith=viewer.team.path).exists()
    if viewer.role not in LEADING_ROLES or viewer.team_id is None:
        return False
    if scope_kind == ScopeKind.TEAM:
        return Team.objects.filter(pk=scope_id, path__startswith=viewer.team.path).exists()
    # The whole company: only a leader sitting on the root of the tree.
    return viewer.team.parent_id is None


def period_deals(*, people: QuerySet[User], period_start: dt.date, period_end: dt.date, currency: str) -> QuerySet:
    """Deals that count in the period: won ones by close day, open ones by expected close date.
    Lost deals are left out here already, so no category can make them count."""
    start, end = local_day_bounds(period_start, period_end)
    won_in_period = Q(stage__is_won=True) & (
        Q(closed_at__gte=start, closed_at__lt=end)
        | Q(closed_at__isnull=True, expected_close_date__range=(period_start, period_end))
    )
    open_in_period = Q(stage__is_won=False, stage__is_lost=False, expected_close_date__range=(period_start, period_end))
    return Opportunity.objects.filter(owner__in=people.values("pk"), currency=currency).filter(
        won_in_period | open_in_period
    )


def effective_category(deal: Opportunity) -> str:
    """The category a deal counts in (same rule as the SQL in :func:`totals_by_owner`)."""
    if deal.stage.is_lost:
        return ""
    if deal.stage.is_won:
        return Category.CLOSED
    row = getattr(deal, "forecast_category", None)
    category = row.category if row is not None else Category.PIPELINE
    return Category.COMMIT if category == Category.CLOSED else category


def totals_by_owner(deals: QuerySet) -> dict[int, CategoryTotals]:
    """Cumulative category sums per owner, in one grouped query."""
    cat = "forecast_category__category"
    won = Q(stage__is_won=True)
    is_open = Q(stage__is_won=False)

    def total(condition: Q):
        return Coalesce(Sum("amount", filter=condition), Value(ZERO), output_field=DecimalField())

    rows = (
        deals.order_by()
        .values("owner_id")
        .annotate(
            won=total(won),
            commit=total(is_open & Q(**{f"{cat}__in": [Category.COMMIT, Category.CLOSED]})),
            best=total(is_open & Q(**{cat: Category.BEST_CASE})),
            pipe=total(is_open & (Q(**{cat: Category.PIPELINE}) | Q(forecast_category__isnull=True))),
        )
    )
    out: dict[int, CategoryTotals] = {}
    for r in rows:
        closed = quantize_money(r["won"])
        commit = closed + quantize_money(r["commit"])
        best = commit + quantize_money(r["best"])
        out[r["owner_id"]] = CategoryTotals(closed, commit, best, best + quantize_money(r["pipe"]))
    return out


# Submissions and adjustments --------------------------------------------------------------------


def latest_submissions(
    *, people: QuerySet[User], period_start: dt.date, period_end: dt.date, as_of: dt.datetime | None, currency: str
) -> dict[int, Submission]:
    """Each person's latest submission for exactly this period (made before ``as_of``)."""
    qs = Submission.objects.filter(
        owner__in=people.values("pk"), period_start=period_start, period_end=period_end, currency=currency
    )
    if as_of is not None:
        qs = qs.filter(submitted_at__lt=as_of)
    latest: dict[int, Submission] = {}
    for sub in qs.order_by("owner_id", "-submitted_at", "-id"):
        latest.setdefault(sub.owner_id, sub)
    return latest


def _depth(path: str) -> int:
    return path.count("/")


def applied_adjustment(adjustments: list[Adjustment], viewer: User | None) -> Adjustment | None:
    """The adjustment the viewer's number uses (rule in the module docstring).

    ``adjustments`` need ``adjusted_by__team`` loaded; an adjuster who has since left the tree
    (no team) can only count for their own view.
    """
    if viewer is not None and not (viewer.is_superuser or viewer.role == Role.ADMIN):
        if viewer.role not in LEADING_ROLES:
            return None
        root = viewer.team.path if viewer.team_id else None
    else:
        viewer, root = None, "/"
    best: tuple[int, dt.datetime, int] | None = None
    chosen: Adjustment | None = None
    for adj in adjustments:
        by = adj.adjusted_by
        path = by.team.path if by.team_id else ""
        mine = viewer is not None and by.pk == viewer.pk
        if not mine and (root is None or not path or not path.startswith(root)):
            continue
        depth = 0 if mine else _depth(path)
        # Nearest the viewer = shallowest; then latest. Negate so that max() means "best".
        key = (-depth, adj.adjusted_at, adj.pk)
        if best is None or key > best:
            best, chosen = key, adj
    return chosen


def adjustments_for(submissions: list[Submission], as_of: dt.datetime | None) -> dict[int, list[Adjustment]]:
    qs = Adjustment.objects.filter(submission__in=[s.pk for s in submissions]).select_related(
        "adjusted_by", "adjusted_by__team"
    )
    if as_of is not None:
        qs = qs.filter(adjusted_at__lt=as_of)
    out: dict[int, list[Adjustment]] = defaultdict(list)
    for adj in qs.order_by("-adjusted_at", "-id"):
        out[adj.submission_id].append(adj)
    return out


# The roll-up ------------------------------------------------------------------------------------


def forecasters(*, people: QuerySet[User], with_numbers: set[int]) -> QuerySet[User]:
    """Who is expected to call a number: active reps, plus anyone else with deals or a submission
    in the period (a lead's own book)."""
    return people.filter(Q(is_active=True, role=Role.REP) | Q(pk__in=with_numbers))


def commit_by_rep(
    *,
    scope_kind: str,
    scope_id: int | None,
    period_start: dt.date,
    period_end: dt.date,
    viewer: User | None = None,
    as_of: dt.datetime | None = None,
    currency: str | None = None,
) -> list[RepCommit]:
    """One line per forecaster in the scope, ordered by name (a handful of queries in all)."""
    currency = currency or OrgSettings.current().currency
    people = scope_people(scope_kind=scope_kind, scope_id=scope_id)
    totals = totals_by_owner(
        period_deals(people=people, period_start=period_start, period_end=period_end, currency=currency)
    )
    subs = latest_submissions(
        people=people, period_start=period_start, period_end=period_end, as_of=as_of, currency=currency
    )
    adjs = adjustments_for(list(subs.values()), as_of)
    lines = []
    for person in forecasters(people=people, with_numbers=set(totals) | set(subs)).select_related("team"):
        sub = subs.get(person.pk)
        history = adjs.get(sub.pk, []) if sub is not None else []
        lines.append(
            RepCommit(
                owner=person,
                totals=totals.get(person.pk, CategoryTotals()),
                submission=sub,
                adjustments=history,
                applied=applied_adjustment(history, viewer),
            )
        )
    lines.sort(key=lambda line: (str(line.owner).lower(), line.owner.pk))
    return lines


def rollup_of(lines: list[RepCommit], currency: str) -> CommitRollup:
    totals = sum((line.totals for line in lines), CategoryTotals())
    submitted = [line for line in lines if line.submission is not None]
    return CommitRollup(
        submitted=sum((line.submitted for line in submitted), ZERO),
        adjusted=sum((line.adjusted for line in submitted), ZERO),
        closed=totals.closed,
        commit=totals.commit,
        best_case=totals.best_case,
        pipeline=totals.pipeline,
        currency=currency,
        reps_submitted=len(submitted),
        reps_total=len(lines),
    )


def commit_rollup(
    *,
    scope_kind: str,
    scope_id: int | None,
    period_start: dt.date,
    period_end: dt.date,
    viewer: User | None = None,
    as_of: dt.datetime | None = None,
) -> CommitRollup:
    """The scope's commit forecast for the period (rules in the module docstring).

    ``scope_kind`` is "company" (``scope_id`` ignored), "team" (the team's whole subtree) or
    "rep" (one person's book). ``submitted`` and ``adjusted`` add up only people who submitted;
    ``reps_submitted`` / ``reps_total`` tell how complete the call is.
    """
    currency = OrgSettings.current().currency
    lines = commit_by_rep(
        scope_kind=scope_kind,
        scope_id=scope_id,
        period_start=period_start,
        period_end=period_end,
        viewer=viewer,
        as_of=as_of,
        currency=currency,
    )
    return rollup_of(lines, currency)


# Who is above whom ------------------------------------------------------------------------------


def is_manager_of(user: User, owner: User) -> bool:
    """Is ``user`` a leader strictly above ``owner``: a leading role whose team subtree holds the
    owner, and not the owner themself?"""
    if user.pk == owner.pk or user.role not in LEADING_ROLES or not user.is_active:
        return False
    if user.team_id is None or owner.team_id is None:
        return False
    return owner.team.path.startswith(user.team.path)


def may_read_book(user: User, owner: User) -> bool:
    """May ``user`` see ``owner``'s forecast (their submissions and adjustments)? The same line
    as deals: admin everyone, a leader their subtree, anyone themself."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.pk == owner.pk or user.is_superuser or user.role == Role.ADMIN or is_manager_of(user, owner)


def may_categorise(user: User, owner: User) -> bool:
    return user.is_active and (user.pk == owner.pk or is_manager_of(user, owner))


def book_owner_for(viewer: User, owner_id: int | None) -> User:
    """Whose call sheet: the viewer's own, or a person in their line (else 404)."""
    if owner_id is None or owner_id == viewer.pk:
        return viewer
    owner = User.objects.select_related("team").filter(pk=owner_id).first()
    if owner is None or not may_read_book(viewer, owner):
        raise Http404
    return owner


def team_scope_for(viewer: User, team_id: int | None) -> tuple[str, int | None, str]:
    """The roll-up scope a leader asks for: a team in their subtree (default: their own team),
    or the whole company for admin (by default) and for a leader at the root of the tree.
    Reps and support roles → Forbidden; a team outside the viewer's subtree → 404."""
    is_admin = viewer.is_superuser or viewer.role == Role.ADMIN
    if not is_admin and viewer.role not in LEADING_ROLES:
        raise Forbidden(_("Only leaders see a team's forecast roll-up."))
    if team_id is None:
        if is_admin:
            return ScopeKind.COMPANY, None, str(_("Whole company"))
        if viewer.team_id is None:
            raise Http404
        team_id = viewer.team_id
    team = Team.objects.filter(pk=team_id).first()
    if team is None or not may_view_scope(viewer, scope_kind=ScopeKind.TEAM, scope_id=team.pk):
        raise Http404
    return ScopeKind.TEAM, team.pk, team.name


def visible_teams(viewer: User) -> list[Team]:
    """Teams whose roll-up the viewer may open (their subtree; all for admin)."""
    if viewer.is_superuser or viewer.role == Role.ADMIN:
        return list(Team.objects.order_by("path"))
    if viewer.role not in LEADING_ROLES or viewer.team_id is None:
        return []
    return list(Team.objects.filter(path__startswith=viewer.team.path).order_by("path"))


# Reads for the pages and the API ----------------------------------------------------------------


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The fiscal quarter containing ``today`` (the seed's forecast cadence: call the quarter)."""
    fiscal_start = OrgSettings.current().fiscal_year_start_month
    period = period_containing(PeriodKind.QUARTER, today or timezone.localdate(), fiscal_start_month=fiscal_start)
    return period.start, period.end


def sheet_deals(*, owner: User, viewer: User, period_start: dt.date, period_end: dt.date) -> list[Opportunity]:
    """The owner's deals that count in the period (as far as ``viewer`` may read them), soonest
    close first, each with ``counts_as`` (its effective category) set."""
    deals = period_deals(
        people=User.objects.filter(pk=owner.pk),
        period_start=period_start,
        period_end=period_end,
        currency=OrgSettings.current().currency,
    )
    rows = list(
        access.restrict(deals, viewer, "read")
        .select_related("stage", "account", "owner__team", "forecast_category")
        .order_by("expected_close_date", "id")
    )
    for deal in rows:
        deal.counts_as = effective_category(deal)
    return rows


def submission_history(*, owner: User, period_start: dt.date, period_end: dt.date) -> list[Submission]:
    """Every submission of the owner for the period, newest first, adjustments (newest first)
    prefetched with who made them."""
    adjustments = Adjustment.objects.select_related("adjusted_by").order_by("-adjusted_at", "-id")
    return list(
        Submission.objects.filter(owner=owner, period_start=period_start, period_end=period_end)
        .order_by("-submitted_at", "-id")
        .prefetch_related(Prefetch("adjustments", queryset=adjustments))
    )
