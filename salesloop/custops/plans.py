"""Validation of an account plan's stakeholders and next steps (lists kept on the plan)."""

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from salesloop.custops.models import StakeholderRole, StakeholderStance

MAX_ENTRIES = 50


def _error(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def validate_stakeholders(items: Any, *, account_id: int | None) -> dict[str, list[str]]:
    """Field errors keyed ``stakeholders.<i>.<field>``; an empty dict when all is well."""
    from salesloop.customers.models import Contact

    errors: dict[str, list[str]] = {}
    if not isinstance(items, list):
        return {"stakeholders": [_("A list of stakeholders.")]}
    if len(items) > MAX_ENTRIES:
        return {"stakeholders": [_("At most %(n)s entries.") % {"n": MAX_ENTRIES}]}
    contact_ids = set()
    for i, item in enumerate(items):
        key = f"stakeholders.{i}"
        if not isinstance(item, dict):
            _error(errors, key, _("Each stakeholder is an object."))
            continue
        unknown = set(item) - {
            "name",
            "title",
            "contact_id",
            "role",
            "stance",
            "influence",
            "notes",
        }
        if unknown:
            _error(errors, key, _("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
        if not str(item.get("name") or "").strip():
            _error(errors, f"{key}.name", _("A name is required."))
        if item.get("role", "") not in StakeholderRole.values:
            _error(
                errors,
                f"{key}.role",
                _("Choose one of: %(v)s.") % {"v": ", ".join(StakeholderRole.values)},
            )
        if item.get("stance", "") not in StakeholderStance.values:
            _error(
                errors,
                f"{key}.stance",
                _("Choose one of: %(v)s.") % {"v": ", ".join(StakeholderStance.values)},
            )
        influence = item.get("influence", 3)
        if not isinstance(influence, int) or isinstance(influence, bool) or not 1 <= influence <= 5:
            _error(errors, f"{key}.influence", _("A whole number from 1 to 5."))
        for text_field, limit in (("name", 120), ("title", 120), ("notes", 500)):
            if len(str(item.get(text_field) or "")) > limit:
                _error(errors, f"{key}.{text_field}", _("At most %(n)s characters.") % {"n": limit})
        contact_id = item.get("contact_id")
        if contact_id is not None:
            if not isinstance(contact_id, int) or isinstance(contact_id, bool):
                _error(errors, f"{key}.contact_id", _("A contact id."))
            else:
                contact_ids.add((i, contact_id))
    if contact_ids and account_id:
        known = set(
            Contact.objects.filter(
                account_id=account_id, pk__in=[c for _i, c in contact_ids]
            ).values_list("pk", flat=True)
        )
        for i, contact_id in contact_ids:
            if contact_id not in known:
                _error(errors, f"stakeholders.{i}.contact_id", _("Not a contact of this account."))
    return errors


def validate_next_steps(items: Any) -> dict[str, list[str]]:
    from salesloop.org.models import User

    errors: dict[str, list[str]] = {}
    if not isinstance(items, list):
        return {"next_steps": [_("A list of next steps.")]}
    if len(items) > MAX_ENTRIES:
        return {"next_steps": [_("At most %(n)s entries.") % {"n": MAX_ENTRIES}]}
    owner_ids = set()
    for i, item in enumerate(items):
        key = f"next_steps.{i}"
        if not isinstance(item, dict):
            _error(errors, key, _("Each next step is an object."))
            continue
        unknown = set(item) - {"action", "due_date", "owner_id", "done"}
        if unknown:
            _error(errors, key, _("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
        action = str(item.get("action") or "").strip()
        if not action:
            _error(errors, f"{key}.action", _("Say what will be done."))
        elif len(action) > 200:
            _error(errors, f"{key}.action", _("At most %(n)s characters.") % {"n": 200})
        due = item.get("due_date")
        try:
            dt.date.fromisoformat(str(due))
        except ValueError:
            _error(errors, f"{key}.due_date", _("A date as YYYY-MM-DD."))
        if not isinstance(item.get("done", False), bool):
            _error(errors, f"{key}.done", _("true or false."))
        owner_id = item.get("owner_id")
        if owner_id is not None:
            if not isinstance(owner_id, int) or isinstance(owner_id, bool):
                _error(errors, f"{key}.owner_id", _("A user id."))
            else:
                owner_ids.add((i, owner_id))
    if owner_ids:
        known = set(
            User.objects.filter(pk__in=[o for _i, o in owner_ids], is_active=True).values_list(
                "pk", flat=True
            )
        )
        for i, owner_id in owner_ids:
            if owner_id not in known:
                _error(
                    errors,
                    f"next_steps.{i}.owner_id",
                    _("Unknown user id %(id)s.") % {"id": owner_id},
                )
    return errors
