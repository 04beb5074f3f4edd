"""Writes of opportunity scoring: train, validate, activate, score.

:func:`model_retrain` is the scheduled job (``automation.jobs.scoring_retrain``) and the
``scoring_retrain`` command. Steps:

1. features of every closed deal, each as of a point strictly before its close
   (``analytics.queries.scoring_features.closed_deal_features``);
2. too few closed deals (``ScoringSettings.min_closed_deals`` / ``min_per_class``) → no model: the
   run is stored with status "too few" and its reason, and the frequency baseline is served,
   labelled as such, instead of a model with invented precision;
3. out-of-time split: the most recently closed ``validation_share`` of deals is the validation
   set, everything closed before the first of them the training set. Model and baseline are fitted
   on the training set and measured on the validation set (AUC, Brier, log loss, reliability);
4. the model is activated when its validation AUC is not below the baseline's by more than
   ``max_auc_drop``; then both are refitted on all closed deals with the same recipe (the
   validation measured the recipe; serving uses every deal we know the outcome of);
5. every open deal is scored in one batch (one feature query for all of them) and its score
   replaced; scores of deals that are no longer open are removed.
"""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from salesloop.analytics.queries.scoring_features import CATEGORICAL, NUMERIC, closed_deal_features, open_deal_features
from salesloop.pipeline.models import Opportunity
from salesloop.scoring import learn
from salesloop.scoring import reasons as reasons_mod
from salesloop.scoring.models import Algorithm, ModelStatus, OpportunityScore, ScoringModel, ScoringSettings
from salesloop.scoring.selectors import active_model

_BATCH = 2000  # rows per INSERT: 7 parameters each, under SQLite's 32 766


def _settings_snapshot(settings: ScoringSettings) -> dict:
    return {
        "min_closed_deals": settings.min_closed_deals,
        "min_per_class": settings.min_per_class,
        "validation_share": float(settings.validation_share),
        "calibration": settings.calibration,
        "calibration_bins": settings.calibration_bins,
        "regularisation": float(settings.regularisation),
        "smoothing": float(settings.smoothing),
        "max_auc_drop": float(settings.max_auc_drop),
    }


