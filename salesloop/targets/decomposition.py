"""Splitting a target into children that always add up exactly to it.

The rounding rule (used for money to the cent and for whole counts alike) is the **largest
remainder method** of Hamilton (also "Hare–Niemeyer"): express the total in indivisible units
(cents, or ones), give each child the floor of its exact quota ``total × w_i / Σw``, then hand the
units still missing, one each, to the children with the largest fractional remainders. Ties are
broken deterministically by position: the child listed first wins. Callers list children in a
stable order (team path, rep name then id, calendar order), so the same input always gives the
same split. Quotas are computed with exact rationals (``fractions.Fraction``), never floats.

Properties (tested with hypothesis in ``tests/test_decomposition.py``): the parts sum to the
total exactly; each part differs from its exact quota by less than one unit; zero weight gets
zero; equal weights differ by at most one unit.

Weights:

* **members** — capacity × seniority weight × the share of the period's working days the person
  is a member (mid-period joiners and leavers are prorated; a member on leave weighs 0); a
  sub-team weighs the sum of its members' weights (seed 000 §一.1 "团队产能").
* **tiers** — the tier shares in ``TargetSettings`` (seed default 60/30/10).
* **periods** — working days, optionally shaped by a seasonal profile: each month's weight is
  spread evenly over that month's working days, and a piece weighs the sum over its working
  days. "learned" builds the profile from the same scope's actuals twelve months earlier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from salesloop.org.models import Membership, Role, Team, User
from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.periods import Period


class DecompositionError(ValueError):
    """The split cannot be made (no weight anywhere, a bad total); carries a user message."""


def _frac(value: Decimal | Fraction | int | str) -> Fraction:
    if isinstance(value, Fraction):
        return value
    return Fraction(Decimal(str(value)))


def round_to_total(quotas: Sequence[Fraction], total: int) -> list[int]:
    """Integers, each within one unit of its quota, summing to ``total`` (largest remainder).

    ``quotas`` must add up exactly to ``total``; they may be negative (variance attribution).
    """
    if sum(quotas, Fraction(0)) != total:
        raise ValueError("quotas must add up to the total")
    floors = [q.numerator // q.denominator for q in quotas]
    missing = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


def allocate(total: Decimal, weights: Sequence[Decimal | Fraction | int], quantum: Decimal) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` into multiples of ``quantum`` that sum exactly."""
    total = Decimal(total)
    if total < 0:
        raise DecompositionError("A target cannot be negative.")
    units_exact = _frac(total) / _frac(quantum)
    if units_exact.denominator != 1:
        raise DecompositionError(f"{total} is not a whole number of {quantum}.")
    units = units_exact.numerator
    ws = [_frac(w) for w in weights]
    if any(w < 0 for w in ws):
        raise DecompositionError("Weights cannot be negative.")
    weight_sum = sum(ws, Fraction(0))
    if not ws or weight_sum == 0:
        raise DecompositionError("Nothing to split over: every weight is zero.")
    quotas = [units * w / weight_sum for w in ws]
    return [Decimal(n) * quantum for n in round_to_total(quotas, units)]


@dataclass
class Part:
    """One child of a split: what it is for, its weight and why, and its amount once allocated."""

    key: str
    label: str
    weight: Fraction
    basis: dict = field(default_factory=dict)
    team: Team | None = None
    rep: User | None = None
    tier: str = ""
    period: Period | None = None
    amount: Decimal | None = None


def allocate_parts(total: Decimal, parts: list[Part], quantum: Decimal) -> list[Part]:
    for part, amount in zip(parts, allocate(total, [p.weight for p in parts], quantum), strict=True):
        part.amount = amount
    return parts


# Weights -------------------------------------------------------------------------------------


def membership_share(m: Membership, period: Period, cal: WorkCalendar) -> Fraction:
    """Share of the period's working days ``m`` covers (0 when on leave or outside the period)."""
    total = cal.count_in(period)
    if total == 0 or m.on_leave:
        return Fraction(0)
    start = max(m.start_date, period.start)
    end = min(m.end_date or period.end, period.end)
    return Fraction(cal.count(start, end), total)


