"""The demo organisation: company → regions → teams → groups, leaders, reps and support staff.

Small tables, so they go through the ORM (``Team.save`` keeps the materialised path). Each rep
gets a plan (seniority, win rate, speed, share of the book) that the book generator follows.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from salesloop.demo.geography import REGIONS, Region
from salesloop.demo.names import MOBILE_PREFIXES, person_name
from salesloop.demo.profile import DEMO_PASSWORD, DemoProfile, DemoSize
from salesloop.demo.seasons import Calendar
from salesloop.org.models import Membership, Role, Seniority, Team, TeamKind, User

COMPANY_NAME = "华信智造科技有限公司"
CHINESE_NUMERALS = "一二三四五六七八九十"
SUPPORT_ROLES = (
    ("finance", Role.FINANCE),
    ("legal", Role.LEGAL),
    ("aftersales", Role.AFTER_SALES),
    ("marketing", Role.MARKETING),
)


@dataclass
class RepPlan:
    index: int
    user_id: int
    username: str
    kind: str
    region: Region
    start_index: int  # first day of the history window the rep works (0 = the whole window)
    win_rate: float
    visit_skill: float
    lead_skill: float
    speed: float
    book_weight: float
    activity_weight: float
    accounts: int = 0
    opportunities: int = 0
    activities: int = 0
    orders: int = 0


@dataclass
class Organisation:
    company: Team
    reps: list[RepPlan]
    users: int
    teams: int
    memberships: int


def _numeral(n: int) -> str:
    return CHINESE_NUMERALS[n] if n < len(CHINESE_NUMERALS) else str(n + 1)


def build_organisation(
    *, size: DemoSize, profile: DemoProfile, calendar: Calendar, seed: int
) -> Organisation:
    if size.regions > len(REGIONS):
        raise ValueError(f"At most {len(REGIONS)} regions are defined.")
    rng = random.Random(f"{seed}:organisation")
    password = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 per user would take minutes
    as_of = calendar.as_of
    people: list[dict] = []  # user rows waiting for bulk_create
    memberships: list[tuple[int, Team, bool, str, Decimal, dt.date, dt.date | None]] = []
    leads_of: dict[int, int] = {}  # position in people → team id it leads

    def person(username: str, role: str, team: Team, tenure: tuple[int, int], **extra) -> int:
        surname, given = person_name(rng)
        start = as_of - dt.timedelta(days=rng.randint(*tenure))
        people.append(
            {
                "username": username,
                "password": password,
                "first_name": given,
                "last_name": surname,
                "display_name": surname + given,
                "email": f"{username}@example.com",
                "phone": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
                "role": role,
                "team": team,
                "date_joined": dt.datetime.combine(start, dt.time(9), tzinfo=calendar.tz),
                **extra,
            }
        )
        return len(people) - 1

    company = Team.objects.create(name="华信智造", kind=TeamKind.COMPANY, region="")
    teams = 1
    leader_tenure = (3 * 365, 9 * 365)
    director = person("director", Role.DIRECTOR, company, leader_tenure)
    leads_of[director] = company.pk
    for code, role in SUPPORT_ROLES:
        person(code, role, company, (365, 5 * 365))
    person("admin", Role.ADMIN, company, (2 * 365, 6 * 365), is_staff=True, is_superuser=True)

    groups: list[tuple[Team, Region, Team]] = []  # (group, region, team)
    for r in range(size.regions):
        region = REGIONS[r]
        region_team = Team.objects.create(
            name=f"{region.name}大区", kind=TeamKind.REGION, parent=company, region=region.name
        )
        teams += 1
        leads_of[person(f"manager_{region.code}", Role.MANAGER, region_team, leader_tenure)] = (
            region_team.pk
        )
        for t in range(size.teams_per_region):
            team = Team.objects.create(
                name=f"{region.name}{_numeral(t)}部",
                kind=TeamKind.TEAM,
                parent=region_team,
                region=region.name,
            )
            teams += 1
            leads_of[person(f"manager_{region.code}{t + 1}", Role.MANAGER, team, leader_tenure)] = (
                team.pk
            )
            for g in range(size.groups_per_team):
                group = Team.objects.create(
                    name=f"{region.name}{_numeral(t)}部{_numeral(g)}组",
                    kind=TeamKind.GROUP,
                    parent=team,
                    region=region.name,
                )
                teams += 1
                letter = "abcdefghij"[g]
                leads_of[
                    person(
                        f"lead_{region.code}{t + 1}{letter}", Role.GROUP_LEAD, group, leader_tenure
                    )
                ] = group.pk
                groups.append((group, region, team))

    kinds = _deal_kinds(rng, size.reps, profile)
    rep_rows: list[
        tuple[int, str, Region, Team, Team]
    ] = []  # (position, kind, region, group, team)
    for k in range(size.reps):
        group, region, team = groups[k * len(groups) // size.reps]
        position = person(
            f"rep{k + 1:03d}", Role.REP, group, profile.rep_kinds[kinds[k]].tenure_days
        )
        rep_rows.append((position, kinds[k], region, group, team))

    users = User.objects.bulk_create(User(**row) for row in people)
    for position, team_id in leads_of.items():
        Team.objects.filter(pk=team_id).update(lead=users[position])

    for position, user in enumerate(users):
        is_lead = position in leads_of
        if user.role == Role.REP:
            continue
        memberships.append(
            (
                user.pk,
                user.team,
                is_lead,
                Seniority.SENIOR,
                Decimal("1.00"),
                user.date_joined.date(),
                None,
            )
        )

    strugglers = _one_struggler_per_team(rng, rep_rows)
    plans: list[RepPlan] = []
    for index, (position, kind, region, group, _team) in enumerate(rep_rows):
        user = users[position]
        band = profile.rep_kinds[kind]
        start = user.date_joined.date()
        low, high = (Decimal(v) for v in band.capacity)
        capacity = (low + (high - low) * Decimal(rng.randint(0, 100)) / 100).quantize(
            Decimal("0.01")
        )
        seniority = {
            "senior": Seniority.SENIOR,
            "growing": Seniority.GROWING,
            "new": Seniority.NEW,
        }[kind]
        moved = kind != "new" and rng.random() < profile.moved_group_share and len(groups) > 1
        if moved:
            moved_on = start + dt.timedelta(
                days=rng.randint(90, max(91, (as_of - start).days - 30))
            )
            previous = rng.choice([g for g, _r, _t in groups if g.pk != group.pk])
            memberships.append(
                (
                    user.pk,
                    previous,
                    False,
                    Seniority.GROWING,
                    capacity,
                    start,
                    moved_on - dt.timedelta(days=1),
                )
            )
            memberships.append((user.pk, group, False, seniority, capacity, moved_on, None))
        else:
            memberships.append((user.pk, group, False, seniority, capacity, start, None))
        factor = profile.struggler_factor if position in strugglers else 1.0
        plans.append(
            RepPlan(
                index=index,
                user_id=user.pk,
                username=user.username,
                kind=kind,
                region=region,
                start_index=max(0, calendar.index(start)),
                win_rate=rng.uniform(*band.win_rate) * factor,
                visit_skill=rng.uniform(0.9, 1.1) * factor,
                lead_skill=rng.uniform(0.85, 1.15),
                speed=band.speed * rng.uniform(0.9, 1.1),
                book_weight=band.book_weight * rng.uniform(0.85, 1.15),
                activity_weight=band.activity_weight * rng.uniform(0.85, 1.15),
            )
        )
    Membership.objects.bulk_create(
        Membership(
            user_id=user_id,
            team=team,
            is_lead=is_lead,
            seniority=seniority,
            capacity=capacity,
            start_date=start,
            end_date=end,
        )
        for user_id, team, is_lead, seniority, capacity, start, end in memberships
    )
    _share_out(plans, size, calendar)
    return Organisation(
        company=company, reps=plans, users=len(users), teams=teams, memberships=len(memberships)
    )


def _deal_kinds(rng: random.Random, reps: int, profile: DemoProfile) -> list[str]:
    """Seniority bands in the profile's shares, shuffled so every group gets a mix."""
    names = list(profile.rep_kinds)
    counts = [int(profile.rep_kinds[n].share * reps) for n in names]
    for i in range(reps - sum(counts)):
        counts[i % len(counts)] += 1
    kinds = [n for n, c in zip(names, counts, strict=True) for _ in range(c)]
    rng.shuffle(kinds)
    return kinds


