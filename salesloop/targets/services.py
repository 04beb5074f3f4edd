"""Writes on targets: set top-down, submit bottom-up and approve, edit, delete, decompose;
credit splits; the settings that drive tracking.

Every write checks scope through ``org.access`` (via ``core.records``), refuses stale versions
(409) and is audited (``targets.target`` is in ``AUDITED_LABELS``). The invariant kept here:
**the children of a decomposition always add up exactly to their parent** — so a parent with
children cannot change its amount, and a child cannot change its amount on its own; decompose
again (``replace=True``) instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.audit.models import AuditAction
from salesloop.audit.services import audit_record, diff, snapshot
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.core.records import get_for_write, record_create, record_delete, record_update, validate
from salesloop.org import access
from salesloop.org.models import OrgSettings, Team, User
from salesloop.targets import decomposition as dec
from salesloop.targets.calendar import WorkCalendar
from salesloop.targets.metrics import METRICS, spec
from salesloop.targets.models import (
    BottleneckRule,
    CreditSplit,
    SeasonalProfile,
    SplitAxis,
    Target,
    TargetSettings,
    TargetSource,
    TargetStatus,
    Tier,
)
from salesloop.targets.periods import ORDER, Period, PeriodKind, period_containing

EDITABLE_FIELDS = {"amount", "note", "currency"}


def may_set_targets(user: User) -> bool:
    """Leads, managers, directors and admin set targets; a rep only submits their own."""
    return access.scope_for(user, Target, "write") in (access.Scope.SUBTREE, access.Scope.ALL)


def _period_fields(data: dict[str, Any]) -> dict[str, Any]:
    kind, start = data.get("period_kind"), data.get("period_start")
    if kind not in PeriodKind.values:
        raise FieldErrors({"period_kind": [_("Choose year, quarter, month, week or day.")]})
    if not isinstance(start, dt.date):
        raise FieldErrors({"period_start": [_("Give the period's first day (or any day in it).")]})
    period = period_containing(kind, start, fiscal_start_month=OrgSettings.current().fiscal_year_start_month)
    return {"period_kind": kind, "period_start": period.start, "period_end": period.end}


def _check_amount(metric: str, amount: Any) -> Decimal:
    try:
        value = Decimal(str(amount))
    except Exception as exc:
        raise FieldErrors({"amount": [_("Enter a number.")]}) from exc
    if value < 0:
        raise FieldErrors({"amount": [_("A target cannot be negative.")]})
    quantum = spec(metric).quantum
    if value % quantum != 0:
        if quantum == 1:
            raise FieldErrors({"amount": [_("This metric counts whole units; enter a whole number.")]})
        raise FieldErrors({"amount": [_("Money has at most two decimal places.")]})
    return value


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if data.get("metric") not in METRICS:
        raise FieldErrors({"metric": [_("Unknown metric.")]})
    data.update(_period_fields(data))
    data["amount"] = _check_amount(data["metric"], data.get("amount"))
    data.setdefault("tier", "")
    data["tier"] = data["tier"] or ""
    if data["tier"] and data["tier"] not in Tier.values:
        raise FieldErrors({"tier": [_("Unknown customer tier.")]})
    if not data.get("currency"):
        data["currency"] = OrgSettings.current().currency
    if data.get("rep_id") and not data.get("team_id"):
        data["team_id"] = User.objects.filter(pk=data["rep_id"]).values_list("team_id", flat=True).first()
    if not data.get("rep_id") and not data.get("team_id"):
        raise FieldErrors({"team_id": [_("Choose a team or a rep.")]})
    return data


def _approved_twin(target: Target) -> Target | None:
    return (
        Target.objects.filter(
            metric=target.metric,
            period_kind=target.period_kind,
            period_start=target.period_start,
            period_end=target.period_end,
            scope_key=(f"r{target.rep_id}" if target.rep_id else f"t{target.team_id}"),
            tier=target.tier,
            status=TargetStatus.APPROVED,
        )
        .exclude(pk=target.pk)
        .first()
    )


def _refuse_twin(data: dict[str, Any]) -> None:
    probe = Target(**{k: v for k, v in data.items() if k in {f.attname for f in Target._meta.concrete_fields}})
    if _approved_twin(probe) is not None:
        raise FieldErrors(
            {"__all__": [_("An approved target already exists for this metric, period and scope; edit that one.")]}
        )


@transaction.atomic
def target_create(*, by: User, data: dict[str, Any], source: str = "api") -> Target:
    """Set a target top-down (leads and above, within their subtree); it is approved at once."""
    if not may_set_targets(by):
        raise Forbidden(_("Only leads and managers set targets; submit your own proposal instead."))
    data = _normalise(data)
    data.update(status=TargetStatus.APPROVED, source=TargetSource.TOP_DOWN, decided_by_id=by.pk)
    data["decided_at"] = timezone.now()
    data.pop("parent_id", None)
    _refuse_twin(data)
    return record_create(model=Target, user=by, data=data, source=source)


@transaction.atomic
def target_submit(*, by: User, data: dict[str, Any], source: str = "api") -> Target:
    """A rep proposes their own number (bottom-up); their lead approves or rejects it."""
    data = _normalise({**data, "rep_id": by.pk, "team_id": by.team_id})
    data.update(status=TargetStatus.SUBMITTED, source=TargetSource.BOTTOM_UP, submitted_by_id=by.pk)
    data.pop("parent_id", None)
    return record_create(model=Target, user=by, data=data, source=source)


@transaction.atomic
def target_decide(*, target_id: int, by: User, approve: bool, version: int, note: str = "") -> Target:
    """Approve or reject a submission; approving needs the cell to be free of another approved one."""
    if not may_set_targets(by):
        raise Forbidden(_("Only leads and managers decide on submissions."))
    target = get_for_write(Target, target_id, by)
    if target.status != TargetStatus.SUBMITTED:
        raise FieldErrors({"status": [_("Only a submitted target can be approved or rejected.")]})
    if approve and _approved_twin(target) is not None:
        raise FieldErrors(
            {"__all__": [_("An approved target already exists for this cell; change or delete it first.")]}
        )
    data = {
        "status": TargetStatus.APPROVED if approve else TargetStatus.REJECTED,
        "decided_by_id": by.pk,
        "decided_at": timezone.now(),
    }
    if note:
        data["note"] = note[:300]
    target, _changes = record_update(instance=target, user=by, data=data, version=version, source="approval")
    return target


@transaction.atomic
def target_update(*, target_id: int, by: User, data: dict[str, Any], version: int | None) -> Target:
    """Change a target's amount, currency or note (versioned: a stale version gets 409)."""
    target = get_for_write(Target, target_id, by)
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise FieldErrors({k: [_("This field cannot be changed; create a new target instead.")] for k in unknown})
    if not may_set_targets(by) and target.status not in (TargetStatus.SUBMITTED, TargetStatus.DRAFT):
        raise Forbidden(_("A decided target is changed by your lead."))
    if "amount" in data:
        data["amount"] = _check_amount(target.metric, data["amount"])
        if data["amount"] != target.amount:
            if target.children.exists():
                raise FieldErrors({"amount": [_("This target is split into children; change it and decompose again.")]})
            if target.parent_id:
                raise FieldErrors(
                    {"amount": [_("This target is part of a split; change the parent and decompose again.")]}
                )
    target, _changes = record_update(instance=target, user=by, data=data, version=version)
    return target


