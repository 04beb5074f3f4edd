"""Writes of pipeline intelligence: routing leads, and the lead create path that routes them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.core import records
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.customers.models import Lead
from salesloop.intel import routing
from salesloop.intel.models import FunnelBenchmark, LeadAssignment, RoutingPolicy, RoutingRule
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline.models import Stage


def _router_pool(by: User | None):
    """Whom a lead created by ``by`` may be routed to: ``None`` = anyone (system, admin,
    marketing), a subquery of the subtree for leaders, or ``False`` = do not route (a rep keeps
    the lead they entered). Why: the router must never hand a lead to someone its creator
    cannot see, or the creator's own request would lose the record it just made."""
    if by is None:
        return None
    scope = access.scope_for(by, Lead, "write")
    if scope == access.Scope.ALL:
        return None
    if scope == access.Scope.SUBTREE:
        return access.subtree_user_ids(by)
    return False


def _notify(assignment: LeadAssignment, lead: Lead) -> None:
    from salesloop.notifications.services import Draft, notifications_create

    title = _("New lead assigned to you: %(lead)s") % {"lead": lead.name}
    notifications_create(
        drafts=[
            Draft(
                recipient_id=assignment.assignee_id,
                kind="task",
                title=title,
                body=assignment.reason,
                url=f"/leads/{lead.pk}/",
                dedupe_key=f"lead-assigned:{assignment.pk}",
            )
        ]
    )


@transaction.atomic
def lead_route(*, lead: Lead, by: User | None = None, now=None) -> LeadAssignment:
    """Run the routing rules in order on ``lead`` and give it to the chosen rep.

    The first active rule whose conditions hold *and* that finds an available rep wins; a rule
    that matches but has nobody available is noted in the reason and the next rule is tried.
    With no winner the lead is left unassigned (owner empty when the creator may see unowned
    leads, else kept by its creator) and the log says why. The assignee is notified after commit;
    the first-touch SLA of the automation rules counts from this assignment's ``assigned_at``
    (``automation.triggers.LeadCreated``), so a lead routed late is not born overdue.
    """
    now = now or timezone.now()
    # One routing at a time: the policy row is the lock, so two leads created at once cannot
    # both see the same "least recently assigned" rep.
    policy = RoutingPolicy.current()
    policy = RoutingPolicy.objects.select_for_update().get(pk=policy.pk)
    pool = _router_pool(by)
    notes: list[str] = []
    if pool is False:
        notes.append(_("created by a rep: kept by its creator"))
    else:
        for rule in RoutingRule.objects.filter(is_active=True).select_related("team", "user"):
            ok, held = routing.rule_matches(rule, lead)
            if not ok:
                continue
            candidates, skipped = routing.candidates_for(rule, lead, policy, within=pool)
            if not candidates:
                notes.append(
                    _("rule «%(rule)s» matched but nobody is available (%(why)s)")
                    % {"rule": rule.name, "why": "; ".join(skipped) or _("no reps")}
                )
                continue
            best, why = routing.choose(rule.strategy, candidates)
            reason = _("rule «%(rule)s» matched on %(held)s; %(why)s") % {
                "rule": rule.name,
                "held": ", ".join(held),
                "why": why,
            }
            if notes:
                reason = "; ".join([*notes, reason])
            Lead.objects.filter(pk=lead.pk).update(owner=best.user, version=F("version") + 1, updated_at=now)
            lead.refresh_from_db()
            assignment = LeadAssignment.objects.create(
                lead=lead, assignee=best.user, rule=rule, strategy=rule.strategy, reason=reason, assigned_at=now
            )
            transaction.on_commit(partial(_notify, assignment, lead))
            return assignment
        notes.append(_("no rule found an available rep"))
        if pool is None and lead.owner_id is not None:
            Lead.objects.filter(pk=lead.pk).update(owner=None, version=F("version") + 1, updated_at=now)
            lead.refresh_from_db()
    return LeadAssignment.objects.create(
        lead=lead, assignee=None, rule=None, strategy="", reason="; ".join(notes), assigned_at=now
    )


@transaction.atomic
def lead_create(*, user: User, data: dict[str, Any], source: str = "api") -> Lead:
    """``POST /api/leads``: create, then route when the caller named no owner."""
    named_owner = data.get("owner_id") is not None
    lead = records.record_create(model=Lead, user=user, data=data, source=source)
    if not named_owner:
        lead_route(lead=lead, by=user)
        lead.refresh_from_db()
    return lead


def leads_route(*, lead_ids: list[int], by: User | None) -> list[LeadAssignment]:
    """Route many new leads (the import path), in id order so the rotation is reproducible.

    Only imports by someone who writes every lead (marketing, admin — the usual source of bulk
    expo or campaign lists) are routed; a leader's or rep's import keeps its leads with the
    importer, as the import has always done, so their bulk path stays free of per-row queries.
    """
    if _router_pool(by) is not None:
        return []
    return [lead_route(lead=lead, by=by) for lead in Lead.objects.filter(pk__in=lead_ids).order_by("pk")]


@transaction.atomic
def routing_rule_save(*, user: User, data: dict[str, Any], rule_id: int | None = None) -> RoutingRule:
    """Create or change a rule after checking its conditions can be evaluated."""
    errors = routing.conditions_errors(data.get("conditions", []))
    if errors:
        raise FieldErrors({"conditions": errors})
    if rule_id is None:
        return records.record_create(model=RoutingRule, user=user, data=data)
    instance = records.get_for_write(RoutingRule, rule_id, user)
    rule, _changes = records.record_update(instance=instance, user=user, data=data, version=None)
    return rule


