"""Writes on the pipeline: opportunities and their stage moves."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from salesloop.core.records import get_for_write, record_create, record_update
from salesloop.intel.stage_reach import stage_reach_record
from salesloop.org.models import User
from salesloop.pipeline.models import Opportunity, Stage, StageChange


def _log_stage_change(*, opportunity: Opportunity, from_stage_id: int | None, by: User | None, at=None) -> None:
    at = at or timezone.now()
    StageChange.objects.create(
        opportunity=opportunity,
        from_stage_id=from_stage_id,
        to_stage_id=opportunity.stage_id,
        changed_at=at,
        changed_by=by,
        amount=opportunity.amount,
    )
    # Same transaction: the funnel's first-reach table (intel.StageReach) never lags a move.
    stage_reach_record(opportunity_id=opportunity.pk, stage_id=opportunity.stage_id, at=at)


def _closing_fields(stage: Stage, opportunity: Opportunity | None) -> dict[str, Any]:
    """Entering a closed stage stamps ``closed_at``; reopening clears it. Leaving the lost stage
    also clears the loss reason and note (they stay in the deal's audit history), so a reopened
    or won deal is never counted under a loss reason it no longer has."""
    fields: dict[str, Any] = {"closed_at": None}
    if stage.is_closed:
        fields["closed_at"] = opportunity.closed_at if opportunity and opportunity.closed_at else timezone.now()
    if not stage.is_lost and opportunity is not None and (opportunity.loss_reason_id or opportunity.loss_note):
        fields.update(loss_reason_id=None, loss_note="")
    return fields


@transaction.atomic
def opportunity_create(*, user: User, data: dict[str, Any], source: str = "api") -> Opportunity:
    data = dict(data)
    if data.get("stage_id") is None:
        data["stage_id"] = Stage.objects.filter(is_active=True).order_by("order").values_list("pk", flat=True).first()
    stage = Stage.objects.filter(pk=data["stage_id"]).first()
    if stage is not None:
        data.update(_closing_fields(stage, None))
    data["stage_entered_at"] = timezone.now()
    opportunity = record_create(model=Opportunity, user=user, data=data, source=source)
    _log_stage_change(opportunity=opportunity, from_stage_id=None, by=user)
    return opportunity


@transaction.atomic
def opportunity_update(
    *, opportunity_id: int, user: User, data: dict[str, Any], version: int | None, source: str = "api"
) -> Opportunity:
    """Edit a deal; a change of stage is logged with its time and the amount at that moment."""
    opportunity = get_for_write(Opportunity, opportunity_id, user)
    from_stage_id = opportunity.stage_id
    data = dict(data)
    new_stage_id = data.get("stage_id", from_stage_id)
    if new_stage_id != from_stage_id:
        stage = Stage.objects.filter(pk=new_stage_id).first()
        if stage is not None:
            data.update(_closing_fields(stage, opportunity))
            data["stage_entered_at"] = timezone.now()
    opportunity, changes = record_update(instance=opportunity, user=user, data=data, version=version, source=source)
    if "stage_id" in changes:
        _log_stage_change(opportunity=opportunity, from_stage_id=from_stage_id, by=user)
    return opportunity


@transaction.atomic
def opportunity_stage_moved(*, opportunity: Opportunity, from_stage_id: int | None, by: User | None) -> Opportunity:
    """Record a stage move saved outside :func:`opportunity_update` (the admin): the time in the
    new stage starts, entering a closed stage stamps ``closed_at`` (reopening clears it), and the
    move is logged like any other, so funnel and cycle-time figures see it."""
    fields = {**_closing_fields(opportunity.stage, opportunity), "stage_entered_at": timezone.now()}
    Opportunity.objects.filter(pk=opportunity.pk).update(**fields)
    for name, value in fields.items():
        setattr(opportunity, name, value)
    _log_stage_change(opportunity=opportunity, from_stage_id=from_stage_id, by=by)
    return opportunity


def opportunity_move_stage(
    *, opportunity_id: int, stage_id: int, version: int, user: User, **extra: Any
) -> Opportunity:
    """The pipeline board's drag and drop: same rules as any edit (scope, version, validation)."""
    return opportunity_update(
        opportunity_id=opportunity_id, user=user, data={"stage_id": stage_id, **extra}, version=version, source="board"
    )