@transaction.atomic
def target_delete(*, target_id: int, by: User, version: int | None) -> None:
    target = get_for_write(Target, target_id, by)
    if not may_set_targets(by) and target.status not in (TargetStatus.SUBMITTED, TargetStatus.DRAFT):
        raise Forbidden(_("A decided target is removed by your lead."))
    if target.parent_id:
        raise FieldErrors({"__all__": [_("Part of a split: delete or re-decompose the parent instead.")]})
    if target.children.exists():
        raise FieldErrors({"__all__": [_("Remove this target's split first (decompose with replace).")]})
    record_delete(instance=target, user=by, version=version)


# Decomposition -------------------------------------------------------------------------------


@dataclass
class Decomposition:
    parent: Target
    axis: str
    parts: list[dec.Part]
    created: list[Target]
    explanation: str


def _profile_weights(parent: Target, profile: str | None, period: Period) -> tuple[list | None, str]:
    if not profile:
        return None, ""
    if profile == "learned":
        return _learned_weights(parent, period), _("learned from last year's actuals")
    row = SeasonalProfile.objects.filter(code=profile).first()
    if row is None:
        raise FieldErrors({"profile": [_("Unknown seasonal profile %(code)s.") % {"code": profile}]})
    return row.month_weights, row.name


def _learned_weights(parent: Target, period: Period) -> list:
    """Month weights = the same scope's actuals of the same metric, one year earlier."""
    from salesloop.analytics.queries import actuals as q
    from salesloop.targets.selectors import TargetScope

    start = dt.date(period.start.year - 1, period.start.month, 1)
    end_year = period.end.year - 1
    end = dt.date(end_year, period.end.month, 1)
    end = dt.date(end.year + (end.month == 12), end.month % 12 + 1, 1) - dt.timedelta(days=1)
    scope = TargetScope(team=parent.team if not parent.rep_id else None, rep=parent.rep)
    by_day = q.grouped(parent.metric, Period(start, end, PeriodKind.DAY), scope.filter(), by="day")
    weights = [0] * 12
    for day, units in by_day.items():
        weights[day.month - 1] += max(units, 0)
    touched = {d.month for d in Period(period.start, period.end, period.kind).dates()}
    if not any(weights[m - 1] for m in touched):
        raise FieldErrors({"profile": [_("There are no actuals from last year to learn from; choose a profile.")]})
    return weights


