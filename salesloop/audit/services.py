"""Writing the audit log. Called by the record services and the admin, never by views directly."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from salesloop.audit.models import AuditAction, AuditEntry

#: Models whose every change is logged (issue #2 §8); targets join when they exist.
AUDITED_LABELS = frozenset(
    {
        "customers.account",
        "pipeline.opportunity",
        "sales.order",
        "sales.payment",
        "sales.invoice",
        "sales.contract",
        "targets.target",
    }
)

_SKIPPED = {"id", "version", "created_at", "updated_at"}


def is_audited(model: type[Model]) -> bool:
    return model._meta.label_lower in AUDITED_LABELS


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(instance: Model) -> dict[str, Any]:
    """The stored values of ``instance`` as JSON-safe data (foreign keys as ids)."""
    return {
        f.attname: _plain(getattr(instance, f.attname))
        for f in instance._meta.concrete_fields
        if f.attname not in _SKIPPED
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    instance: Model,
    action: str,
    actor: Model | None,
    changes: dict[str, list[Any]] | None = None,
    source: str = "api",
) -> AuditEntry | None:
    if not is_audited(type(instance)):
        return None
    if action == AuditAction.UPDATE and not changes:
        return None
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        changes=changes or {},
        source=source,
    )
