"""A small organisation for tests: one person per role, two teams, so every rule has a case.

Company (director, finance, legal, after_sales, marketing, admin)
└── East region
    ├── Team A (manager_a)
    │   ├── Group A1 (lead_a1, rep_a1, rep_a1b)
    │   └── Group A2 (rep_a2)
    └── Team B
        └── Group B1 (lead_b1, rep_b1)
"""

from dataclasses import dataclass

from salesloop.org.models import Role, Team, TeamKind, User
from salesloop.testing.factories import UserFactory


@dataclass
class Org:
    company: Team
    region: Team
    team_a: Team
    group_a1: Team
    group_a2: Team
    team_b: Team
    group_b1: Team
    director: User
    manager_a: User
    lead_a1: User
    rep_a1: User
    rep_a1b: User
    rep_a2: User
    lead_b1: User
    rep_b1: User
    finance: User
    legal: User
    after_sales: User
    marketing: User
    admin: User


def build_org() -> Org:
    company = Team.objects.create(name="Salesloop Co", kind=TeamKind.COMPANY)
    region = Team.objects.create(name="East", kind=TeamKind.REGION, parent=company)
    team_a = Team.objects.create(name="Team A", kind=TeamKind.TEAM, parent=region)
    group_a1 = Team.objects.create(name="Group A1", kind=TeamKind.GROUP, parent=team_a)
    group_a2 = Team.objects.create(name="Group A2", kind=TeamKind.GROUP, parent=team_a)
    team_b = Team.objects.create(name="Team B", kind=TeamKind.TEAM, parent=region)
    group_b1 = Team.objects.create(name="Group B1", kind=TeamKind.GROUP, parent=team_b)

    def user(name: str, role: str, team: Team) -> User:
        return UserFactory(username=name, role=role, team=team)

    return Org(
        company=company,
        region=region,
        team_a=team_a,
        group_a1=group_a1,
        group_a2=group_a2,
        team_b=team_b,
        group_b1=group_b1,
        director=user("director", Role.DIRECTOR, company),
        manager_a=user("manager_a", Role.MANAGER, team_a),
        lead_a1=user("lead_a1", Role.GROUP_LEAD, group_a1),
        rep_a1=user("rep_a1", Role.REP, group_a1),
        rep_a1b=user("rep_a1b", Role.REP, group_a1),
        rep_a2=user("rep_a2", Role.REP, group_a2),
        lead_b1=user("lead_b1", Role.GROUP_LEAD, group_b1),
        rep_b1=user("rep_b1", Role.REP, group_b1),
        finance=user("finance", Role.FINANCE, company),
        legal=user("legal", Role.LEGAL, company),
        after_sales=user("after_sales", Role.AFTER_SALES, company),
        marketing=user("marketing", Role.MARKETING, company),
        admin=user("admin", Role.ADMIN, company),
    )
