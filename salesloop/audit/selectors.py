"""Reading a record's history."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from salesloop.audit.models import AuditEntry


def history_for(instance: Model) -> QuerySet[AuditEntry]:
    """The audit trail of one record, newest first. Callers check that the record is visible."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(instance)), object_id=instance.pk
    ).select_related("actor")
