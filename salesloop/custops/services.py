"""Writes of customer operations: the scoring run, needs, account plans, tier decisions."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.analytics.queries import rfm
from salesloop.core.errors import FieldErrors
from salesloop.core.records import get_for_write, record_create, record_update
from salesloop.customers.models import Account, KeyAccountTier
from salesloop.custops.models import (
    AccountPlan,
    CustomerNeed,
    CustomerOpsPolicy,
    GridSegment,
    MonetarySource,
    NeedTag,
    RuleSegment,
    ScoringRun,
    SegmentKind,
)
from salesloop.custops.needs import normalise_tags
from salesloop.custops.scoring import churn_recompute
from salesloop.org.models import OrgSettings, User


def _check_grid(grid: list[GridSegment]) -> None:
    """The active R×F segments must cover each of the 25 cells exactly once."""
    seen: dict[tuple[int, int], str] = {}
    errors = []
    for cell in grid:
        for key in cell.cells():
            if key in seen:
                errors.append(
                    _("R=%(r)s F=%(f)s is in both %(a)s and %(b)s.")
                    % {"r": key[0], "f": key[1], "a": seen[key], "b": cell.code}
                )
            seen[key] = cell.code
    missing = [(r, f) for r in range(1, 6) for f in range(1, 6) if (r, f) not in seen]
    if missing:
        errors.append(
            _("No R×F segment covers %(cells)s.")
            % {"cells": ", ".join(f"R={r} F={f}" for r, f in missing)}
        )
    if errors:
        raise FieldErrors({"grid_segments": errors})


def _check_rules(rules: list[RuleSegment]) -> None:
    kinds = [r.kind for r in rules]
    errors = []
    for kind in (SegmentKind.NO_PURCHASE, SegmentKind.FALLBACK):
        if kinds.count(kind) != 1:
            errors.append(
                _("Exactly one active row of kind “%(kind)s” is needed.") % {"kind": kind}
            )
    if errors:
        raise FieldErrors({"rule_segments": errors})


def _policy_snapshot(policy: CustomerOpsPolicy, rules, grid) -> dict[str, Any]:
    def plain(obj) -> dict[str, Any]:
        data = model_to_dict(obj)
        return {
            k: (str(v) if v is not None and not isinstance(v, bool | int | str) else v)
            for k, v in data.items()
        }

    return {
        "policy": plain(policy),
        "rules": [plain(r) for r in rules],
        "grid": [plain(g) for g in grid],
    }


@transaction.atomic
def scoring_run_create(*, as_of: dt.date | None = None) -> ScoringRun:
    """Recompute every account's RFM, segments (recording moves) and churn scores.

    Set-based: the RFM part is four SQL statements (``analytics.queries.rfm``), the churn part
    one query, two maximum-likelihood fits and bulk upserts. Safe to run again for the same day:
    segments that did not move record nothing, flags keep their ``flagged_since``.
    """
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    policy = CustomerOpsPolicy.current()
    rules = list(RuleSegment.objects.filter(is_active=True).order_by("precedence", "id"))
    grid = list(GridSegment.objects.filter(is_active=True))
    _check_rules(rules)
    _check_grid(grid)
    currency = OrgSettings.current().currency
    run = ScoringRun.objects.create(as_of=as_of, policy=_policy_snapshot(policy, rules, grid))
    outcome = rfm.recompute(
        rfm.RfmRequest(
            as_of=as_of,
            run_id=run.pk,
            window_days=policy.rfm_window_days,
            currency=currency,
            monetary_from_payments=policy.monetary_source == MonetarySource.PAYMENTS,
            rules=[
                rfm.RuleSpec(
                    r.code,
                    r.kind,
                    r.recency_min_days,
                    r.recency_max_days,
                    r.frequency_min,
                    r.frequency_max,
                    r.monetary_min,
                    r.monetary_max,
                    r.value_rank,
                )
                for r in rules
            ],
            grid=[
                rfm.GridSpec(
                    g.code,
                    g.recency_score_min,
                    g.recency_score_max,
                    g.frequency_score_min,
                    g.frequency_score_max,
                    g.value_rank,
                )
                for g in grid
            ],
        )
    )
    fits, flagged = churn_recompute(run=run, policy=policy, currency=currency)
    run.bgnbd, run.gamma_gamma = fits.as_json()
    run.accounts = outcome.accounts
    run.segment_changes = outcome.rule_changes + outcome.grid_changes
    run.flagged = flagged
    run.finished_at = timezone.now()
    run.seconds = time.perf_counter() - started
    run.save()
    return run


# Needs ---------------------------------------------------------------------------------------


def _write_tags(need: CustomerNeed) -> None:
    NeedTag.objects.filter(need=need).exclude(tag__in=need.tags).delete()
    have = set(NeedTag.objects.filter(need=need).values_list("tag", flat=True))
    NeedTag.objects.bulk_create([NeedTag(need=need, tag=t) for t in need.tags if t not in have])


def _need_data(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "tags" in data:
        try:
            data["tags"] = normalise_tags(data["tags"])
        except ValueError as exc:
            raise FieldErrors({"tags": [str(exc)]}) from exc
    return data


@transaction.atomic
def need_create(*, user: User, data: dict[str, Any], source: str = "api") -> CustomerNeed:
    """Capture a need; the writer is who captured it, now unless a time is given."""
    data = _need_data(data)
    data.setdefault("captured_by_id", user.pk)
    if data.get("captured_at") is None:
        data["captured_at"] = timezone.now()
    need = record_create(model=CustomerNeed, user=user, data=data, source=source)
    _write_tags(need)
    return need


@transaction.atomic
def need_update(
    need_id: int, *, user: User, data: dict[str, Any], version: int | None
) -> CustomerNeed:
    need = get_for_write(CustomerNeed, need_id, user)
    need, changes = record_update(instance=need, user=user, data=_need_data(data), version=version)
    if "tags" in changes:
        _write_tags(need)
    return need


# Account plans -------------------------------------------------------------------------------


@transaction.atomic
def account_plan_create(*, user: User, data: dict[str, Any], source: str = "api") -> AccountPlan:
    data = dict(data)
    if not data.get("currency"):
        data["currency"] = OrgSettings.current().currency
    return record_create(model=AccountPlan, user=user, data=data, source=source)


@transaction.atomic
def account_plan_update(
    plan_id: int, *, user: User, data: dict[str, Any], version: int | None
) -> AccountPlan:
    plan = get_for_write(AccountPlan, plan_id, user)
    plan, _changes = record_update(instance=plan, user=user, data=data, version=version)
    return plan


# Key-account tiers ---------------------------------------------------------------------------


@transaction.atomic
def account_tier_set(*, account_id: int, tier: str, version: int, user: User) -> Account:
    """Set (or clear, with ``""``) an account's key-account tier: versioned and audited."""
    if tier not in ("", *KeyAccountTier.values):
        raise FieldErrors(
            {"tier": [_("Choose one of: %(v)s.") % {"v": ", ".join(KeyAccountTier.values)}]}
        )
    account = get_for_write(Account, account_id, user)
    account, _changes = record_update(
        instance=account, user=user, data={"key_account_tier": tier}, version=version, source="tier"
    )
    return account