def _split(frame: pd.DataFrame, share: float) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Out of time: the last ``share`` of deals by close time validate; the rest, closed before, train."""
    ordered = frame.sort_values(["closed_ts", "opp_id"]).reset_index(drop=True)
    n_val = max(1, math.ceil(share * len(ordered)))
    cutoff = float(ordered["closed_ts"].iloc[len(ordered) - n_val])
    return ordered[ordered["closed_ts"] < cutoff], ordered[ordered["closed_ts"] >= cutoff], cutoff


def _too_few(frame: pd.DataFrame, settings: ScoringSettings) -> tuple[str, dict] | None:
    """Why the model cannot be trained (a msgid and its values), or None."""
    won = int(frame["won"].sum()) if len(frame) else 0
    lost = len(frame) - won
    if len(frame) < settings.min_closed_deals:
        return gettext_noop("Only %(n)s closed deals; the model needs at least %(min)s."), {
            "n": len(frame),
            "min": settings.min_closed_deals,
        }
    if min(won, lost) < settings.min_per_class:
        return gettext_noop("Only %(won)s won and %(lost)s lost deals; the model needs at least %(min)s of each."), {
            "won": won,
            "lost": lost,
            "min": settings.min_per_class,
        }
    return None


def _both_classes(train: pd.DataFrame, val: pd.DataFrame) -> bool:
    def ok(part: pd.DataFrame, least: int) -> bool:
        won = int(part["won"].sum())
        return won >= least and len(part) - won >= least

    return ok(train, 3) and ok(val, 1)


def model_retrain(*, now: dt.datetime | None = None, force: bool = False) -> dict:
    """Train, validate, store, activate if valid, and score every open deal.

    The scheduled job calls it daily; unless ``force`` (the command, the API, the page), it does
    nothing when retraining is switched off or the last run is younger than the cadence.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    settings = ScoringSettings.current()
    if not force:
        skip = _skip_reason(settings, now)
        if skip:
            return {"trained": False, "status": "skipped", "reason": skip, "model_id": None, "scored": 0}
    closed = closed_deal_features(now)
    timings = {"features": round(time.perf_counter() - started, 3)}
    won = int(closed["won"].sum()) if len(closed) else 0
    run = ScoringModel(
        trained_at=now,
        algorithm=Algorithm.LOGISTIC,
        n_closed=len(closed),
        n_won=won,
        features=NUMERIC + CATEGORICAL,
        settings_used={**_settings_snapshot(settings), "timings": timings},
    )
    alpha = float(settings.smoothing)
    problem = _too_few(closed, settings)
    train = val = None
    if problem is None:
        train, val, _cutoff = _split(closed, float(settings.validation_share))
        if not _both_classes(train, val):
            problem = (gettext_noop("The out-of-time split leaves a class (won or lost) almost empty."), {})
        else:
            # The exact close of the first validation deal (epoch seconds from SQLite are rounded to ms).
            first = val.sort_values(["closed_ts", "opp_id"])["opp_id"].iloc[0]
            run.cutoff = Opportunity.objects.values_list("closed_at", flat=True).get(pk=int(first))
    if problem is not None:
        msgid, values = problem
        run.algorithm = Algorithm.BASELINE
        run.status = ModelStatus.TOO_FEW
        run.reason = msgid
        run.settings_used["reason_values"] = values
        run.baseline = learn.fit_baseline(closed, alpha=alpha)
        return _finish(run, settings, now, started, activate=not _has_trained_active())

    mark = time.perf_counter()
    model = learn.fit_model(train, C=float(settings.regularisation), method=settings.calibration)
    baseline = learn.fit_baseline(train, alpha=alpha)
    y = val["won"].astype(int).to_numpy()
    m = learn.evaluate(y, model.predict(val), bins=settings.calibration_bins)
    b = learn.evaluate(y, learn.baseline_predict(baseline, val), bins=settings.calibration_bins)
    timings["validate"] = round(time.perf_counter() - mark, 3)
    run.n_train, run.n_validation = len(train), len(val)
    run.auc, run.brier, run.log_loss = m.auc, m.brier, m.log_loss
    run.baseline_auc, run.baseline_brier, run.baseline_log_loss = b.auc, b.brier, b.log_loss
    run.validation_win_rate, run.mean_predicted = m.observed, m.mean_predicted
    run.reliability = {"model": m.reliability, "baseline": b.reliability}
    good = m.auc is not None and (b.auc is None or m.auc >= b.auc - float(settings.max_auc_drop))
    run.baseline = learn.fit_baseline(closed, alpha=alpha)
    if not good:
        run.status = ModelStatus.REJECTED
        run.reason = gettext_noop("The model's validation AUC is below the baseline's; the previous model stays.")
        return _finish(run, settings, now, started, activate=not _has_trained_active())
    run.status = ModelStatus.TRAINED
    mark = time.perf_counter()
    run.estimator = learn.fit_model(closed, C=float(settings.regularisation), method=settings.calibration).dumps()
    timings["refit"] = round(time.perf_counter() - mark, 3)
    return _finish(run, settings, now, started, activate=True)


def _skip_reason(settings: ScoringSettings, now: dt.datetime) -> str:
    if not settings.retrain_enabled:
        return "retraining on schedule is switched off"
    latest = ScoringModel.objects.order_by("-trained_at").values_list("trained_at", flat=True).first()
    # An hour of slack, so a daily job that ran a little late yesterday still runs today.
    if latest is not None and latest > now - dt.timedelta(days=settings.retrain_every_days, hours=-1):
        return f"the last run ({latest:%Y-%m-%d %H:%M}) is younger than {settings.retrain_every_days} days"
    return ""


def _has_trained_active() -> bool:
    return ScoringModel.objects.filter(is_active=True, status=ModelStatus.TRAINED).exists()


def _finish(run: ScoringModel, settings: ScoringSettings, now: dt.datetime, started: float, *, activate: bool) -> dict:
    with transaction.atomic():
        run.save()
        if activate:
            ScoringModel.objects.exclude(pk=run.pk).filter(is_active=True).update(is_active=False)
            run.is_active = True
            run.save(update_fields=["is_active"])
    active = active_model()
    mark = time.perf_counter()
    scored = score_open_deals(now=now, run=active) if active is not None else 0
    run.settings_used.setdefault("timings", {})["score"] = round(time.perf_counter() - mark, 3)
    run.scored = scored if active is not None and active.pk == run.pk else 0
    run.seconds = time.perf_counter() - started
    run.save(update_fields=["scored", "seconds", "settings_used"])
    return {
        "trained": run.status == ModelStatus.TRAINED,
        "status": run.status,
        "reason": run.reason % run.settings_used.get("reason_values", {}) if run.reason else "",
        "model_id": run.pk,
        "active": run.is_active,
        "n_closed": run.n_closed,
        "n_train": run.n_train,
        "n_validation": run.n_validation,
        "auc": run.auc,
        "brier": run.brier,
        "baseline_auc": run.baseline_auc,
        "baseline_brier": run.baseline_brier,
        "scored": scored,
        "seconds": round(run.seconds, 3),
        "timings": run.settings_used.get("timings", {}),
    }


