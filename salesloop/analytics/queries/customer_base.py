"""Each buyer's purchase history summarised for BG/NBD and Gamma-Gamma, in one query.

A purchase is an order *day*: orders of one account on one day count once, with their totals
added (the convention of the BG/NBD literature and of the CDNOW summaries, where the data has
one row per customer-day). Per account with at least one order up to ``as_of``:

* ``x`` — repeat purchase days (all days after the first);
* ``first`` / ``last`` — the first and last purchase day; ``t_x`` and ``T`` follow from them and
  ``as_of`` (the caller picks the time unit; ``custops`` uses weeks);
* ``repeat_cents`` — the value of the repeat purchases in integer cents, for the mean repeat
  spend m̄ = repeat_cents / 100 / x that Gamma-Gamma conditions on (the first purchase is left
  out, as in Fader, Hardie & Lee 2005, "RFM and CLV").

Orders count when confirmed or delivered, in one currency, dated up to and including ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import connection

from salesloop.analytics.queries.dialect import as_date, cents

_COUNTED_STATUSES = ("confirmed", "delivered")


@dataclass(frozen=True)
class CustomerBase:
    """Column arrays, one entry per buyer, in account-id order."""

    account_id: np.ndarray
    x: np.ndarray
    first_day: np.ndarray  # proleptic ordinals (date.toordinal)
    last_day: np.ndarray
    repeat_cents: np.ndarray
    as_of: dt.date

    def __len__(self) -> int:
        return int(self.account_id.size)

    def t_x(self, days_per_unit: float = 7.0) -> np.ndarray:
        return (self.last_day - self.first_day) / days_per_unit

    def T(self, days_per_unit: float = 7.0) -> np.ndarray:  # noqa: N802  (the model's symbol)
        return (self.as_of.toordinal() - self.first_day) / days_per_unit

    def mean_repeat_value(self) -> np.ndarray:
        """m̄ in currency units; NaN for customers without a repeat purchase."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.x > 0, self.repeat_cents / 100.0 / np.maximum(self.x, 1), np.nan)


_SQL = f"""
    WITH days AS (
        SELECT o.account_id, o.order_date, SUM({cents("o.total")}) AS day_cents
        FROM sales_order o
        WHERE o.status IN (%s, %s) AND o.currency = %s AND o.order_date <= %s
        GROUP BY o.account_id, o.order_date
    ),
    buyers AS (
        SELECT account_id, MIN(order_date) AS first_day, MAX(order_date) AS last_day,
               COUNT(*) AS n_days, SUM(day_cents) AS total_cents
        FROM days
        GROUP BY account_id
    )
    SELECT b.account_id, b.n_days - 1, b.first_day, b.last_day, b.total_cents - d.day_cents
    FROM buyers b
    JOIN days d ON d.account_id = b.account_id AND d.order_date = b.first_day
    ORDER BY b.account_id
"""


def customer_base(*, as_of: dt.date, currency: str) -> CustomerBase:
    params = [*_COUNTED_STATUSES, currency, connection.ops.adapt_datefield_value(as_of)]
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        rows = cursor.fetchall()
    n = len(rows)
    account_id = np.empty(n, dtype=np.int64)
    x = np.empty(n, dtype=float)
    first = np.empty(n, dtype=float)
    last = np.empty(n, dtype=float)
    repeat = np.empty(n, dtype=float)
    for i, (pk, repeats, first_day, last_day, repeat_cents) in enumerate(rows):
        account_id[i] = pk
        x[i] = repeats
        first[i] = as_date(first_day).toordinal()
        last[i] = as_date(last_day).toordinal()
        repeat[i] = float(repeat_cents or 0)
    return CustomerBase(account_id, x, first, last, repeat, as_of)
