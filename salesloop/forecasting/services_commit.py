"""Writes of the commit workflow (issue #7 §4 (c)): categorise a deal, submit a number, adjust one.

Who may do what (the sales line of ``org.access``):

* a deal's category is set by the deal's owner or a leader whose team subtree holds the owner;
  a won deal is always ``closed`` and a lost deal takes no category (it never counts);
* a person submits a number only for their own book (reps, and leaders for the deals they own);
  each submission stores the live roll-ups of that moment, and a resubmission adds a row;
* an adjustment is made by a leader strictly above the owner (the owner sits in their team
  subtree), with a reason and a number ≥ 0, on the owner's latest submission. It is stored as its
  own row: the owner's number is never overwritten.

Everything a user cannot see answers "not found"; what they see but may not change, "forbidden".
Category changes are audited on the opportunity (``forecast_category``); submissions and
adjustments are append-only rows and are their own history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.audit.models import AuditAction
from salesloop.audit.services import audit_record
from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.forecasting.commit import CategoryTotals, commit_by_rep, is_manager_of, may_categorise, may_read_book
from salesloop.forecasting.models import Adjustment, Category, DealCategory, ScopeKind, Submission
from salesloop.notifications.models import NotificationKind
from salesloop.notifications.services import Draft, notifications_create
from salesloop.org import access
from salesloop.org.models import OrgSettings, User
from salesloop.pipeline.models import Opportunity

#: Categories a person may choose for an open deal (``closed`` belongs to won deals alone).
OPEN_CATEGORIES = (Category.PIPELINE, Category.BEST_CASE, Category.COMMIT, Category.OMITTED)

#: The longest period one may submit for (a fiscal year, leap day included).
MAX_PERIOD_DAYS = 366


# Who is above whom ------------------------------------------------------------------------------


def may_submit(user: User) -> bool:
    """Reps and leaders submit for their own book; support roles and admin have none."""
    return user.is_authenticated and user.is_active and user.role in access.SALES_ROLES


# Validation -------------------------------------------------------------------------------------


def clean_amount(value: Any, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise FieldErrors({field: [_("Enter a number.")]}) from exc
    if not amount.is_finite():
        raise FieldErrors({field: [_("Enter a number.")]})
    if amount < 0:
        raise FieldErrors({field: [_("The forecast cannot be negative.")]})
    if amount.as_tuple().exponent < -2:
        raise FieldErrors({field: [_("Money has at most two decimal places.")]})
    if amount >= Decimal(10) ** 14:
        raise FieldErrors({field: [_("This number is too large.")]})
    return amount


def clean_period(period_start: Any, period_end: Any) -> tuple[dt.date, dt.date]:
    errors: dict[str, list[str]] = {}
    if not isinstance(period_start, dt.date):
        errors["period_start"] = [_("Give the period's first day.")]
    if not isinstance(period_end, dt.date):
        errors["period_end"] = [_("Give the period's last day.")]
    if errors:
        raise FieldErrors(errors)
    if period_end < period_start:
        raise FieldErrors({"period_end": [_("The period cannot end before it starts.")]})
    if (period_end - period_start).days + 1 > MAX_PERIOD_DAYS:
        raise FieldErrors({"period_end": [_("A forecast period is at most a year.")]})
    return period_start, period_end


# Deal category ----------------------------------------------------------------------------------


@transaction.atomic
def deal_category_set(
    *, opportunity_id: int, category: str, by: User, version: int | None = None, source: str = "api"
) -> DealCategory:
    """Put an open deal in a forecast category; returns the stored row (created or updated).

    ``version`` (optional) is the row's version the client saw; a stale one → 409.
    """
    readable = access.restrict(Opportunity.objects.select_related("stage", "owner__team"), by, "read")
    deal = readable.select_for_update(of=("self",)).get(pk=opportunity_id)  # ObjectDoesNotExist → 404
    if not may_categorise(by, deal.owner):
        raise Forbidden(_("Only the deal's owner or their managers may set its forecast category."))
    if deal.stage.is_lost:
        raise FieldErrors({"category": [_("A lost deal never counts in a forecast.")]})
    if deal.stage.is_won:
        raise FieldErrors({"category": [_("A won deal is always counted as Closed.")]})
    if category not in OPEN_CATEGORIES:
        raise FieldErrors({"category": [_("Choose pipeline, best case, commit or omitted.")]})
    row = DealCategory.objects.select_for_update().filter(opportunity=deal).first()
    before = row.category if row is not None else Category.PIPELINE
    if row is None:  # nothing to be stale against: the first choice is stored
        row = DealCategory.objects.create(opportunity=deal, category=category, set_by=by)
    else:
        if version is not None and version != row.version:
            raise Conflict(row)
        row.category, row.set_by, row.version = category, by, row.version + 1
        row.save(update_fields=["category", "set_by", "version", "updated_at"])
    if before != category:
        audit_record(
            instance=deal,
            action=AuditAction.UPDATE,
            actor=by,
            changes={"forecast_category": [before, category]},
            source=source,
        )
    return row


# Submission -------------------------------------------------------------------------------------


@transaction.atomic
def submission_create(
    *,
    by: User,
    period_start: dt.date,
    period_end: dt.date,
    amount: Any,
    note: str = "",
    at: dt.datetime | None = None,
) -> Submission:
    """``by`` submits their number for their own book and the period; the live roll-ups of this
    moment are stored with it. A resubmission adds a row (the latest counts)."""
    if not may_submit(by):
        raise Forbidden(_("Only people with their own sales book submit a forecast."))
    period_start, period_end = clean_period(period_start, period_end)
    value = clean_amount(amount)
    currency = OrgSettings.current().currency
    # Serialise one person's submissions so two tabs cannot interleave roll-up and insert.
    User.objects.select_for_update().filter(pk=by.pk).first()
    lines = commit_by_rep(
        scope_kind=ScopeKind.REP, scope_id=by.pk, period_start=period_start, period_end=period_end, currency=currency
    )
    totals = lines[0].totals if lines else CategoryTotals()
    return Submission.objects.create(
        owner=by,
        period_start=period_start,
        period_end=period_end,
        amount=value,
        currency=currency,
        closed_amount=totals.closed,
        commit_amount=totals.commit,
        best_case_amount=totals.best_case,
        pipeline_amount=totals.pipeline,
        note=(note or "").strip()[:2000],
        submitted_at=at or timezone.now(),
    )


# Adjustment -------------------------------------------------------------------------------------


def submission_for(*, user: User, submission_id: int) -> Submission:
    """The submission if ``user`` may see it, else ``Submission.DoesNotExist`` (→ 404)."""
    sub = Submission.objects.select_related("owner__team").get(pk=submission_id)
    if not may_read_book(user, sub.owner):
        raise Submission.DoesNotExist
    return sub


@transaction.atomic
def adjustment_create(
    *, by: User, submission_id: int, amount: Any, reason: str, at: dt.datetime | None = None
) -> Adjustment:
    """A manager above the owner adjusts the owner's latest submission, with a reason. The owner
    is told (in-app notification, after commit)."""
    sub = submission_for(user=by, submission_id=submission_id)  # DoesNotExist → 404
    if not is_manager_of(by, sub.owner):
        raise Forbidden(_("Only a manager above the owner may adjust this forecast."))
    errors: dict[str, list[str]] = {}
    value: Decimal | None = None
    try:
        value = clean_amount(amount)
    except FieldErrors as exc:
        errors.update(exc.errors)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why you adjust this forecast.")]
    if errors:
        raise FieldErrors(errors)
    latest = (
        Submission.objects.select_for_update()
        .filter(owner=sub.owner, period_start=sub.period_start, period_end=sub.period_end)
        .order_by("-submitted_at", "-id")
        .first()
    )
    if latest is not None and latest.pk != sub.pk:
        raise FieldErrors({"submission_id": [_("A newer submission exists for this period; adjust that one.")]})
    adjustment = Adjustment.objects.create(
        submission=sub,
        adjusted_by=by,
        amount=value,
        currency=sub.currency,
        reason=reason[:2000],
        adjusted_at=at or timezone.now(),
    )
    draft = Draft(
        recipient_id=sub.owner_id,
        kind=NotificationKind.SYSTEM,
        title=_("%(manager)s adjusted your forecast for %(start)s – %(end)s")
        % {"manager": str(by), "start": sub.period_start.isoformat(), "end": sub.period_end.isoformat()},
        body=reason[:500],
        url=reverse("forecasting:commit") + f"?start={sub.period_start}&end={sub.period_end}",
        dedupe_key=f"forecast-adjustment:{adjustment.pk}",
    )
    transaction.on_commit(lambda: notifications_create(drafts=[draft]))
    return adjustment
