"""The few SQL expressions that differ between SQLite and PostgreSQL, in one place.

Everything else in ``analytics.queries`` is portable SQL with bound parameters (window functions,
CTEs, CASE, integer arithmetic on cents).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import BigIntegerField, Func
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


def local_month(expr: str) -> tuple[str, list]:
    """SQL (and parameters) for the local calendar month of the aware timestamp ``expr``, as text
    ``YYYY-MM`` (sorts in time order)."""
    day, params = local_date(expr)
    if is_postgres():
        return f"TO_CHAR({day}, 'YYYY-MM')", params
    return f"SUBSTR({day}, 1, 7)", params


def local_quarter(expr: str) -> tuple[str, list]:
    """SQL (and parameters) for the local calendar quarter of ``expr``, as text ``YYYY-Qn``."""
    day, params = local_date(expr)
    if is_postgres():
        return f"TO_CHAR({day}, 'YYYY-\"Q\"Q')", params
    return (
        f"(SUBSTR({day}, 1, 4) || '-Q' || CAST((CAST(SUBSTR({day}, 6, 2) AS INTEGER) + 2) / 3 AS TEXT))",
        [*params, *params],
    )


def avg_seconds_between(later: str, earlier: str) -> str:
    """SQL for the aggregate mean of ``later - earlier`` in seconds (rows with a NULL are skipped).

    On PostgreSQL the mean is taken over intervals (integer microseconds) and converted once per
    group: ``EXTRACT(EPOCH ...)`` per row returns ``numeric`` since PostgreSQL 14 and made the
    funnel's averages ~2x slower on size M.
    """
    if is_postgres():
        return f"EXTRACT(EPOCH FROM AVG(({later}) - ({earlier})))"
    return f"AVG({epoch_seconds(later)} - {epoch_seconds(earlier)})"


class QuarterHourBucket(Func):
    """The number of whole 15-minute periods since 1970 (UTC) of a timestamp, as an integer.

    Why: grouping by local weekday and hour converts every row to the time zone, the dominant
    cost of the activity heatmap on size M (~2M rows). Every UTC offset in use is a multiple of
    15 minutes and DST shifts happen on quarter hours, so a 15-minute UTC bucket lies in exactly
    one local hour; the few thousand buckets are mapped to local time afterwards, exactly.
    """

    output_field = BigIntegerField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(FLOOR(DATE_PART('epoch', %(expressions)s) / 900) AS BIGINT)", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]". SQLite's date functions round to
        # milliseconds (…59.9999 would become the next second, maybe the next bucket), so the
        # fraction is cut off first; whole seconds survive the julian-day round trip exactly.
        return self.as_sql(
            compiler,
            connection,
            template="(CAST(ROUND((JULIANDAY(SUBSTR(%(expressions)s, 1, 19)) - 2440587.5) * 86400) AS INTEGER) / 900)",
            **extra,
        )


def quarter_hour_start(bucket: int, tz) -> dt.datetime:
    """The local start of a :class:`QuarterHourBucket`."""
    return dt.datetime.fromtimestamp(int(bucket) * 900, tz)


def sum_seconds_between(later: str, earlier: str) -> str:
    """SQL for the aggregate sum of ``later - earlier`` in seconds (as :func:`avg_seconds_between`,
    so groups can be merged exactly before dividing)."""
    if is_postgres():
        return f"EXTRACT(EPOCH FROM SUM(({later}) - ({earlier})))"
    return f"SUM({epoch_seconds(later)} - {epoch_seconds(earlier)})"