def _parts_for(parent: Target, axis: str, options: dict[str, Any]) -> tuple[list[dec.Part], str]:
    period = Period(parent.period_start, parent.period_end, parent.period_kind)
    settings = TargetSettings.current()
    fiscal = OrgSettings.current().fiscal_year_start_month
    try:
        if axis == SplitAxis.MEMBERS:
            if parent.rep_id:
                raise dec.DecompositionError(_("A rep's target cannot be split across people."))
            cal = WorkCalendar.for_period(period)
            to = options.get("to") or ("subteams" if parent.team.children.exists() else "reps")
            builder = dec.subteam_parts if to == "subteams" else dec.rep_parts
            parts = builder(
                parent.team, period, cal, settings.seniority_weights, include_leads=bool(options.get("include_leads"))
            )
            how = _("by capacity × seniority weight × share of working days in the period")
            return parts, str(how)
        if axis == SplitAxis.TIERS:
            if parent.tier:
                raise dec.DecompositionError(_("This target is already for one tier."))
            return dec.tier_parts(settings.tier_shares), str(_("by customer-tier shares"))
        if axis == SplitAxis.PERIODS:
            kind = options.get("period_kind")
            if kind not in PeriodKind.values or ORDER.index(kind) <= ORDER.index(parent.period_kind):
                raise dec.DecompositionError(_("Choose a period finer than the target's."))
            weights, label = _profile_weights(parent, options.get("profile"), period)
            first = dt.date(period.start.year, period.start.month, 1)
            last_month = dt.date(period.end.year, period.end.month, 1)
            last = dt.date(last_month.year + (last_month.month == 12), last_month.month % 12 + 1, 1)
            cal = WorkCalendar.load(first, last - dt.timedelta(days=1))
            parts = dec.period_parts(
                period, kind, cal, month_weights=weights, fiscal_start_month=fiscal, profile_label=str(label)
            )
            how = _("by working days") if weights is None else _("by working days shaped by %(p)s") % {"p": label}
            return parts, str(how)
    except dec.DecompositionError as exc:
        raise FieldErrors({"axis": [str(exc)]}) from exc
    except ValueError as exc:
        raise FieldErrors({"period_kind": [str(exc)]}) from exc
    raise FieldErrors({"axis": [_("Choose members, tiers or periods.")]})


def _child(parent: Target, part: dec.Part, axis: str, by: User, total_weight: Fraction) -> Target:
    team, rep, tier = parent.team, parent.rep, parent.tier
    start, end, kind = parent.period_start, parent.period_end, parent.period_kind
    if axis == SplitAxis.MEMBERS:
        team, rep = (part.team, part.rep) if part.rep is not None else (part.team, None)
    elif axis == SplitAxis.TIERS:
        tier = part.tier
    else:
        start, end, kind = part.period.start, part.period.end, part.period.kind
    share = (part.weight / total_weight) if total_weight else Fraction(0)
    child = Target(
        metric=parent.metric,
        period_kind=kind,
        period_start=start,
        period_end=end,
        team=team,
        rep=rep,
        tier=tier,
        amount=part.amount,
        currency=parent.currency,
        parent=parent,
        split_axis=axis,
        split_weight=Decimal(share.numerator) / Decimal(share.denominator),
        split_basis=part.basis,
        status=TargetStatus.APPROVED,
        source=TargetSource.DECOMPOSITION,
        decided_by=by,
        decided_at=timezone.now(),
    )
    child.split_weight = child.split_weight.quantize(Decimal("0.000001"))
    child.scope_key = f"r{rep.pk}" if rep is not None else f"t{team.pk}"
    return child


