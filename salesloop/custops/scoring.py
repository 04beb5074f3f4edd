"""Churn scores from the organisation's own orders: BG/NBD + Gamma-Gamma, and the flag rules.

Why a module of its own: it is the one place where the literature's models meet our data. It
reads the customer base (``analytics.queries.customer_base``), fits both models by maximum
likelihood (``analytics.clv``), scores every buyer in vectorised numpy and writes
:class:`~salesloop.custops.models.AccountChurn` with bulk upserts. Time unit: weeks (7 days).

Flags (``CustomerOpsPolicy``): P(active) below ``churn_p_alive_threshold``, or — for customers
with at least one repeat purchase — days since the last purchase above ``churn_gap_multiplier`` ×
their own mean gap between purchase days. Value at risk comes from the model; when no usable
model could be fitted, a flagged customer's value at risk is their mean repeat order value × the
orders their own pace would bring over the horizon (horizon ÷ usual gap). One-time buyers have
P(active) = 1 under BG/NBD (it lets customers drop out only after a repeat purchase), so they are
never flagged by the model; the "dormant" rule segment and the cadence catch them instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

import numpy as np
from django.db import connection

from salesloop.analytics.clv import bgnbd, gammagamma
from salesloop.analytics.queries.customer_base import CustomerBase, customer_base
from salesloop.core.money import quantize_money
from salesloop.custops.models import AccountChurn, CustomerOpsPolicy, ScoringRun

DAYS_PER_WEEK = 7.0
_BATCH = 1000  # rows per INSERT: 18 parameters each, under every driver's limit


def usable(converged: bool, params: np.ndarray) -> bool:
    return bgnbd.is_interior(converged, params)


@dataclass(frozen=True)
class ModelFits:
    bgnbd: bgnbd.BgNbdFit | None
    gamma_gamma: gammagamma.GammaGammaFit | None
    rejected: bgnbd.BgNbdFit | None = None

    def as_json(self) -> tuple[dict, dict]:
        def pack(fit, used: bool) -> dict:
            if fit is None:
                return {}
            data = asdict(fit)
            return {**data.pop("params"), **data, "used": used}

        bg = pack(self.bgnbd, True) if self.bgnbd else pack(self.rejected, False)
        return bg, pack(self.gamma_gamma, True)


@dataclass(frozen=True)
class Scores:
    p_alive: np.ndarray | None
    expected_purchases: np.ndarray | None
    expected_if_alive: np.ndarray | None
    expected_spend: np.ndarray | None
    usual_gap_days: np.ndarray
    current_gap_days: np.ndarray
    flag_p_alive: np.ndarray
    flag_gap: np.ndarray


def fit_models(base: CustomerBase, policy: CustomerOpsPolicy) -> ModelFits:
    """Fit both models, or neither part that lacks data (too few repeat buyers: no BG/NBD)."""
    repeaters = base.x > 0
    if len(base) == 0 or int(repeaters.sum()) < policy.min_customers_to_fit:
        return ModelFits(None, None)
    bg = bgnbd.fit(base.x, base.t_x(DAYS_PER_WEEK), base.T(DAYS_PER_WEEK))
    if not usable(bg.converged, bg.params.as_array()) or bg.params.a <= 1e-6:
        # e.g. a handful of clockwork buyers: no heterogeneity to estimate, r and α run off to
        # infinity. Scores from such a fit would be noise, so the gap rule works alone.
        return ModelFits(None, None, rejected=bg)
    spend = base.mean_repeat_value()
    paying = repeaters & (spend > 0)
    gg = None
    if int(paying.sum()) >= policy.min_customers_to_fit:
        gg = gammagamma.fit(base.x[paying], spend[paying])
        if not usable(gg.converged, gg.params.as_array()) or gg.params.q <= 1:
            gg = None  # q ≤ 1: the mean spend would be infinite
    return ModelFits(bg, gg)


def score(base: CustomerBase, fits: ModelFits, policy: CustomerOpsPolicy) -> Scores:
    horizon_weeks = policy.forecast_horizon_days / DAYS_PER_WEEK
    x = base.x
    t_x, T = base.t_x(DAYS_PER_WEEK), base.T(DAYS_PER_WEEK)
    current_gap = base.as_of.toordinal() - base.last_day
    with np.errstate(divide="ignore", invalid="ignore"):
        usual_gap = np.where(x > 0, (base.last_day - base.first_day) / np.maximum(x, 1), np.nan)
    multiplier = float(policy.churn_gap_multiplier)
    flag_gap = (x > 0) & (current_gap > multiplier * np.nan_to_num(usual_gap, nan=np.inf))
    if fits.bgnbd is None:
        none = np.zeros_like(x, dtype=bool)
        return Scores(None, None, None, None, usual_gap, current_gap, none, flag_gap)
    params = fits.bgnbd.params
    p_alive = bgnbd.p_alive(params, x, t_x, T)
    if_alive = bgnbd.expected_purchases_if_alive(params, horizon_weeks, x, t_x, T)
    expected = p_alive * if_alive
    spend = None
    if fits.gamma_gamma is not None:
        m = np.nan_to_num(base.mean_repeat_value(), nan=0.0)
        spend = gammagamma.conditional_expected_spend(
            fits.gamma_gamma.params, np.where(m > 0, x, 0), m
        )
    flag_p = p_alive < float(policy.churn_p_alive_threshold)
    return Scores(p_alive, expected, if_alive, spend, usual_gap, current_gap, flag_p, flag_gap)


def _money(value: float | None) -> Decimal | None:
    """A float amount as Decimal cents (half-up), or None when the model gives no number."""
    if value is None or not np.isfinite(value):
        return None
    return quantize_money(Decimal(f"{float(value):.6f}"))


def _optional(values: np.ndarray | None, i: int) -> float | None:
    return None if values is None else float(values[i])


_COLUMNS = [
    "account_id",
    "run_id",
    "as_of",
    "repeat_purchases",
    "t_x_weeks",
    "T_weeks",
    "mean_repeat_value",
    "currency",
    "p_alive",
    "expected_purchases",
    "expected_value",
    "value_at_risk",
    "usual_gap_days",
    "current_gap_days",
    "flag_p_alive",
    "flag_gap",
    "is_flagged",
    "flagged_since",
]


def _upsert_sql(n_rows: int) -> str:
    """A multi-row upsert of ``n_rows`` rows, column names quoted (``T_weeks`` keeps its capital
    on PostgreSQL)."""
    q = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(_COLUMNS))})"
    return (
        f"INSERT INTO custops_accountchurn ({', '.join(q(c) for c in _COLUMNS)}) "
        f"VALUES {', '.join([row] * n_rows)} "
        f"ON CONFLICT ({q('account_id')}) DO UPDATE SET "
        + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in _COLUMNS if c != "account_id")
    )


_PG_TYPES = [
    "bigint",
    "bigint",
    "date",
    "integer",
    "float8",
    "float8",
    "numeric",
    "text",
    "float8",
    "float8",
    "numeric",
    "numeric",
    "float8",
    "integer",
    "boolean",
    "boolean",
    "boolean",
    "date",
]


def _upsert_unnest_sql() -> str:
    """PostgreSQL: the same upsert fed by ``unnest`` of one array per column."""
    q = connection.ops.quote_name
    arrays = ", ".join(f"%s::{t}[]" for t in _PG_TYPES)
    return (
        f"INSERT INTO custops_accountchurn ({', '.join(q(c) for c in _COLUMNS)}) "
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({q('account_id')}) DO UPDATE SET "
        + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in _COLUMNS if c != "account_id")
    )


def write_scores(
    *, run: ScoringRun, base: CustomerBase, scores: Scores, currency: str, horizon: int = 90
) -> int:
    """Upsert one :class:`AccountChurn` per buyer; drop rows of accounts that no longer buy.

    One ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE`` on PostgreSQL (18
    parameters whatever the number of buyers), multi-row ``VALUES`` per thousand on SQLite:
    ``bulk_create``'s per-field preparation, or a statement per row, cost more than the database.
    """
    previous = dict(
        AccountChurn.objects.filter(is_flagged=True).values_list("account_id", "flagged_since")
    )
    adapt = connection.ops.adapt_datefield_value
    as_of = adapt(run.as_of)
    spend_mean = base.mean_repeat_value()
    t_x, T = base.t_x(DAYS_PER_WEEK), base.T(DAYS_PER_WEEK)
    flagged_any = scores.flag_p_alive | scores.flag_gap
    horizon_days = float(horizon)
    rows = []
    for i in range(len(base)):
        account_id = int(base.account_id[i])
        is_flagged = bool(flagged_any[i])
        p = _optional(scores.p_alive, i)
        expected = _optional(scores.expected_purchases, i)
        spend = _optional(scores.expected_spend, i)
        value = expected * spend if expected is not None and spend is not None else None
        at_risk = None
        usual = float(scores.usual_gap_days[i])
        if spend is not None and p is not None:
            at_risk = spend * float(scores.expected_if_alive[i]) * (1.0 - p)
        elif is_flagged and np.isfinite(usual) and usual > 0 and np.isfinite(spend_mean[i]):
            # No usable model: what the customer would buy over the horizon at their own pace.
            at_risk = float(spend_mean[i]) * horizon_days / usual
        rows.append(
            (
                account_id,
                run.pk,
                as_of,
                int(base.x[i]),
                float(t_x[i]),
                float(T[i]),
                _money(spend_mean[i]),
                currency,
                p,
                expected,
                _money(value),
                _money(at_risk) or Decimal("0.00"),
                usual if np.isfinite(usual) else None,
                int(scores.current_gap_days[i]),
                bool(scores.flag_p_alive[i]),
                bool(scores.flag_gap[i]),
                is_flagged,
                adapt(previous.get(account_id) or run.as_of) if is_flagged else None,
            )
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement for every row: each column travels as one typed array.
            columns = (
                [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in _COLUMNS]
            )
            cursor.execute(_upsert_unnest_sql(), columns)
        else:
            for start in range(0, len(rows), _BATCH):
                batch = rows[start : start + _BATCH]
                cursor.execute(_upsert_sql(len(batch)), [value for row in batch for value in row])
    AccountChurn.objects.exclude(run=run).delete()
    return int(flagged_any.sum())


def churn_recompute(
    *, run: ScoringRun, policy: CustomerOpsPolicy, currency: str
) -> tuple[ModelFits, int]:
    base = customer_base(as_of=run.as_of, currency=currency)
    fits = fit_models(base, policy)
    scores = score(base, fits, policy)
    flagged = write_scores(
        run=run, base=base, scores=scores, currency=currency, horizon=policy.forecast_horizon_days
    )
    return fits, flagged


def horizon_end(as_of: dt.date, policy: CustomerOpsPolicy) -> dt.date:
    return as_of + dt.timedelta(days=policy.forecast_horizon_days)
