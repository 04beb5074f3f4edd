"""Effective notification preferences: a person's own, else their team's up the tree, else defaults.

Resolved for a whole batch of recipients at once (a handful of queries, whatever the batch size),
because a sweep or the morning brief notifies hundreds of people in one go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from salesloop.notifications.models import NotificationPreference, WebhookEndpoint
from salesloop.org.models import OrgSettings, User

#: Without any preference: in the app and by e-mail (when the person has an address), no chat.
DEFAULT_EMAIL = True
DEFAULT_CHAT = False


@dataclass
class Effective:
    user_id: int
    email_address: str
    phone: str
    language: str
    email: bool = DEFAULT_EMAIL
    chat: bool = DEFAULT_CHAT
    webhook_id: int | None = None
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None
    muted_kinds: list[str] = field(default_factory=list)

    def in_quiet_hours(self, local_time: dt.time) -> bool:
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local_time < self.quiet_end
        return (
            local_time >= self.quiet_start or local_time < self.quiet_end
        )  # overnight, 21:00–08:00

    def not_before(self, now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
        """``now``, or the end of the quiet hours ``now`` falls in."""
        local = now.astimezone(tz)
        if not self.in_quiet_hours(local.time()):
            return now
        assert self.quiet_end is not None
        end = dt.datetime.combine(local.date(), self.quiet_end, tzinfo=tz)
        if end <= local:
            end += dt.timedelta(days=1)
        return end


_FIELDS = ("email", "chat", "webhook_id", "quiet_start", "quiet_end", "muted_kinds")


def _apply(target: Effective, pref: NotificationPreference, done: set[str]) -> None:
    """Fill the fields ``pref`` sets that a nearer level has not already set."""
    for name in _FIELDS:
        if name in done:
            continue
        if name in ("quiet_start", "quiet_end"):
            if pref.quiet_start is not None and "quiet" not in done:
                target.quiet_start, target.quiet_end = pref.quiet_start, pref.quiet_end
                done.add("quiet")
            continue
        value = getattr(pref, name)
        if name == "muted_kinds":
            if value:
                target.muted_kinds = list(value)
                done.add(name)
            continue
        if value is not None:
            setattr(target, name, value)
            done.add(name)


def effective_preferences(user_ids: Iterable[int]) -> dict[int, Effective]:
    ids = set(user_ids)
    if not ids:
        return {}
    users = list(
        User.objects.filter(pk__in=ids).values(
            "pk", "email", "phone", "language", "team_id", "team__path"
        )
    )
    own = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=ids)}
    by_team = {p.team_id: p for p in NotificationPreference.objects.filter(team__isnull=False)}
    active_hooks = set(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", flat=True))
    result: dict[int, Effective] = {}
    for row in users:
        eff = Effective(
            user_id=row["pk"],
            email_address=row["email"] or "",
            phone=row["phone"] or "",
            language=row["language"] or "",
        )
        done: set[str] = set()
        if row["pk"] in own:
            _apply(eff, own[row["pk"]], done)
        path = row["team__path"] or ""
        for team_id in reversed([int(x) for x in path.strip("/").split("/") if x]):
            if team_id in by_team:
                _apply(eff, by_team[team_id], done)
        if eff.webhook_id not in active_hooks:
            eff.webhook_id = None
        result[row["pk"]] = eff
    return result


def org_zone() -> ZoneInfo:
    return ZoneInfo(OrgSettings.current().time_zone)
