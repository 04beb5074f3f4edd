"""Method (d): a weighted average of the methods that have a number.

Two weightings, both shown, one used:

* **fixed** — ``ForecastSettings.weight_time_series / weight_pipeline / weight_commit``,
  renormalised over the methods that have a number (all zero → equal weights);
* **by accuracy** — weights ∝ 1 / MAPE of each method over the scope's past closed periods of the
  same kind (inverse-error weighting, Bates & Granger 1969, "The combination of forecasts").
  A method counts only with at least ``accuracy_min_periods`` scored periods; MAPE is floored at
  1% so a lucky streak cannot take all the weight.

Accuracy weights are used when ``ForecastSettings.combine_by_accuracy`` is on and at least two of
the available methods have a track record; otherwise the fixed weights, and the result says which.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from salesloop.forecasting.methods.base import MethodResult, money
from salesloop.forecasting.models import ForecastSettings, Method

COMBINED_FROM = (Method.TIME_SERIES, Method.PIPELINE, Method.COMMIT)
MAPE_FLOOR = 0.01


def fixed_weights(available: list[str], settings: ForecastSettings) -> dict[str, float]:
    raw = {
        Method.TIME_SERIES: float(settings.weight_time_series),
        Method.PIPELINE: float(settings.weight_pipeline),
        Method.COMMIT: float(settings.weight_commit),
    }
    weights = {m: raw[m] for m in available}
    total = sum(weights.values())
    if total <= 0:
        return {m: 1 / len(available) for m in available}
    return {m: w / total for m, w in weights.items()}


def accuracy_weights(available: list[str], track: dict[str, tuple[float, int]], min_periods: int) -> dict[str, float]:
    """``track``: method → (MAPE as a fraction, scored periods). Empty when there is no usable record."""
    scored = {m: max(track[m][0], MAPE_FLOOR) for m in available if m in track and track[m][1] >= min_periods}
    if len(scored) < 2:
        return {}
    inv = {m: 1 / v for m, v in scored.items()}
    total = sum(inv.values())
    return {m: w / total for m, w in inv.items()}


def result(
    results: dict[str, MethodResult],
    *,
    settings: ForecastSettings,
    track: dict[str, tuple[float, int]],
    currency: str,
) -> MethodResult:
    available = [m for m in COMBINED_FROM if m in results and results[m].amount is not None]
    if not available:
        return MethodResult(Method.COMBINED, None, currency, _("No method has a number to combine."))
    fixed = fixed_weights(available, settings)
    by_accuracy = accuracy_weights(available, track, settings.accuracy_min_periods)

    def combine(weights: dict[str, float]) -> Decimal:
        return money(sum(float(results[m].amount) * w for m, w in weights.items()) / sum(weights.values()))

    fixed_amount = combine(fixed)
    accuracy_amount = combine(by_accuracy) if by_accuracy else None
    use_accuracy = settings.combine_by_accuracy and accuracy_amount is not None
    used = by_accuracy if use_accuracy else fixed
    inputs = {
        "weighting": "accuracy" if use_accuracy else "fixed",
        "weights": {m: round(w, 4) for m, w in used.items()},
        "fixed_weights": {m: round(w, 4) for m, w in fixed.items()},
        "fixed_amount": str(fixed_amount),
        "accuracy_weights": {m: round(w, 4) for m, w in by_accuracy.items()},
        "accuracy_amount": str(accuracy_amount) if accuracy_amount is not None else None,
        "track_record": {m: {"mape": round(v[0], 4), "periods": v[1]} for m, v in track.items()},
    }
    if use_accuracy:
        text = _("Weighted by past accuracy (1/MAPE) over %(methods)s.")
    elif settings.combine_by_accuracy:
        text = _("Fixed weights over %(methods)s (not enough track record to weight by accuracy).")
    else:
        text = _("Fixed weights over %(methods)s.")
    labels = ", ".join(str(Method(m).label) for m in used)
    return MethodResult(
        Method.COMBINED, accuracy_amount if use_accuracy else fixed_amount, currency, text % {"methods": labels}, inputs
    )