@transaction.atomic
def target_decompose(
    *,
    target_id: int,
    by: User,
    axis: str,
    options: dict[str, Any] | None = None,
    preview: bool = False,
    replace: bool = False,
) -> Decomposition:
    """Split a target into children that add up exactly (see ``targets.decomposition``)."""
    options = options or {}
    if not may_set_targets(by):
        raise Forbidden(_("Only leads and managers decompose targets."))
    parent = get_for_write(Target, target_id, by)
    if parent.status != TargetStatus.APPROVED:
        raise FieldErrors({"status": [_("Only an approved target can be decomposed.")]})
    parts, how = _parts_for(parent, axis, options)
    try:
        dec.allocate_parts(parent.amount, parts, spec(parent.metric).quantum)
    except dec.DecompositionError as exc:
        raise FieldErrors({"axis": [str(exc)]}) from exc
    total_weight = sum((p.weight for p in parts), Fraction(0))
    children = [_child(parent, p, axis, by, total_weight) for p in parts]
    for child in children:
        if child.rep_id is None and not access.may_hold(by, Target, owner=None, team=child.team):
            raise Forbidden(_("You may not set targets for %(team)s.") % {"team": child.team})
        if child.rep_id is not None and not access.may_hold(by, Target, owner=child.rep, team=child.team):
            raise Forbidden(_("You may not set targets for %(rep)s.") % {"rep": child.rep})
    if preview:
        transaction.set_rollback(True)
        return Decomposition(parent, axis, parts, children, how)
    existing = list(parent.children.all())
    if existing:
        if not replace:
            raise FieldErrors({"replace": [_("This target is already split; confirm replacing the split.")]})
        if Target.objects.filter(parent__in=existing).exists():
            raise FieldErrors({"replace": [_("Some children are split further; remove those splits first.")]})
        for old in existing:
            audit_record(
                instance=old,
                action=AuditAction.DELETE,
                actor=by,
                changes={k: [v, None] for k, v in snapshot(old).items()},
                source="decompose",
            )
        Target.objects.filter(pk__in=[t.pk for t in existing]).delete()
    clashes = Target.objects.filter(status=TargetStatus.APPROVED, metric=parent.metric).filter(_cells_q(children))
    if clashes.exists():
        names = ", ".join(sorted({str(t) for t in clashes[:5]}))
        raise FieldErrors({"__all__": [_("Approved targets already exist for: %(names)s.") % {"names": names}]})
    # No per-child full_clean: the children are built here from a validated parent, amounts are
    # non-negative multiples of the quantum by construction, and the database enforces the
    # constraints (the clash check above gives the readable message first).
    created = Target.objects.bulk_create(children)
    for child in created:
        audit_record(
            instance=child, action=AuditAction.CREATE, actor=by, changes=diff({}, snapshot(child)), source="decompose"
        )
    return Decomposition(parent, axis, parts, created, how)


def _cells_q(children: list[Target]) -> Q:
    query = Q(pk__in=[])
    for c in children:
        query |= Q(
            period_kind=c.period_kind,
            period_start=c.period_start,
            period_end=c.period_end,
            scope_key=c.scope_key,
            tier=c.tier,
        )
    return query


# Credit splits -------------------------------------------------------------------------------


