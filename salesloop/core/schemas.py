"""Pydantic schemas derived from Django models, so each field is declared once (on the model).

Why generate: fifteen resources × in/patch/out schemas by hand would repeat every field's type
and choice list; here a resource names its fields and the model supplies type, choices and
nullability. Business validation still happens in ``full_clean`` (one place, field errors).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db import models
from django.utils.translation import gettext
from ninja import Schema
from pydantic import AfterValidator, Field, create_model

_TYPES: list[tuple[type[models.Field], Any]] = [
    (models.BooleanField, bool),
    (models.DateTimeField, datetime),
    (models.DateField, date),
    (models.DecimalField, Decimal),
    (models.BigAutoField, int),
    (models.IntegerField, int),
    (models.JSONField, Any),
    (models.CharField, str),
    (models.TextField, str),
]


#: The largest value of a database ``bigint``. Ids beyond it cannot exist, and SQLite raises
#: ``OverflowError`` on them instead of finding nothing, so inputs are bounded here.
BIGINT_MAX = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]


# A day's margin on either end, so that converting to UTC from any time zone stays in range.
_EARLIEST, _LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)


def _storable(value: datetime) -> datetime:
    if not _EARLIEST <= value.replace(tzinfo=None) <= _LATEST:
        raise ValueError(gettext("This time is outside the range that can be stored."))
    return value


DbDateTime = Annotated[datetime, AfterValidator(_storable)]


def _without_nul(value: Any) -> Any:
    """PostgreSQL cannot store NUL in text or JSON (and a query with one fails), so refuse it."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(gettext("Text cannot contain NUL characters."))
    if isinstance(value, list):
        for item in value:
            _without_nul(item)
    if isinstance(value, dict):
        for key, item in value.items():
            _without_nul(key)
            _without_nul(item)
    return value


Text = Annotated[str, AfterValidator(_without_nul)]
JsonValue = Annotated[Any, AfterValidator(_without_nul)]


def bounded(py_type: Any) -> Any:
    """Inputs limited to what the database can store: ids within ``bigint``, times whose UTC
    conversion does not overflow (year 1 at +14:00 would), text and JSON without NUL."""
    return {int: DbId, datetime: DbDateTime, str: Text, Any: JsonValue}.get(py_type, py_type)


def _python_type(field: models.Field, *, for_input: bool) -> Any:
    if isinstance(field, models.ForeignKey):
        return DbId if for_input else int
    if field.choices and for_input:
        return Literal[tuple(value for value, _label in field.flatchoices)]  # type: ignore[misc]
    for django_type, py_type in _TYPES:
        if isinstance(field, django_type):
            if for_input and py_type is not int:  # integer fields: range checked by full_clean
                return bounded(py_type)
            return py_type
    return Text if for_input else str


def _field_spec(
    model: type[models.Model], name: str, *, mode: str, optional: frozenset[str] = frozenset()
) -> tuple[str, tuple[Any, Any]]:
    field = model._meta.get_field(name)
    key = field.attname if isinstance(field, models.ForeignKey) else name
    py = _python_type(field, for_input=mode != "out")
    if mode == "out":
        return key, (py | None, None)
    extra: dict[str, Any] = {}
    if isinstance(field, models.CharField | models.TextField) and field.max_length:
        extra["max_length"] = field.max_length
    if isinstance(field, models.DecimalField):
        extra.update(max_digits=field.max_digits, decimal_places=field.decimal_places)
    if mode == "patch" or field.null:
        return key, (py | None, Field(None, **extra))
    # The writer becomes owner/assignee when none is given (core.records._default_owner).
    defaults_to_writer = name in ("owner", "assignee") or name in optional
    required = not field.blank and not field.has_default() and not defaults_to_writer
    if defaults_to_writer:
        return key, (py | None, Field(None, **extra))
    if required:
        return key, (py, Field(..., **extra))
    return key, (py, Field(default_factory=field.get_default, **extra))


def model_schema(
    model: type[models.Model],
    fields: list[str],
    *,
    mode: str,
    name: str,
    extra: dict[str, tuple[Any, Any]] | None = None,
    optional: frozenset[str] = frozenset(),
) -> type[Schema]:
    """A schema for ``model``: ``mode`` is ``create`` (required as the model says), ``patch`` (all
    optional) or ``out`` (what the API returns; foreign keys as ``<name>_id``)."""
    specs = dict(_field_spec(model, f, mode=mode, optional=optional) for f in fields)
    if mode == "out":
        specs = {"id": (int, ...), **specs}
    specs.update(extra or {})
    return create_model(name, __base__=Schema, **specs)  # type: ignore[call-overload]


class ErrorOut(Schema):
    message: str
    errors: dict[str, list[str]] = {}


class ConflictOut(Schema):
    message: str
    current: dict[str, Any]
