"""Writes from the daily workspace. Stage moves go through ``pipeline.services`` directly."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.activities.models import Activity
from salesloop.core.errors import FieldErrors
from salesloop.core.records import record_create
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline.models import Opportunity


@transaction.atomic
def activity_log_quick(
    *,
    user: User,
    kind: str,
    account_id: int | None = None,
    opportunity_id: int | None = None,
    note: str = "",
) -> Activity:
    """Log a visit or call that happened just now, against an account or a deal.

    A deal's activity is also linked to the deal's account, so it shows on the account's
    timeline. Visibility, ownership and validation are those of ``record_create``: a rep may
    only log against what they can see, and the activity is theirs.
    """
    if (account_id is None) == (opportunity_id is None):
        raise FieldErrors({"link": [_("Choose one account or one opportunity.")]})
    data = {"kind": kind, "occurred_at": timezone.now(), "notes": note.strip(), "owner_id": user.pk}
    if opportunity_id is not None:
        account = (
            access.restrict(Opportunity.objects.all(), user)
            .filter(pk=opportunity_id)
            .values_list("account_id", flat=True)
            .first()
        )
        if account is None:
            raise FieldErrors({"link": [_("Unknown opportunity.")]})
        data.update(opportunity_id=opportunity_id, account_id=account)
    else:
        data["account_id"] = account_id
    try:
        return record_create(model=Activity, user=user, data=data, source="web")
    except FieldErrors as exc:
        # The picker is one field on the form: report a bad account/opportunity id against it.
        errors = dict(exc.errors)
        for key in ("account_id", "opportunity_id"):
            if key in errors:
                errors.setdefault("link", []).extend(errors.pop(key))
        raise FieldErrors(errors) from exc