def member_weight(m: Membership, period: Period, cal: WorkCalendar, seniority_weights: dict) -> tuple[Fraction, dict]:
    capacity = _frac(m.capacity)
    seniority = _frac(seniority_weights.get(m.seniority, "1"))
    share = membership_share(m, period, cal)
    basis = {
        "capacity": str(m.capacity),
        "seniority": m.seniority,
        "seniority_weight": str(seniority_weights.get(m.seniority, "1")),
        "working_days": cal.count(max(m.start_date, period.start), min(m.end_date or period.end, period.end)),
        "period_working_days": cal.count_in(period),
        "on_leave": m.on_leave,
    }
    return capacity * seniority * share, basis


def _memberships(team: Team, period: Period, *, include_leads: bool) -> list[Membership]:
    roles = [Role.REP, Role.GROUP_LEAD] if include_leads else [Role.REP]
    return list(
        Membership.objects.filter(
            team__path__startswith=team.path,
            user__is_active=True,
            user__role__in=roles,
            start_date__lte=period.end,
        )
        .exclude(end_date__lt=period.start)
        .select_related("user", "team")
        .order_by("user__username", "user_id", "start_date", "id")
    )


def rep_parts(
    team: Team, period: Period, cal: WorkCalendar, seniority_weights: dict, *, include_leads: bool = False
) -> list[Part]:
    """One part per person in ``team``'s subtree; several stints in the period add up."""
    parts: dict[int, Part] = {}
    for m in _memberships(team, period, include_leads=include_leads):
        weight, basis = member_weight(m, period, cal, seniority_weights)
        part = parts.get(m.user_id)
        if part is None:
            parts[m.user_id] = Part(
                key=f"r{m.user_id}", label=str(m.user), weight=weight, basis=basis, team=m.team, rep=m.user
            )
        else:
            part.weight += weight
            part.basis["working_days"] += basis["working_days"]
    if not parts:
        raise DecompositionError("This team has no reps in the period.")
    return list(parts.values())


def subteam_parts(
    team: Team, period: Period, cal: WorkCalendar, seniority_weights: dict, *, include_leads: bool = False
) -> list[Part]:
    children = list(team.children.order_by("path"))
    if not children:
        raise DecompositionError("This team has no sub-teams; split it to reps instead.")
    members = _memberships(team, period, include_leads=include_leads)
    parts = []
    for child in children:
        weight, people = Fraction(0), 0
        for m in members:
            if m.team.path.startswith(child.path):
                w, _basis = member_weight(m, period, cal, seniority_weights)
                weight += w
                people += 1
        parts.append(
            Part(
                key=f"t{child.pk}",
                label=child.name,
                weight=weight,
                team=child,
                basis={"members": people, "capacity_weight": f"{float(weight):.4f}"},
            )
        )
    return parts


def tier_parts(shares: dict) -> list[Part]:
    from salesloop.targets.models import Tier

    return [
        Part(
            key=tier.value,
            label=str(tier.label),
            weight=_frac(shares[tier.value]),
            tier=tier.value,
            basis={"share_pct": str(shares[tier.value])},
        )
        for tier in Tier
    ]


def period_parts(
    period: Period,
    kind: str,
    cal: WorkCalendar,
    *,
    month_weights: Sequence | None = None,
    fiscal_start_month: int = 1,
    profile_label: str = "",
) -> list[Part]:
    """Pieces of ``period``; weight = working days, or the seasonal density summed over them.

    With ``month_weights`` the calendar must cover the whole months ``period`` touches.
    """
    from salesloop.targets.periods import split_period

    pieces = split_period(period, kind, fiscal_start_month=fiscal_start_month)
    month_days: dict[tuple[int, int], int] = {}

    def working_in_month(day: dt.date) -> int:
        key = (day.year, day.month)
        if key not in month_days:
            first = dt.date(day.year, day.month, 1)
            nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            month_days[key] = cal.count(first, nxt - dt.timedelta(days=1))
        return month_days[key]

    parts = []
    for piece in pieces:
        days = cal.working_days(piece.start, piece.end)
        if month_weights is None:
            weight = Fraction(len(days))
        else:
            weight = sum((_frac(month_weights[d.month - 1]) / working_in_month(d) for d in days), Fraction(0))
        parts.append(
            Part(
                key=piece.start.isoformat(),
                label=piece.label(),
                weight=weight,
                period=piece,
                basis={"working_days": len(days), **({"profile": profile_label} if profile_label else {})},
            )
        )
    return parts
