"""Lead routing rules: conditions on lead fields and the fair choice of a rep (seed 000 §四.2).

Reads only; the write (setting the owner, logging, notifying) is ``services.lead_route``.

Fairness, stated: among the available candidates a strategy first compares what it is about
(load for least loaded; nothing for round robin), then **least recently assigned** (a rep who
never received a routed lead comes first), then a **seeded rotation**: a hash of the policy's
seed, the lead and the rep. The rotation differs from lead to lead, so no rep wins every tie by
id, seniority or name (Odoo's round robin once favoured the oldest member on ties).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.customers.models import Lead, LeadStatus
from salesloop.intel.models import LeadAssignment, RoutingPolicy, RoutingRule, Strategy
from salesloop.org.models import Membership, Role, Team, User

OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
OPS = ("eq", "ne", "in", "not_in", "gte", "lte", "gt", "lt", "contains", "empty", "not_empty")
_NUMERIC_OPS = ("gte", "lte", "gt", "lt")


def lead_fields() -> set[str]:
    return {f.attname for f in Lead._meta.concrete_fields} | {f.name for f in Lead._meta.concrete_fields}


def conditions_errors(conditions: Any) -> list[str]:
    """Why ``conditions`` cannot be evaluated (empty list = valid)."""
    if not isinstance(conditions, list):
        return [_("Conditions must be a list.")]
    errors = []
    fields = lead_fields()
    for i, cond in enumerate(conditions, start=1):
        if not isinstance(cond, dict) or cond.get("field") not in fields or cond.get("op") not in OPS:
            errors.append(
                _("Condition %(n)s needs a lead field and one of the operators %(ops)s.")
                % {"n": i, "ops": ", ".join(OPS)}
            )
            continue
        if cond["op"] in ("in", "not_in") and not isinstance(cond.get("value"), list):
            errors.append(_("Condition %(n)s: the value of %(op)s must be a list.") % {"n": i, "op": cond["op"]})
        if cond["op"] in _NUMERIC_OPS:
            try:
                Decimal(str(cond.get("value")))
            except InvalidOperation:
                errors.append(_("Condition %(n)s: the value must be a number.") % {"n": i})
    return errors


def _as_number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def condition_holds(lead: Lead, cond: dict) -> bool:
    value = getattr(lead, cond["field"], None)
    op, expected = cond["op"], cond.get("value")
    if op == "empty":
        return value in (None, "")
    if op == "not_empty":
        return value not in (None, "")
    if op in _NUMERIC_OPS:
        got, want = _as_number(value), _as_number(expected)
        if got is None or want is None:
            return False  # a lead without a budget is not "budget ≥ 100k"
        return {"gte": got >= want, "lte": got <= want, "gt": got > want, "lt": got < want}[op]
    text = "" if value is None else str(value)
    if op == "eq":
        return text == str(expected)
    if op == "ne":
        return text != str(expected)
    if op == "in":
        return text in {str(v) for v in expected or []}
    if op == "not_in":
        return text not in {str(v) for v in expected or []}
    if op == "contains":
        return str(expected).lower() in text.lower()
    return False


def describe(lead: Lead, cond: dict) -> str:
    return f"{cond['field']} {cond['op']} {cond.get('value', '')} ({getattr(lead, cond['field'], None)})"


def rule_matches(rule: RoutingRule, lead: Lead) -> tuple[bool, list[str]]:
    """Whether ``rule`` applies to ``lead`` and the conditions that made it so."""
    if not rule.conditions:
        return True, [_("no conditions")]
    held = [c for c in rule.conditions if condition_holds(lead, c)]
    ok = bool(held) if rule.match == "any" else len(held) == len(rule.conditions)
    return ok, [describe(lead, c) for c in held]


@dataclass
class Candidate:
    user: User
    capacity: Decimal  # open leads this rep may carry
    open_leads: int
    last_assigned_at: Any
    rotation: str

    @property
    def load(self) -> Decimal:
        return Decimal(self.open_leads) / self.capacity if self.capacity else Decimal("Infinity")


def _num(value: Decimal) -> str:
    """30.00 → "30", 7.50 → "7.5" (``normalize`` alone would print 3E+1)."""
    return format(value.normalize(), "f")


def _rotation(seed: int, lead: Lead, user: User) -> str:
    return hashlib.sha256(f"{seed}:{lead.pk}:{user.pk}".encode()).hexdigest()


def candidates_for(
    rule: RoutingRule, lead: Lead, policy: RoutingPolicy, *, within: Any = None
) -> tuple[list[Candidate], list[str]]:
    """Available reps for ``rule`` (and why others were skipped). ``within`` is a subquery of
    user ids the router may choose from (the creator's subtree), or None for everyone."""
    today = timezone.localdate()
    reps = User.objects.filter(is_active=True, role=Role.REP, team__isnull=False)
    if rule.strategy == Strategy.NAMED and rule.user_id:
        reps = User.objects.filter(pk=rule.user_id, is_active=True)
    elif rule.team_id:
        reps = reps.filter(team__path__startswith=rule.team.path)
    if rule.strategy == Strategy.TERRITORY:
        places = [p for p in (lead.province, lead.city) if p]
        paths = list(Team.objects.filter(region__in=places).values_list("path", flat=True)) if places else []
        if not paths:
            return [], [_("no team covers %(place)s") % {"place": "/".join(places) or "-"}]
        territory = Q()
        for path in paths:
            territory |= Q(team__path__startswith=path)
        reps = reps.filter(territory)
    if within is not None:
        reps = reps.filter(pk__in=within)
    members: dict[int, Membership] = {}
    for m in (
        Membership.objects.filter(user__in=reps, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("user")
        .order_by("-start_date")
    ):
        if m.team_id == m.user.team_id:
            members.setdefault(m.user_id, m)
    users = list(reps.annotate(
        open_leads=Count("leads", filter=Q(leads__status__in=OPEN_LEAD_STATUSES)),
    ))
    last = dict(
        LeadAssignment.objects.filter(assignee__in=[u.pk for u in users])
        .values("assignee_id")
        .annotate(last=Max("assigned_at"))
        .values_list("assignee_id", "last")
    )
    out: list[Candidate] = []
    skipped: list[str] = []
    for user in users:
        member = members.get(user.pk)
        if member is None:
            skipped.append(_("%(rep)s has no current membership") % {"rep": user})
            continue
        if rule.seniority and member.seniority != rule.seniority:
            continue
        if member.on_leave:
            skipped.append(_("%(rep)s is on leave") % {"rep": user})
            continue
        capacity = member.capacity * policy.leads_per_capacity
        if user.open_leads >= capacity:
            skipped.append(
                _("%(rep)s is at capacity (%(open)s of %(cap)s open leads)")
                % {"rep": user, "open": user.open_leads, "cap": _num(capacity)}
            )
            continue
        rotation = _rotation(policy.rotation_seed, lead, user)
        out.append(Candidate(user, capacity, user.open_leads, last.get(user.pk), rotation))
    return out, skipped


def _recency_key(c: Candidate) -> tuple:
    # Never assigned first, then the longest since the last routed lead.
    return (c.last_assigned_at is not None, c.last_assigned_at or 0)


def choose(strategy: str, candidates: list[Candidate]) -> tuple[Candidate, str]:
    """The winner and a sentence saying why (strategy, then the stated tie-break)."""
    if strategy in (Strategy.LEAST_LOADED, Strategy.TERRITORY):
        ranked = sorted(candidates, key=lambda c: (c.load, *_recency_key(c), c.rotation))
        best = ranked[0]
        tied = [c for c in ranked if c.load == best.load]
        why = _("least loaded: %(open)s of %(cap)s open leads") % {
            "open": best.open_leads,
            "cap": _num(best.capacity),
        }
    else:
        ranked = sorted(candidates, key=lambda c: (*_recency_key(c), c.rotation))
        best = ranked[0]
        tied = ranked
        why = _("round robin")
    if len(tied) > 1:
        same_recency = [c for c in tied if c.last_assigned_at == best.last_assigned_at]
        if len(same_recency) > 1:
            why += "; " + _("tie among %(n)s broken by the seeded rotation") % {"n": len(same_recency)}
        else:
            why += "; " + _("tie among %(n)s broken by least recently assigned") % {"n": len(tied)}
    return best, why
