"""The win-probability model page: metrics against the baseline, reliability curve, history.

Thin: selectors decide who may see it (leaders and admin, as the navigation does); retraining
posts to ``services.model_retrain`` (managers, directors and admin).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from salesloop.scoring import selectors, services
from salesloop.scoring.api import model_out
from salesloop.scoring.models import ModelStatus, ScoringSettings


@require_GET
@login_required
def model(request: HttpRequest) -> HttpResponse:
    if not selectors.can_read_model(request.user):
        raise PermissionDenied(_("The scoring model is for team leads, managers, directors and administrators."))
    run = selectors.active_model() or selectors.latest_run()
    latest = selectors.latest_run()
    history = [model_out(r) for r in selectors.training_history(20)]
    current = model_out(run) if run else None
    chart = None
    if current and current["reliability"]:
        chart = {
            "model": current["reliability"],
            "baseline": current["baseline_reliability"],
            "labels": {
                "title": _("Reliability on the out-of-time validation set"),
                "model": _("Model"),
                "baseline": _("Frequency baseline"),
                "diagonal": _("Perfectly calibrated"),
                "x": _("Predicted win probability"),
                "y": _("Observed win rate"),
            },
        }
    return render(
        request,
        "scoring/model.html",
        {
            "run": current,
            "latest": model_out(latest) if latest and run and latest.pk != run.pk else None,
            "too_few": run is not None and run.status == ModelStatus.TOO_FEW,
            "history": history,
            "chart": chart,
            "settings": ScoringSettings.current(),
            "can_retrain": selectors.can_retrain(request.user),
        },
    )


@require_POST
@login_required
def retrain(request: HttpRequest) -> HttpResponse:
    if not selectors.can_retrain(request.user):
        raise PermissionDenied(_("Only managers, directors and administrators retrain the model."))
    result = services.model_retrain(force=True)
    if result["trained"]:
        messages.success(request, _("The model was retrained and %(n)s open deals rescored.") % {"n": result["scored"]})
    else:
        messages.warning(request, _("No new model was activated; see the reason below."))
    return redirect("scoring:model")
