"""The few SQL expressions that differ between SQLite and PostgreSQL, in one place.

Everything else in ``analytics.queries`` is portable SQL with bound parameters (window functions,
CTEs, CASE, integer arithmetic on cents).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def local_date(expr: str) -> tuple[str, list]:
    """SQL for the local calendar date of the aware timestamp ``expr`` (the current time zone)."""
    tzname = timezone.get_current_timezone_name()
    if is_postgres():
        return f"CAST(({expr}) AT TIME ZONE %s AS DATE)", [tzname]
    # Django registers this function on every SQLite connection (it is what TruncDate uses).
    return f"django_datetime_cast_date({expr}, %s, %s)", [tzname, "UTC"]


def epoch_seconds(expr: str) -> str:
    """SQL for the seconds since 1970 of the timestamp ``expr`` (for durations)."""
    if is_postgres():
        return f"EXTRACT(EPOCH FROM ({expr}))"
    return f"((julianday({expr}) - 2440587.5) * 86400.0)"


def as_date(value) -> dt.date:
    """A date column as Python ``date`` (SQLite returns ISO text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def cents(expr: str) -> str:
    """An amount column as an integer number of cents, exact on both databases."""
    return f"CAST(ROUND(({expr}) * 100) AS BIGINT)"


def bounds(period) -> tuple:
    """A period's [start, end) as timestamp parameters for raw SQL.

    Raw SQL skips the ORM's value adaptation: on SQLite an aware datetime must become the UTC
    text Django stores, or comparisons happen in the wrong time zone.
    """
    start, end = period.bounds()
    return connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(end)


def date_param(value: dt.date):
    return connection.ops.adapt_datefield_value(value)