def _one_struggler_per_team(rng: random.Random, rep_rows) -> set[int]:
    """A rep past onboarding ("growing") whose conversion lags the team: a coaching case."""
    by_team: dict[int, list[int]] = {}
    for position, kind, _region, _group, team in rep_rows:
        if kind == "growing":
            by_team.setdefault(team.pk, []).append(position)
    return {rng.choice(positions) for positions in by_team.values() if len(positions) > 1}


def _share_out(plans: list[RepPlan], size: DemoSize, calendar: Calendar) -> None:
    """Split the size's totals over reps by weight; the parts add up exactly to the totals."""
    active = [(calendar.days - p.start_index) / calendar.days for p in plans]
    shares = {
        "accounts": [p.book_weight for p in plans],
        "opportunities": [p.book_weight * a for p, a in zip(plans, active, strict=True)],
        "activities": [p.activity_weight * a for p, a in zip(plans, active, strict=True)],
        "orders": [p.book_weight * a for p, a in zip(plans, active, strict=True)],
    }
    for name, weights in shares.items():
        for plan, part in zip(plans, largest_remainder(getattr(size, name), weights), strict=True):
            setattr(plan, name, part)


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Integer parts proportional to ``weights`` that sum to ``total`` (Hamilton's method)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (exact[i] - parts[i], -i), reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