# ------------------------------------------------------------------------------------------
# Scoring.
# ------------------------------------------------------------------------------------------


def _score_frame(frame: pd.DataFrame, run: ScoringModel, reasons_shown: int) -> list[dict]:
    """Probabilities, baseline probabilities and top reasons for every row of ``frame``."""
    if frame.empty:
        return []
    base = learn.baseline_predict(run.baseline, frame) if run.baseline else np.full(len(frame), np.nan)
    if run.status == ModelStatus.TRAINED and run.estimator:
        model = learn.WinModel.loads(run.estimator)
        prob = model.predict(frame)
        contrib = model.contributions(frame)
        from_baseline = False
    else:
        prob, contrib, from_baseline = base, None, True
    out = []
    members = reasons_mod.family_members()
    families = None
    if contrib is not None:
        families = pd.DataFrame(
            {fam: contrib[cols].sum(axis=1) for fam, cols in members.items() if set(cols) <= set(contrib.columns)}
        )
    records = frame.to_dict("records")
    if families is not None:
        names = list(families.columns)
        effects = families.to_numpy()
        # Largest absolute contributions first, per row, in one vectorised sort (stable: ties keep column order).
        order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :reasons_shown]
    for i, row in enumerate(records):
        reasons = []
        if families is not None:
            for j in order[i]:
                effect = float(effects[i, j])
                if abs(effect) < 1e-9:
                    continue
                family = names[j]
                reasons.append({"reason": family, "values": _plain(row, members[family]), "effect": effect})
        out.append(
            {
                "opportunity_id": int(row["opp_id"]),
                "probability": float(prob[i]),
                "baseline_probability": None if np.isnan(base[i]) else float(base[i]),
                "from_baseline": from_baseline,
                "reasons": reasons,
            }
        )
    return out


def _plain(row: dict, features: list[str]) -> dict:
    out = {}
    for feature in features:
        raw = row[feature]
        out[feature] = raw if isinstance(raw, str) else (None if pd.isna(raw) else round(float(raw), 4))
    return out


def _save_scores(rows: list[dict], run: ScoringModel, now: dt.datetime) -> None:
    objs = [OpportunityScore(model=run, scored_at=now, **row) for row in rows]
    OpportunityScore.objects.bulk_create(
        objs,
        batch_size=_BATCH,
        update_conflicts=True,
        unique_fields=["opportunity"],
        update_fields=["model", "scored_at", "probability", "baseline_probability", "from_baseline", "reasons"],
    )


def score_open_deals(*, now: dt.datetime, run: ScoringModel | None = None) -> int:
    """Score every open deal with ``run`` (the active model) in one batch; drop scores of closed deals."""
    run = run or active_model()
    if run is None:
        return 0
    frame = open_deal_features(now)
    rows = _score_frame(frame, run, ScoringSettings.current().reasons_shown)
    with transaction.atomic():
        _save_scores(rows, run, now)
        OpportunityScore.objects.filter(
            Q(opportunity__stage__is_won=True) | Q(opportunity__stage__is_lost=True)
        ).delete()
    return len(rows)


def opportunity_score(*, opportunity_id: int, now: dt.datetime | None = None) -> OpportunityScore | None:
    """Score one open deal on demand with the active model (None when closed or no model exists)."""
    now = now or timezone.now()
    run = active_model()
    if run is None:
        return None
    frame = open_deal_features(now, [opportunity_id])
    rows = _score_frame(frame, run, ScoringSettings.current().reasons_shown)
    if not rows:
        OpportunityScore.objects.filter(opportunity_id=opportunity_id).delete()
        return None
    _save_scores(rows, run, now)
    return OpportunityScore.objects.select_related("model").get(opportunity_id=opportunity_id)


def current_score(opportunity: Opportunity) -> OpportunityScore | None:
    """A deal's score: the stored one, rescored on demand when missing or older than the deal's last edit."""
    score = OpportunityScore.objects.select_related("model").filter(opportunity_id=opportunity.pk).first()
    if score is None or (opportunity.updated_at and opportunity.updated_at > score.scored_at):
        score = opportunity_score(opportunity_id=opportunity.pk) or score
    return score
