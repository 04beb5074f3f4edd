"""The win-probability model, the frequency baseline and their validation metrics.

Pure numerics on feature frames (``analytics.queries.scoring_features``); no database access here.

* Model: scikit-learn logistic regression on standardised numeric features and one-hot encoded
  categorical ones, wrapped in ``CalibratedClassifierCV`` (sigmoid / Platt or isotonic, 3 folds).
  Why linear: a deal's reasons are then exact — each feature's contribution to the log-odds is
  ``coef × (x − mean of the training rows)`` in the transformed space, summed over the columns one
  feature expands to and averaged over the calibration folds' models (the calibrator is monotone,
  so the ranking and sign of reasons carry over to the calibrated probability).
* Baseline: the frequency-based naive Bayes of Odoo's predictive lead scoring (Odoo 14+,
  ``addons/crm/models/crm_lead.py`` ``_pls_get_naive_bayes_probabilities`` with the frequency
  table of ``crm_lead_scoring_frequency.py``, which adds 0.1 to every won/lost count): per field
  value, counts of won and lost deals; ``P(won | x) ∝ P(won) · Π P(x_i | won)``, the same for lost,
  normalised. We use proper Laplace smoothing ``(n_iv + α) / (N + α·K_i)`` with α from the settings
  (0.1 by default, as Odoo).
* Metrics (sklearn): ROC AUC, Brier score, log loss and the reliability curve
  (``sklearn.calibration.calibration_curve``, uniform bins) on the out-of-time validation set.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from salesloop.analytics.queries.scoring_features import CATEGORICAL, NUMERIC

#: Heavy-tailed money columns enter the model as log(1 + x).
LOG_COLUMNS = ("amount", "account_revenue_before")
#: Fields of the frequency baseline (categorical, as in Odoo; two small integers bucketed).
BASELINE_FIELDS = (*CATEGORICAL, "has_decision_maker", "competitors")


def model_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the model sees, with money on a log scale."""
    X = frame[NUMERIC + CATEGORICAL].copy()
    for col in LOG_COLUMNS:
        X[col] = np.log1p(X[col].clip(lower=0))
    return X


def _pipeline(C: float) -> Pipeline:
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median", keep_empty_features=True)), ("scale", StandardScaler())]
    )
    encode = ColumnTransformer(
        [
            ("num", numeric, NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), CATEGORICAL),
        ],
        sparse_threshold=0,
    )
    return Pipeline([("encode", encode), ("fit", LogisticRegression(C=C, solver="newton-cholesky", max_iter=200))])


@dataclass
class WinModel:
    """A fitted calibrated model plus what is needed to explain a score."""

    calibrated: CalibratedClassifierCV
    references: list[np.ndarray]  # mean transformed training row, per fold model

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibrated.predict_proba(model_matrix(frame))[:, 1]

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per deal and original feature: the contribution to the log-odds (fold average)."""
        X = model_matrix(frame)
        total = None
        for fold, ref in zip(self.calibrated.calibrated_classifiers_, self.references, strict=True):
            pipe = fold.estimator
            Z = pipe.named_steps["encode"].transform(X)
            coef = pipe.named_steps["fit"].coef_[0]
            part = (Z - ref) * coef
            names = pipe.named_steps["encode"].get_feature_names_out()
            by_feature = pd.DataFrame(part, columns=[_original(n) for n in names]).T.groupby(level=0).sum().T
            total = by_feature if total is None else total.add(by_feature, fill_value=0.0)
        return total / len(self.references)

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump(self, buf)
        return buf.getvalue()

    @staticmethod
    def loads(data: bytes) -> WinModel:
        return joblib.load(io.BytesIO(bytes(data)))


def _original(name: str) -> str:
    """``num__amount`` → ``amount``; ``cat__stage_lead`` / ``cat__stage_infrequent_sklearn`` → ``stage``."""
    kind, rest = name.split("__", 1)
    if kind == "num":
        return rest
    for col in CATEGORICAL:
        if rest == col or rest.startswith(col + "_"):
            return col
    return rest


def fit_model(frame: pd.DataFrame, *, C: float, method: str) -> WinModel:
    X, y = model_matrix(frame), frame["won"].astype(int).to_numpy()
    cv = max(2, min(3, int(min(y.sum(), len(y) - y.sum()))))
    calibrated = CalibratedClassifierCV(_pipeline(C), method=method, cv=cv)
    calibrated.fit(X, y)
    refs = [
        fold.estimator.named_steps["encode"].transform(X).mean(axis=0) for fold in calibrated.calibrated_classifiers_
    ]
    return WinModel(calibrated, refs)


# ------------------------------------------------------------------------------------------
# Frequency naive Bayes (the baseline).
# ------------------------------------------------------------------------------------------


def _baseline_values(frame: pd.DataFrame, field: str) -> pd.Series:
    col = frame[field]
    if field == "competitors":
        return col.fillna(0).clip(upper=3).astype(int).astype(str)
    if field == "has_decision_maker":
        return col.fillna(0).astype(int).astype(str)
    return col.fillna("").astype(str)


def fit_baseline(frame: pd.DataFrame, *, alpha: float) -> dict:
    """The won/lost count table, JSON-ready: ``{"won": W, "lost": L, "alpha": α, "fields": {f: {v: [w, l]}}}``."""
    y = frame["won"].astype(int) if len(frame) else pd.Series(dtype=int)
    table: dict = {"won": int(y.sum()), "lost": int(len(y) - y.sum()), "alpha": alpha, "fields": {}}
    for field in BASELINE_FIELDS:
        values = _baseline_values(frame, field) if len(frame) else pd.Series(dtype=str)
        counts: dict[str, list[int]] = {}
        for value, won in zip(values, y, strict=True):
            pair = counts.setdefault(value, [0, 0])
            pair[0 if won else 1] += 1
        table["fields"][field] = counts
    return table


def baseline_predict(table: dict, frame: pd.DataFrame) -> np.ndarray:
    alpha = float(table["alpha"])
    W, L = table["won"], table["lost"]
    log_won = np.full(len(frame), math.log((W + alpha) / (W + L + 2 * alpha)))
    log_lost = np.full(len(frame), math.log((L + alpha) / (W + L + 2 * alpha)))
    for field, counts in table["fields"].items():
        K = len(counts) + 1  # the seen values and one for "unseen"
        values = _baseline_values(frame, field)
        w = np.array([counts.get(v, [0, 0])[0] for v in values], dtype=float)
        lo = np.array([counts.get(v, [0, 0])[1] for v in values], dtype=float)
        log_won += np.log((w + alpha) / (W + alpha * K))
        log_lost += np.log((lo + alpha) / (L + alpha * K))
    return 1.0 / (1.0 + np.exp(log_lost - log_won))


# ------------------------------------------------------------------------------------------
# Metrics.
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    auc: float | None
    brier: float
    log_loss: float
    mean_predicted: float
    observed: float
    reliability: list[dict]


def evaluate(y: np.ndarray, p: np.ndarray, *, bins: int) -> Metrics:
    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], p)  # the same binning as calibration_curve
    counts = np.bincount(which, minlength=bins)
    nonempty = [i for i in range(bins) if counts[i] > 0]
    curve = [
        {"predicted": float(pr), "observed": float(ob), "count": int(counts[i])}
        for i, pr, ob in zip(nonempty, predicted, observed, strict=True)
    ]
    return Metrics(
        auc=auc,
        brier=float(brier_score_loss(y, p)),
        log_loss=float(log_loss(y, p, labels=[0, 1])),
        mean_predicted=float(p.mean()),
        observed=float(y.mean()),
        reliability=curve,
    )
