"""The model against the frequency baseline on a planted signal, the fallback, and scoring."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from salesloop.customers.models import Account
from salesloop.pipeline.models import Opportunity
from salesloop.scoring import learn
from salesloop.scoring.models import Algorithm, ModelStatus, OpportunityScore, ScoringModel, ScoringSettings
from salesloop.scoring.services import model_retrain, opportunity_score

from .builders import activity, at, deal, planted_book

pytestmark = pytest.mark.django_db

NOW = at(400)
#: How far the mean predicted probability may be from the observed win rate on validation.
CALIBRATION_TOLERANCE = 0.08


def _reps(org):
    return [org.rep_a1, org.rep_a1b, org.rep_a2, org.rep_b1]


def test_model_beats_the_frequency_baseline_out_of_time_and_is_calibrated(org):
    planted_book(_reps(org), n=320, seed=7)
    open_deal = deal(
        org.rep_a1,
        Account.objects.first(),
        created=at(390),
        moves=[("qualified", at(390))],
    )
    for k in range(5):
        activity(open_deal, "visit", at(390.01 + k / 1000))

    result = model_retrain(now=NOW, force=True)

    run = ScoringModel.objects.get(pk=result["model_id"])
    assert run.status == ModelStatus.TRAINED and run.is_active and run.algorithm == Algorithm.LOGISTIC
    assert run.n_train + run.n_validation == 320 == run.n_closed
    assert run.n_validation == 80  # the last 25 % by close time
    # Out of time: every validation deal closed at or after the cut-off, every training deal before.
    assert run.cutoff is not None
    assert run.auc > run.baseline_auc + 0.1
    assert run.brier < run.baseline_brier
    assert run.log_loss < run.baseline_log_loss
    assert abs(run.mean_predicted - run.validation_win_rate) < CALIBRATION_TOLERANCE
    curve = run.reliability["model"]
    assert sum(b["count"] for b in curve) == run.n_validation
    assert all(0 <= b["predicted"] <= 1 and 0 <= b["observed"] <= 1 for b in curve)

    # The open deal with five early visits is scored high, and visits are a reason for it.
    score = OpportunityScore.objects.get(opportunity=open_deal)
    assert score.model_id == run.pk and not score.from_baseline
    assert score.probability > 0.6
    assert score.probability > score.baseline_probability
    assert "act_visit" in [r["reason"] for r in score.reasons]
    top = next(r for r in score.reasons if r["reason"] == "act_visit")
    assert top["effect"] > 0 and top["values"]["act_visit_30"] == 5


def test_the_split_is_out_of_time(org):
    planted_book(_reps(org), n=240, seed=3)
    settings = ScoringSettings.current()
    settings.validation_share = "0.30"
    settings.save()
    model_retrain(now=NOW, force=True)
    run = ScoringModel.objects.get()
    closes = sorted(Opportunity.objects.values_list("closed_at", flat=True))
    assert run.n_validation == 72
    # The cut-off is the first validation deal's close (to the millisecond SQLite's julianday keeps).
    assert abs((run.cutoff - closes[240 - 72]).total_seconds()) < 0.01
    assert sum(c < run.cutoff for c in closes) == run.n_train


def test_too_few_closed_deals_serve_the_labelled_baseline(org):
    planted_book(_reps(org), n=30, seed=11)
    acc = Account.objects.first()
    open_deal = deal(org.rep_a1, acc, created=at(100), moves=[("lead", at(100))])

    result = model_retrain(now=NOW, force=True)

    assert result["trained"] is False and result["status"] == ModelStatus.TOO_FEW
    assert "30 closed deals" in result["reason"] and "200" in result["reason"]
    run = ScoringModel.objects.get()
    assert run.algorithm == Algorithm.BASELINE and run.is_active and not run.estimator
    assert run.auc is None and run.brier is None  # no invented precision
    score = OpportunityScore.objects.get(opportunity=open_deal)
    assert score.from_baseline and score.probability == pytest.approx(score.baseline_probability)
    assert score.reasons == []


def test_a_run_that_cannot_train_keeps_the_active_model(org):
    planted_book(_reps(org), n=240, seed=5)
    first = model_retrain(now=NOW, force=True)
    assert first["trained"] and first["active"]
    ScoringSettings.objects.update(min_per_class=300)  # now too few of each class

    second = model_retrain(now=NOW, force=True)

    assert second["status"] == ModelStatus.TOO_FEW and not second["active"]
    assert "won and" in second["reason"]
    assert ScoringModel.objects.get(is_active=True).pk == first["model_id"]
    assert ScoringModel.objects.count() == 2


def test_scoring_a_single_deal_on_demand(org):
    planted_book(_reps(org), n=240, seed=9)
    model_retrain(now=NOW, force=True)
    acc = Account.objects.first()
    fresh = deal(org.rep_a1, acc, created=at(399), moves=[("qualified", at(399))])
    assert not OpportunityScore.objects.filter(opportunity=fresh).exists()

    score = opportunity_score(opportunity_id=fresh.pk, now=NOW)

    assert score is not None and 0 < score.probability < 1
    assert len(score.reasons) == ScoringSettings.current().reasons_shown


def test_baseline_is_odoo_style_naive_bayes():
    frame = pd.DataFrame(
        {
            "won": [1, 1, 0, 0, 0, 1],
            "stage": ["a", "a", "a", "b", "b", "b"],
            "source": [""] * 6,
            "industry": ["x"] * 6,
            "size": [""] * 6,
            "region": [""] * 6,
            "has_decision_maker": [1, 1, 0, 0, 0, 0],
            "competitors": [0] * 6,
        }
    )
    table = learn.fit_baseline(frame, alpha=0.1)
    assert table["fields"]["stage"] == {"a": [2, 1], "b": [1, 2]}
    p = learn.baseline_predict(table, frame.iloc[[0]])[0]
    # By hand: P(won)·Π P(x|won) against P(lost)·Π P(x|lost), Laplace-smoothed with K = values + 1.
    a = 0.1

    def like(n, total, k):
        return (n + a) / (total + a * k)

    won = (3 + a) / (6 + 2 * a) * like(2, 3, 3) * like(3, 3, 2) * like(3, 3, 2) * like(3, 3, 2) * like(3, 3, 2)
    won *= like(2, 3, 3) * like(3, 3, 2)
    lost = (3 + a) / (6 + 2 * a) * like(1, 3, 3) * like(3, 3, 2) * like(3, 3, 2) * like(3, 3, 2) * like(3, 3, 2)
    lost *= like(0, 3, 3) * like(3, 3, 2)
    assert p == pytest.approx(won / (won + lost))
    assert np.all((learn.baseline_predict(table, frame) > 0) & (learn.baseline_predict(table, frame) < 1))


def test_the_scheduled_job_follows_the_cadence_and_the_switch(org):
    planted_book(_reps(org), n=30, seed=13)

    assert model_retrain(now=NOW)["status"] == ModelStatus.TOO_FEW  # the first run ever
    again = model_retrain(now=NOW + dt.timedelta(hours=6))
    assert again["status"] == "skipped" and ScoringModel.objects.count() == 1
    assert model_retrain(now=NOW + dt.timedelta(days=1))["status"] == ModelStatus.TOO_FEW

    ScoringSettings.objects.update(retrain_enabled=False)
    assert model_retrain(now=NOW + dt.timedelta(days=5))["status"] == "skipped"
    assert model_retrain(now=NOW + dt.timedelta(days=5), force=True)["status"] == ModelStatus.TOO_FEW
    assert ScoringModel.objects.count() == 3


def test_a_model_that_does_not_beat_the_baseline_is_not_activated(org, api_as):
    planted_book(_reps(org), n=240, seed=17)
    # Ask for more than any model can give: its AUC must exceed the baseline's by 0.9.
    ScoringSettings.current()
    ScoringSettings.objects.update(max_auc_drop="-0.900")
    acc = Account.objects.first()
    open_deal = deal(org.rep_a1, acc, created=at(395), moves=[("qualified", at(395))])

    result = model_retrain(now=NOW, force=True)

    assert result["status"] == ModelStatus.REJECTED and result["auc"] is not None
    run = ScoringModel.objects.get()
    assert not run.estimator and "below the baseline" in result["reason"]
    # Nothing better is active, so the run serves the baseline, labelled as such.
    assert run.is_active
    score = OpportunityScore.objects.get(opportunity=open_deal)
    assert score.from_baseline and score.reasons == []
    body = api_as(org.rep_a1).get(f"/api/scoring/opportunities/{open_deal.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["from_baseline"] and body["message"] == "Frequency baseline: no model has beaten it yet."
