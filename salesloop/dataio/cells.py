"""Turning one spreadsheet cell into the Python value a model field holds.

The field decides the type (a ``DecimalField`` gets a ``Decimal`` with its own number of places,
a ``DateTimeField`` an aware datetime in the organisation's time zone, ...), so a column needs no
type of its own. Cells come as text from CSV and typed (numbers, dates, booleans) from ``.xlsx``;
both are accepted in the forms people actually type in China and elsewhere: ``2025/3/1``,
``2025年3月1日``, ``¥1,200.50``, ``是``/``否``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext as _


class CellError(ValueError):
    """The cell's content cannot be read as the column's type; the message says what is expected."""


_TRUE = {"true", "yes", "y", "1", "t", "是", "对", "√", "✓", "on"}
_FALSE = {"false", "no", "n", "0", "f", "否", "不是", "×", "✗", "off"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
)
_MONEY_NOISE = re.compile(r"[\s¥￥$€]")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_TAG_SPLIT = re.compile(r"[,，;；、]")
_FORMULA_TRIGGERS = ("=", "+", "-", "@")


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def as_text(raw: Any) -> str:
    """Text as the user sees it: ``13800000000`` stays digits (no ``.0``), strings are trimmed."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.isoformat(sep=" ")
    text = str(raw).strip()
    if text[:1] == "'" and text[1:2] in _FORMULA_TRIGGERS:
        return text[1:]  # the apostrophe our CSV export puts before "=", "+", "-", "@"
    return text


#: Ids and versions are 64-bit in the database; a larger number could not be looked up.
_MAX_INT = 2**63 - 1


def parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CellError(_("Enter a whole number."))
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = as_text(raw)
    if not isinstance(raw, int) and not re.fullmatch(r"[+-]?\d+", text):
        raise CellError(_("Enter a whole number, not “%(value)s”.") % {"value": text})
    value = int(text)
    if abs(value) > _MAX_INT:
        raise CellError(_("The number %(value)s is too large.") % {"value": text})
    return value


def parse_decimal(raw: Any, *, places: int, percent: bool = False) -> Decimal:
    """A Decimal with exactly ``places`` places; more places than the field keeps is an error.

    Why not round: a price of 33.333 in a sheet is usually a formula the user did not mean to
    import; saying so is better than silently storing 33.33.
    """
    if isinstance(raw, bool):
        raise CellError(_("Enter a number."))
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    else:
        text = _MONEY_NOISE.sub("", as_text(raw))
        if percent and text.endswith("%"):
            text = text[:-1]
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise CellError(
                _("Enter a number, not “%(value)s”.") % {"value": as_text(raw)}
            ) from exc
    if not value.is_finite():
        raise CellError(_("Enter a number, not “%(value)s”.") % {"value": as_text(raw)})
    quantum = Decimal(1).scaleb(-places)
    if value != value.quantize(quantum):
        raise CellError(
            _("Use at most %(places)s decimal places (got %(value)s).")
            % {"places": places, "value": value}
        )
    return value.quantize(quantum)


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    text = as_text(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(
        _("Enter yes or no (是/否, true/false, 1/0), not “%(value)s”.") % {"value": as_text(raw)}
    )


def parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        if raw.time() != time(0):
            raise CellError(_("Enter a date without a time of day."))
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = as_text(raw)
    candidates = [text]
    if re.fullmatch(r"\S+ 0{1,2}:00(:00)?", text):  # Excel writes dates in CSV as "2025/3/1 0:00"
        candidates.append(text.split(" ")[0])
    for candidate in candidates:
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    raise CellError(_("Enter a date like 2025-03-31, not “%(value)s”.") % {"value": text})


def parse_datetime(raw: Any) -> datetime:
    """An aware datetime; a time without a zone is local time (the organisation's zone)."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime.combine(raw, time(0))
    else:
        text = as_text(raw)
        value = None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            for fmt in (*_DATETIME_FORMATS, *_DATE_FORMATS):
                try:
                    value = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if value is None:
            raise CellError(
                _("Enter a date and time like 2025-03-31 14:30, not “%(value)s”.") % {"value": text}
            )
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def parse_tags(raw: Any) -> list[str]:
    return [t.strip() for t in _TAG_SPLIT.split(as_text(raw)) if t.strip()]


def choice_lookup(field: models.Field) -> dict[str, str]:
    """Accepted spellings of each choice → its stored value: the code, the English label, and
    the Chinese label (as the zh-Hans catalogue translates it)."""
    lookup: dict[str, str] = {}
    for value, label in field.flatchoices:
        if value == "":
            continue
        lookup[str(value).lower()] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                lookup.setdefault(str(label).strip().lower(), value)
    return lookup


def choices_text(field: models.Field) -> str:
    return ", ".join(f"{value} ({label})" for value, label in field.flatchoices if value != "")


def parse_choice(raw: Any, field: models.Field, lookup: dict[str, str]) -> str:
    text = as_text(raw)
    try:
        return lookup[text.lower()]
    except KeyError:
        raise CellError(
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": text, "choices": choices_text(field)}
        ) from None


def empty_value(field: models.Field) -> Any:
    """What an empty cell stores in a field that may be empty."""
    if isinstance(field, models.JSONField):
        return []
    if isinstance(field, models.BooleanField):
        return False
    if field.null:
        return None
    return ""


def parse_for_field(raw: Any, field: models.Field, *, lookup: dict[str, str] | None = None) -> Any:
    """``raw`` (not empty) as the value ``field`` stores."""
    if field.choices:
        return parse_choice(raw, field, lookup or choice_lookup(field))
    if isinstance(field, models.BooleanField):
        return parse_bool(raw)
    if isinstance(field, models.DecimalField):
        return parse_decimal(raw, places=field.decimal_places, percent=field.name.endswith("_pct"))
    if isinstance(field, models.DateTimeField):
        return parse_datetime(raw)
    if isinstance(field, models.DateField):
        return parse_date(raw)
    if isinstance(field, models.IntegerField):
        return parse_int(raw)
    if isinstance(field, models.JSONField):
        return parse_tags(raw)
    text = as_text(raw)
    if field.name == "currency":
        text = text.upper()
    return text
