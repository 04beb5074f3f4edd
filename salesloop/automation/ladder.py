"""Who is one level up: the escalation ladder of the team tree, loaded once per sweep.

A person's escalation contact is the head of their own team (``Team.lead``, else the most
junior leading role in it: group lead before manager before director); when that head is the
person themselves — a group lead missing a deadline — it is the head of the parent team, and
so on up to the company. Two queries, then pure lookups, so a sweep escalating thousands of
tasks does not query per task.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesloop.org.models import LEADING_ROLES, Role, User

_RANK = {Role.GROUP_LEAD: 0, Role.MANAGER: 1, Role.DIRECTOR: 2}


@dataclass
class Ladder:
    parent: dict[int, int | None]
    head: dict[int, int]
    team_of: dict[int, int | None]

    @classmethod
    def load(cls) -> Ladder:
        from salesloop.org.models import Team

        parent: dict[int, int | None] = {}
        explicit: dict[int, int] = {}
        for pk, parent_id, lead_id in Team.objects.values_list("pk", "parent_id", "lead_id"):
            parent[pk] = parent_id
            if lead_id:
                explicit[pk] = lead_id
        users = User.objects.filter(is_active=True).values_list("pk", "team_id", "role")
        team_of: dict[int, int | None] = {}
        leaders: dict[int, list[tuple[int, int]]] = {}
        active: set[int] = set()
        for pk, team_id, role in users:
            team_of[pk] = team_id
            active.add(pk)
            if team_id and role in LEADING_ROLES:
                leaders.setdefault(team_id, []).append((_RANK.get(role, 9), pk))
        head = {team: lead for team, lead in explicit.items() if lead in active}
        for team, people in leaders.items():
            head.setdefault(team, min(people)[1])
        return cls(parent=parent, head=head, team_of=team_of)

    def one_up(self, user_id: int) -> int | None:
        """The person one level above ``user_id``, or ``None`` at the top of the tree."""
        team = self.team_of.get(user_id)
        seen = 0
        while team is not None and seen < 64:
            boss = self.head.get(team)
            if boss is not None and boss != user_id:
                return boss
            team = self.parent.get(team)
            seen += 1
        return None
