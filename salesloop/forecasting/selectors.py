"""Reads for forecasting: which scopes a person may forecast, and the periods forecasts are for.

Visibility is the commit roll-up's line (:func:`salesloop.forecasting.commit.may_view_scope`,
itself the deal rule of ``org.access``): a rep forecasts their own book, a group lead, manager or
director their team's subtree (the whole company only from the root of the tree), admin
everything. Forecasts are a sales-line tool (the menu shows them to reps and leaders): the
support roles get 403 on the whole area rather than an empty page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext as _

from salesloop.analytics.queries.actuals import ScopeFilter
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.forecasting.commit import may_view_scope
from salesloop.forecasting.models import PeriodKind, ScopeKind
from salesloop.org.models import LEADING_ROLES, OrgSettings, Role, Team, User
from salesloop.targets.periods import Period, period_containing

#: Roles that may use forecasting at all (everyone else: 403).
FORECAST_ROLES = frozenset({Role.REP, *LEADING_ROLES, Role.ADMIN})


@dataclass(frozen=True)
class ForecastScope:
    """Whose revenue a forecast is about: the company, a team's subtree, or one rep."""

    kind: str
    id: int | None
    label: str
    team_path: str | None = None

    @property
    def filter(self) -> ScopeFilter:
        if self.kind == ScopeKind.TEAM:
            return ScopeFilter(team_path=self.team_path)
        if self.kind == ScopeKind.REP:
            return ScopeFilter(rep_ids=(self.id,))
        return ScopeFilter()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id or 0}"


def company_scope() -> ForecastScope:
    return ForecastScope(ScopeKind.COMPANY, None, str(_("Company")))


def team_scope(team: Team) -> ForecastScope:
    return ForecastScope(ScopeKind.TEAM, team.pk, team.name, team.path)


def rep_scope(user: User) -> ForecastScope:
    return ForecastScope(ScopeKind.REP, user.pk, str(user))


def may_forecast(user: User) -> bool:
    return user.is_authenticated and user.is_active and (user.is_superuser or user.role in FORECAST_ROLES)


def ensure_may_forecast(user: User) -> None:
    if not may_forecast(user):
        raise Forbidden(_("Forecasts are for the sales line."))


def may_see(user: User, scope: ForecastScope) -> bool:
    return may_forecast(user) and may_view_scope(user, scope_kind=scope.kind, scope_id=scope.id)


def scope_for(user: User, kind: str | None, scope_id: int | None) -> ForecastScope:
    """The scope asked for, checked: 403 for roles outside forecasting, 404 for a scope that
    does not exist or that ``user`` may not see, 422 for a malformed request. No kind → the
    widest scope ``user`` sees (company, their team, or their own book)."""
    ensure_may_forecast(user)
    if not kind:
        return default_scope(user)
    if kind not in ScopeKind.values:
        raise FieldErrors({"scope_kind": [_("Choose company, team or rep.")]})
    if kind == ScopeKind.COMPANY:
        scope = company_scope()
    else:
        if scope_id is None:
            raise FieldErrors({"scope_id": [_("This scope needs an id.")]})
        if kind == ScopeKind.TEAM:
            team = Team.objects.filter(pk=scope_id).first()
            if team is None:
                raise Http404
            scope = team_scope(team)
        else:
            rep = User.objects.filter(pk=scope_id).first()
            if rep is None:
                raise Http404
            scope = rep_scope(rep)
    if not may_see(user, scope):
        raise Http404
    return scope


def default_scope(user: User) -> ForecastScope:
    if user.is_superuser or user.role == Role.ADMIN:
        return company_scope()
    if user.role in LEADING_ROLES and user.team_id is not None:
        return company_scope() if user.team.parent_id is None else team_scope(user.team)
    return rep_scope(user)


def visible_scopes(user: User) -> list[ForecastScope]:
    """Every scope ``user`` may forecast, widest first (the picker's options)."""
    if not may_forecast(user):
        return []
    out: list[ForecastScope] = []
    if may_see(user, company_scope()):
        out.append(company_scope())
    teams = Team.objects.order_by("path")
    people = User.objects.filter(is_active=True, role__in=[Role.REP, *LEADING_ROLES]).select_related("team")
    if not (user.is_superuser or user.role == Role.ADMIN):
        if user.role in LEADING_ROLES and user.team_id is not None:
            teams = teams.filter(path__startswith=user.team.path)
            people = people.filter(team__path__startswith=user.team.path)
        else:
            teams = teams.none()
            people = people.filter(pk=user.pk)
    out.extend(team_scope(t) for t in teams)
    out.extend(rep_scope(u) for u in sorted(people, key=lambda u: str(u).lower()))
    return out


def snapshot_scopes() -> list[ForecastScope]:
    """The scopes snapshotted every week: the company, every team, every active rep and lead."""
    scopes = [company_scope()]
    scopes.extend(team_scope(t) for t in Team.objects.order_by("path"))
    people = User.objects.filter(is_active=True, role__in=[Role.REP, Role.GROUP_LEAD]).order_by("pk")
    scopes.extend(rep_scope(u) for u in people)
    return scopes


# Periods ----------------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)


def fiscal_start_month() -> int:
    return OrgSettings.current().fiscal_year_start_month


def parse_period(text: str | None, *, today: dt.date, fiscal_start: int | None = None) -> Period:
    """``YYYY-MM`` (a month) or ``YYYY-Qn`` (quarter n of the fiscal year that starts in YYYY);
    empty → the current quarter. Anything else is a 422 on ``period``."""
    fiscal_start = fiscal_start or fiscal_start_month()
    if not text:
        return period_containing(PeriodKind.QUARTER, today, fiscal_start_month=fiscal_start)
    if m := _MONTH.match(text.strip()):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1900 < year < 3000:
            return period_containing(PeriodKind.MONTH, dt.date(year, month, 1), fiscal_start_month=fiscal_start)
    if m := _QUARTER.match(text.strip()):
        year, quarter = int(m.group(1)), int(m.group(2))
        if 1900 < year < 3000:
            index = year * 12 + (fiscal_start - 1) + (quarter - 1) * 3
            first = dt.date(index // 12, index % 12 + 1, 1)
            return period_containing(PeriodKind.QUARTER, first, fiscal_start_month=fiscal_start)
    raise FieldErrors({"period": [_("Use YYYY-MM for a month or YYYY-Qn for a fiscal quarter.")]})


def period_code(period: Period, *, fiscal_start: int | None = None) -> str:
    """The inverse of :func:`parse_period`."""
    if period.kind == PeriodKind.MONTH:
        return period.start.strftime("%Y-%m")
    fiscal_start = fiscal_start or fiscal_start_month()
    offset = (period.start.month - fiscal_start) % 12
    year = period.start.year if period.start.month >= fiscal_start else period.start.year - 1
    return f"{year}-Q{offset // 3 + 1}"


def periods_around(
    kind: str, day: dt.date, *, before: int, after: int, fiscal_start: int | None = None
) -> list[Period]:
    """``before`` periods of ``kind`` before the one containing ``day``, that one, and ``after`` more."""
    fiscal_start = fiscal_start or fiscal_start_month()
    here = period_containing(kind, day, fiscal_start_month=fiscal_start)
    out = [here]
    p = here
    for _i in range(before):
        p = period_containing(kind, p.start - dt.timedelta(days=1), fiscal_start_month=fiscal_start)
        out.insert(0, p)
    p = here
    for _i in range(after):
        p = period_containing(kind, p.end + dt.timedelta(days=1), fiscal_start_month=fiscal_start)
        out.append(p)
    return out