# Issue #7 pages: benchmarks kept from the funnel page, rule order, "route now", dry runs -------


@transaction.atomic
def benchmark_save(*, user: User, data: dict[str, Any], benchmark_id: int | None = None) -> FunnelBenchmark:
    """Create or change a funnel benchmark (``rate`` a fraction 0..1) after checking the stages.

    Why the stage check: a benchmark from a later stage to an earlier one, or into a lost stage,
    could never be compared with a cohort conversion and would sit unnoticed on the page.
    """
    stages = {s.pk: s for s in Stage.objects.filter(pk__in=[data.get("from_stage_id"), data.get("to_stage_id")])}
    low, high = stages.get(data.get("from_stage_id")), stages.get(data.get("to_stage_id"))
    if low is not None and high is not None and (high.order <= low.order or high.is_lost or low.is_lost):
        raise FieldErrors({"to_stage_id": [_("Choose a later stage than the first one, and no lost stage.")]})
    if benchmark_id is None:
        return records.record_create(model=FunnelBenchmark, user=user, data=data)
    instance = records.get_for_write(FunnelBenchmark, benchmark_id, user)
    benchmark, _changes = records.record_update(instance=instance, user=user, data=data, version=None)
    return benchmark


@transaction.atomic
def routing_rule_move(*, user: User, rule_id: int, offset: int) -> list[RoutingRule]:
    """Move a rule ``offset`` places up (negative) or down in the evaluation order.

    Positions are rewritten 10, 20, 30… in the new order, so equal positions (which would fall
    back to id order) never hide which rule runs first.
    """
    if not access.can_write_model(user, RoutingRule):
        raise Forbidden(_("Only an administrator changes the routing rules."))
    rules = list(RoutingRule.objects.select_for_update().order_by("position", "id"))
    index = next((i for i, r in enumerate(rules) if r.pk == rule_id), None)
    if index is None:
        raise RoutingRule.DoesNotExist
    target = min(max(index + offset, 0), len(rules) - 1)
    rules.insert(target, rules.pop(index))
    for i, rule in enumerate(rules, start=1):
        if rule.position != i * 10:
            rule.position = i * 10
            RoutingRule.objects.filter(pk=rule.pk).update(position=rule.position, updated_at=timezone.now())
    return rules


def lead_route_now(*, user: User, lead_id: int) -> LeadAssignment:
    """Route an unassigned lead the user may see (the unassigned list's "route now").

    Only people who may hand leads to others route (marketing and admin anywhere, leaders within
    their subtree); a lead that already has an owner is left alone.
    """
    if _router_pool(user) is False:
        raise Forbidden(_("Only leaders, marketing and administrators route leads."))
    lead = access.restrict(Lead.objects.all(), user, "read").get(pk=lead_id)
    if lead.owner_id is not None:
        raise FieldErrors({"lead_id": [_("This lead already has an owner.")]})
    return lead_route(lead=lead, by=user)


@dataclass
class RoutingPreview:
    """What ``lead_route`` would do with a lead, without doing it."""

    rule: RoutingRule | None
    assignee: User | None
    reason: str
    tried: list[tuple[RoutingRule, bool, str]]  # every active rule: matched?, why


def lead_route_preview(*, user: User, data: dict[str, Any]) -> RoutingPreview:
    """Dry run of the routing rules on an unsaved lead built from ``data`` (no row is written).

    Same rules, candidates and tie-break as :func:`lead_route`, seen with ``user``'s routing
    pool; the seeded rotation of an unsaved lead has no id, so a real lead tied between reps
    may land on another of the tied reps (the preview says when a tie was broken).
    """
    pool = _router_pool(user)
    if pool is False:
        raise Forbidden(_("Only leaders, marketing and administrators route leads."))
    fields = {f.name for f in Lead._meta.concrete_fields if not f.is_relation}
    unknown = sorted(k for k in data if k not in fields)
    if unknown:
        raise FieldErrors({k: [_("Not a lead field.")] for k in unknown})
    lead = Lead(**data)
    policy = RoutingPolicy.current()
    tried: list[tuple[RoutingRule, bool, str]] = []
    for rule in RoutingRule.objects.filter(is_active=True).select_related("team", "user"):
        ok, held = routing.rule_matches(rule, lead)
        if not ok:
            tried.append((rule, False, _("conditions do not hold")))
            continue
        candidates, skipped = routing.candidates_for(rule, lead, policy, within=pool)
        if not candidates:
            why = _("matched but nobody is available (%(why)s)") % {"why": "; ".join(skipped) or _("no reps")}
            tried.append((rule, False, why))
            continue
        best, why = routing.choose(rule.strategy, candidates)
        reason = _("rule «%(rule)s» matched on %(held)s; %(why)s") % {
            "rule": rule.name,
            "held": ", ".join(held),
            "why": why,
        }
        tried.append((rule, True, reason))
        return RoutingPreview(rule=rule, assignee=best.user, reason=reason, tried=tried)
    return RoutingPreview(rule=None, assignee=None, reason=_("no rule found an available rep"), tried=tried)


def may_route(user: User) -> bool:
    """Whether ``user`` may hand leads to others by the rules ("route now", the dry run)."""
    return _router_pool(user) is not False
