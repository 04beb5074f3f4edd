"""Admin writes on automation data: rules (versioned), holidays and settings.

A rule's conditions are validated against its trigger's declaration (``triggers.Param``) and its
title templates against the trigger's placeholders, so a typo is a field error at save time and
never a broken task title at 08:30.
"""

from __future__ import annotations

import string
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.automation.models import AutomationSettings, Holiday, Rule
from salesloop.automation.triggers import TRIGGERS, Param
from salesloop.core import records
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.org import access
from salesloop.org.models import User

RULE_FIELDS = (
    "name",
    "name_en",
    "description",
    "is_active",
    "trigger",
    "params",
    "create_task",
    "task_kind",
    "task_title",
    "task_title_en",
    "assign_to",
    "due_amount",
    "due_unit",
    "notify_assignee",
    "notify_lead",
    "notify_role",
    "escalate_after_hours",
)


def _clean_param(param: Param, value: Any) -> tuple[Any, str | None]:
    if param.kind == "int":
        if isinstance(value, bool):
            return value, _("Give a whole number.")
        if isinstance(value, float) and not value.is_integer():
            return value, _("Give a whole number.")
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return value, _("Give a whole number.")
        if param.minimum is not None and number < param.minimum:
            return value, _("At least %(n)s.") % {"n": param.minimum}
        if param.maximum is not None and number > param.maximum:
            return value, _("At most %(n)s.") % {"n": param.maximum}
        return number, None
    if param.kind == "bool":
        if not isinstance(value, bool):
            return value, _("Give true or false.")
        return value, None
    if param.kind == "choice":
        allowed = {code for code, _label in (param.choices() if param.choices else [])}
        if value not in allowed:
            return value, _("Choose one of: %(choices)s.") % {"choices": ", ".join(sorted(allowed))}
        return value, None
    if param.kind == "choices":
        allowed = {code for code, _label in (param.choices() if param.choices else [])}
        if not isinstance(value, list) or not value:
            return value, _("Choose at least one.")
        bad = [v for v in value if v not in allowed]
        if bad:
            return value, _("Unknown: %(values)s.") % {"values": ", ".join(map(str, bad))}
        return list(dict.fromkeys(value)), None
    if param.kind == "words":
        if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
            return value, _("Give a list of words.")
        words = [w.strip() for w in value if w.strip()]
        if not words:
            return value, _("Give at least one word.")
        if any(len(w) > 60 for w in words):
            return value, _("Each word may have at most 60 characters.")
        return words, None
    return value, _("Unsupported condition.")


def clean_params(trigger: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against ``trigger``'s declaration; defaults filled in."""
    spec = TRIGGERS.get(trigger)
    if spec is None:
        raise FieldErrors({"trigger": [_("Unknown trigger.")]})
    if not isinstance(params, dict):
        raise FieldErrors({"params": [_("Conditions must be an object.")]})
    errors: dict[str, list[str]] = {}
    declared = {p.name: p for p in spec.params}
    for key in params:
        if key not in declared:
            errors[f"params.{key}"] = [
                _("This trigger has no condition named %(name)s.") % {"name": key}
            ]
    clean: dict[str, Any] = {}
    for name, param in declared.items():
        value, error = _clean_param(param, params.get(name, param.default))
        if error:
            errors[f"params.{name}"] = [error]
        clean[name] = value
    if errors:
        raise FieldErrors(errors)
    return clean


def check_template(trigger: str, template: str, field_name: str) -> None:
    spec = TRIGGERS[trigger]
    try:
        names = {
            name
            for _text, name, _spec, _conv in string.Formatter().parse(template)
            if name is not None
        }
    except ValueError:
        raise FieldErrors({field_name: [_("Unbalanced { or } in the title.")]}) from None
    unknown = sorted(n for n in names if n not in spec.placeholders)
    if unknown:
        raise FieldErrors(
            {
                field_name: [
                    _("Unknown placeholders %(unknown)s; this trigger offers %(offered)s.")
                    % {
                        "unknown": ", ".join(f"{{{n}}}" for n in unknown),
                        "offered": ", ".join(f"{{{n}}}" for n in spec.placeholders),
                    }
                ]
            }
        )


@transaction.atomic
def rule_update(*, rule_id: int, user: User, data: dict[str, Any], version: int | None) -> Rule:
    """Change a rule (admin). Switching a rule back on restarts its event clock (no flood)."""
    data = {k: v for k, v in data.items() if k in RULE_FIELDS}
    rule = records.get_for_write(Rule, rule_id, user)
    trigger = data.get("trigger", rule.trigger)
    if "params" in data or "trigger" in data:
        data["params"] = clean_params(
            trigger, data.get("params", rule.params if trigger == rule.trigger else {})
        )
    for field_name in ("task_title", "task_title_en"):
        check_template(trigger, data.get(field_name, getattr(rule, field_name)), field_name)
    if data.get("is_active") and not rule.is_active:
        data["active_since"] = timezone.now()
    rule, _changes = records.record_update(
        instance=rule, user=user, data=data, version=version, source="automation"
    )
    return rule


def _admin_only(user: User, model) -> None:
    if not access.can_write_model(user, model):
        raise Forbidden()


@transaction.atomic
def holiday_create(*, user: User, data: dict[str, Any]) -> Holiday:
    _admin_only(user, Holiday)
    holiday = Holiday(**{k: v for k, v in data.items() if k in ("date", "name", "kind")})
    records.validate(holiday)
    holiday.save()
    return holiday


@transaction.atomic
def holiday_delete(*, user: User, holiday: Holiday) -> None:
    _admin_only(user, Holiday)
    holiday.delete()


SETTINGS_FIELDS = (
    "workday_start",
    "workday_end",
    "deals_to_push_days",
    "delivery_max_attempts",
    "delivery_backoff_seconds",
    "job_max_attempts",
    "job_retry_backoff_seconds",
    "job_lease_seconds",
    "keep_runs_days",
)


@transaction.atomic
def settings_update(*, user: User, data: dict[str, Any]) -> AutomationSettings:
    if not (user.is_superuser or user.is_admin_role):
        raise Forbidden()
    conf = AutomationSettings.current()
    for key, value in data.items():
        if key in SETTINGS_FIELDS:
            setattr(conf, key, value)
    records.validate(conf)
    conf.save()
    return conf