@transaction.atomic
def credit_splits_set(
    *, by: User, splits: list[dict[str, Any]], opportunity_id: int | None = None, order_id: int | None = None
) -> list[CreditSplit]:
    """Replace the credit splits of a deal or an order. Shares must add up to exactly 100%
    (never 100% to each, the double counting of ERPNext's sales team); an empty list returns the
    credit to the owner. The writer must be able to change the record, and every credited rep
    must be someone the writer may give records to."""
    from salesloop.pipeline.models import Opportunity
    from salesloop.sales.models import Order

    if (opportunity_id is None) == (order_id is None):
        raise FieldErrors({"__all__": [_("Give a deal or an order.")]})
    model, pk = (Opportunity, opportunity_id) if opportunity_id else (Order, order_id)
    get_for_write(model, pk, by)  # 404 if unseen, else may write (raises DoesNotExist → 403 upstream)
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    total = Decimal(0)
    people = User.objects.in_bulk([s.get("user_id") for s in splits if s.get("user_id")])
    for i, s in enumerate(splits):
        user = people.get(s.get("user_id"))
        if user is None or not user.is_active:
            errors[f"splits.{i}.user_id"] = [_("Unknown or inactive person.")]
            continue
        if user.pk in seen:
            errors[f"splits.{i}.user_id"] = [_("Each person appears once.")]
        seen.add(user.pk)
        try:
            pct = Decimal(str(s.get("percent")))
        except Exception:
            pct = Decimal(-1)
        if not (Decimal("0.01") <= pct <= 100) or pct != pct.quantize(Decimal("0.01")):
            errors[f"splits.{i}.percent"] = [_("A share is between 0.01 and 100, with at most two decimals.")]
        else:
            total += pct
        if not access.may_own(by, model, user):
            errors[f"splits.{i}.user_id"] = [_("You may not credit %(name)s.") % {"name": user}]
    if splits and not errors and total != 100:
        errors["splits"] = [
            _("The shares add up to %(total)s%%; they must add up to exactly 100%%.") % {"total": total}
        ]
    if errors:
        raise FieldErrors(errors)
    fk = {"opportunity_id": opportunity_id} if opportunity_id else {"order_id": order_id}
    CreditSplit.objects.filter(**fk).delete()
    rows = sorted(
        (CreditSplit(user_id=s["user_id"], percent=Decimal(str(s["percent"])), **fk) for s in splits),
        key=lambda r: (-r.percent, r.user_id),
    )
    if rows:
        rows[0].is_primary = True
    return CreditSplit.objects.bulk_create(rows)


# Settings ----------------------------------------------------------------------------------


@transaction.atomic
def settings_update(*, by: User, data: dict[str, Any], version: int) -> TargetSettings:
    instance = get_for_write(TargetSettings, TargetSettings.current().pk, by)
    obj, _changes = record_update(instance=instance, user=by, data=data, version=version)
    return obj


@transaction.atomic
def bottleneck_rule_update(*, by: User, rule_id: int, data: dict[str, Any], version: int) -> BottleneckRule:
    allowed = {"is_active", "threshold", "lookback_days", "min_sample", "coaching_due_hours"}
    unknown = set(data) - allowed
    if unknown:
        raise FieldErrors({k: [_("This field cannot be changed.")] for k in unknown})
    instance = get_for_write(BottleneckRule, rule_id, by)
    obj, _changes = record_update(instance=instance, user=by, data=data, version=version)
    return obj


@transaction.atomic
def seasonal_profile_save(*, by: User, code: str, name: str, month_weights: list, name_en: str = "") -> SeasonalProfile:
    if not access.can_write_model(by, SeasonalProfile):
        raise Forbidden()
    row = SeasonalProfile.objects.filter(code=code).first() or SeasonalProfile(code=code)
    row.name, row.name_en, row.month_weights = name, name_en, [str(w) for w in month_weights]
    validate(row)
    row.save()
    return row


def team_for_lead(team: Team | None) -> User | None:
    """Who coaches people in ``team``: its lead, else a leading member, else up the tree."""
    from salesloop.org.models import LEADING_ROLES, Membership

    node = team
    while node is not None:
        if node.lead_id and node.lead.is_active:
            return node.lead
        m = (
            Membership.objects.filter(
                team=node, is_lead=True, end_date__isnull=True, user__is_active=True, user__role__in=list(LEADING_ROLES)
            )
            .select_related("user")
            .order_by("start_date", "id")
            .first()
        )
        if m is not None:
            return m.user
        node = node.parent
    return None


@transaction.atomic
def funnel_targets_create(*, by: User, team: Team, plan) -> list[Target]:
    """Set the reverse funnel's activity numbers (visits, intents, proposals, negotiations, deals)
    as the team's approved targets for the plan's period, ready to decompose to reps and days."""
    from salesloop.targets.metrics import Metric

    metric_for = {
        "visits": Metric.VISITS,
        "intents": Metric.QUALIFIED_LEADS,
        "proposals": Metric.PROPOSALS,
        "negotiations": Metric.NEGOTIATIONS,
        "deals": Metric.WON_DEALS,
    }
    created = []
    for step in plan.steps:
        data = {
            "metric": metric_for[step.key],
            "period_kind": plan.period.kind,
            "period_start": plan.period.start,
            "team_id": team.pk,
            "amount": step.value,
            "note": step.formula[:300],
        }
        created.append(target_create(by=by, data=data, source="funnel"))
    return created
