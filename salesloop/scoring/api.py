"""REST API of opportunity scoring (mounted at ``/api/scoring``).

* ``GET /model`` — the active model's validation metrics against the baseline, its reliability
  curve, status and reason (leaders and admin; 403 for others);
* ``GET /models`` — the training history (same readers);
* ``GET /opportunities/{id}`` — a deal's win probability with its top reasons (whoever may read the
  deal; 404 when it is invisible). Scored on demand when the deal has no stored score yet;
* ``POST /retrain`` — train, validate and rescore now (managers, directors, admin; 403 for others).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from salesloop.core.errors import Forbidden
from salesloop.scoring import reasons, selectors, services
from salesloop.scoring.models import ModelStatus, ScoringModel

router = Router(tags=["scoring"])


class CurvePoint(Schema):
    predicted: float
    observed: float
    count: int


class ModelOut(Schema):
    id: int
    trained_at: dt.datetime
    cutoff: dt.datetime | None
    algorithm: str
    status: str
    status_label: str
    reason: str
    active: bool
    n_closed: int
    n_won: int
    n_train: int
    n_validation: int
    auc: float | None
    brier: float | None
    log_loss: float | None
    baseline_auc: float | None
    baseline_brier: float | None
    baseline_log_loss: float | None
    validation_win_rate: float | None
    mean_predicted: float | None
    reliability: list[CurvePoint]
    baseline_reliability: list[CurvePoint]
    features: list[str]
    scored: int
    seconds: float


def reason_text(run: ScoringModel) -> str:
    """The stored reason msgid, translated and filled in."""
    if not run.reason:
        return ""
    return _(run.reason) % run.settings_used.get("reason_values", {})


def model_out(run: ScoringModel) -> dict:
    return {
        "id": run.pk,
        "trained_at": run.trained_at,
        "cutoff": run.cutoff,
        "algorithm": run.algorithm,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "reason": reason_text(run),
        "active": run.is_active,
        "n_closed": run.n_closed,
        "n_won": run.n_won,
        "n_train": run.n_train,
        "n_validation": run.n_validation,
        "auc": run.auc,
        "brier": run.brier,
        "log_loss": run.log_loss,
        "baseline_auc": run.baseline_auc,
        "baseline_brier": run.baseline_brier,
        "baseline_log_loss": run.baseline_log_loss,
        "validation_win_rate": run.validation_win_rate,
        "mean_predicted": run.mean_predicted,
        "reliability": (run.reliability or {}).get("model", []),
        "baseline_reliability": (run.reliability or {}).get("baseline", []),
        "features": run.features,
        "scored": run.scored,
        "seconds": run.seconds,
    }


def _require_model_reader(request: HttpRequest) -> None:
    if not selectors.can_read_model(request.auth):
        raise Forbidden(_("The scoring model is for team leads, managers, directors and administrators."))


@router.get("/model", response={200: ModelOut, 404: dict}, operation_id="scoring_model")
def model(request: HttpRequest):
    """The model in use (or the baseline in use when too few deals were closed to train one)."""
    _require_model_reader(request)
    run = selectors.active_model() or selectors.latest_run()
    if run is None:
        return 404, {"message": _("No model has been trained yet."), "errors": {}}
    return model_out(run)


@router.get("/models", response=list[ModelOut], operation_id="scoring_models")
def models(request: HttpRequest):
    """Every training run, newest first (at most 50)."""
    _require_model_reader(request)
    return [model_out(run) for run in selectors.training_history(50)]


def baseline_message(score) -> str:
    """Why a score comes from the baseline ("" when it comes from the model)."""
    if not score.from_baseline:
        return ""
    if score.model is not None and score.model.status == ModelStatus.TOO_FEW:
        return _("Frequency baseline: too few closed deals to train the model.")
    return _("Frequency baseline: no model has beaten it yet.")


class ReasonOut(Schema):
    reason: str
    text: str
    effect: float
    values: dict


class ScoreOut(Schema):
    opportunity_id: int
    probability: float | None
    baseline_probability: float | None
    from_baseline: bool
    scored_at: dt.datetime | None
    model_id: int | None
    model_status: str | None
    message: str
    reasons: list[ReasonOut]


@router.get("/opportunities/{int:opportunity_id}", response=ScoreOut, operation_id="scoring_opportunity")
def opportunity(request: HttpRequest, opportunity_id: int):
    """A deal's win probability and the top reasons for it (scored on demand if not yet scored)."""
    deal = selectors.visible_opportunity(request.auth, opportunity_id)
    empty = {
        "opportunity_id": deal.pk,
        "probability": None,
        "baseline_probability": None,
        "from_baseline": False,
        "scored_at": None,
        "model_id": None,
        "model_status": None,
        "reasons": [],
    }
    if deal.stage.is_closed:
        return {**empty, "message": _("The deal is closed; only open deals are scored.")}
    score = services.current_score(deal)
    if score is None:
        return {**empty, "message": _("No model has been trained yet.")}
    names = selectors.stage_names()
    message = baseline_message(score)
    return {
        "opportunity_id": deal.pk,
        "probability": score.probability,
        "baseline_probability": score.baseline_probability,
        "from_baseline": score.from_baseline,
        "scored_at": score.scored_at,
        "model_id": score.model_id,
        "model_status": score.model.status if score.model else None,
        "message": message,
        "reasons": [
            {
                "reason": r["reason"],
                "text": reasons.sentence(r, names),
                "effect": r["effect"],
                "values": r.get("values", {}),
            }
            for r in score.reasons
        ],
    }


class RetrainOut(Schema):
    trained: bool
    status: str
    reason: str
    model_id: int
    active: bool
    n_closed: int
    n_train: int
    n_validation: int
    auc: float | None
    brier: float | None
    baseline_auc: float | None
    baseline_brier: float | None
    scored: int
    seconds: float


@router.post("/retrain", response=RetrainOut, operation_id="scoring_retrain")
def retrain(request: HttpRequest):
    """Train, validate, activate if good enough and rescore every open deal, now."""
    if not selectors.can_retrain(request.auth):
        raise Forbidden(_("Only managers, directors and administrators retrain the model."))
    result = services.model_retrain(force=True)
    run = ScoringModel.objects.get(pk=result["model_id"])
    return {**result, "status": str(result["status"]), "reason": reason_text(run)}
