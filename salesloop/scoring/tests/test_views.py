"""The model page, the score card on a deal page, and retraining from the page."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from salesloop.scoring.models import ModelStatus, OpportunityScore, ScoringModel
from salesloop.scoring.services import model_retrain
from salesloop.scoring.templatetags.scoring_tags import pct

from .builders import account, activity, at, deal, planted_book

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def trained(org):
    planted_book([org.rep_a1, org.rep_a1b, org.rep_a2, org.rep_b1], n=240, seed=21)
    mine = deal(org.rep_a1, account(org.rep_a1), created=at(300), moves=[("qualified", at(300))])
    activity(mine, "visit", at(300.1), "interested")
    model_retrain(now=at(305), force=True)
    return {"mine": mine}


def test_a_manager_sees_metrics_against_the_baseline_and_the_reliability_curve(
    org, trained, django_assert_max_num_queries
):
    run = ScoringModel.objects.get(is_active=True)
    with django_assert_max_num_queries(30):
        response = login(org.manager_a).get(reverse("scoring:model"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="auc"' in body and f"{run.auc:.3f}" in body
    assert f"{run.baseline_auc:.3f}" in body and f"{run.brier:.3f}" in body
    assert 'data-testid="too-few"' not in body
    start = body.index('<script id="reliability-data" type="application/json">') + len(
        '<script id="reliability-data" type="application/json">'
    )
    chart = json.loads(body[start : body.index("</script>", start)])
    assert chart["model"] == run.reliability["model"] and chart["baseline"] == run.reliability["baseline"]
    assert 'data-testid="retrain"' in body


@pytest.mark.parametrize("who", ["rep_a1", "finance", "marketing"])
def test_the_model_page_is_for_leaders_and_admin(org, who):
    assert login(getattr(org, who)).get(reverse("scoring:model")).status_code == 403


def test_a_group_lead_sees_the_page_but_cannot_retrain(org, trained):
    response = login(org.lead_a1).get(reverse("scoring:model"))
    assert response.status_code == 200
    assert 'data-testid="retrain"' not in response.content.decode()
    assert login(org.lead_a1).post(reverse("scoring:retrain")).status_code == 403


def test_too_few_deals_say_so_on_the_page(org):
    planted_book([org.rep_a1], n=12, seed=1)
    model_retrain(now=at(100), force=True)

    body = login(org.admin).get(reverse("scoring:model"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-testid="too-few"' in body
    assert "Only 12 closed deals; the model needs at least 200." in body


def test_the_page_before_any_training(org):
    body = login(org.director).get(reverse("scoring:model")).content.decode()
    assert 'data-testid="no-model"' in body


def test_retraining_from_the_page(org, trained):
    before = ScoringModel.objects.count()
    response = login(org.manager_a).post(reverse("scoring:retrain"))
    assert response.status_code == 302 and response.url == reverse("scoring:model")
    assert ScoringModel.objects.count() == before + 1
    assert ScoringModel.objects.filter(is_active=True).get().status == ModelStatus.TRAINED


def test_the_deal_page_shows_the_probability_and_its_reasons(org, trained):
    url = reverse("opportunity_detail", args=[trained["mine"].pk])

    body = login(org.rep_a1).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    score = OpportunityScore.objects.get(opportunity=trained["mine"])  # rescored if the deal changed since

    assert 'data-testid="deal-score"' in body
    assert f'data-testid="win-probability">{pct(score.probability)}<' in body
    assert 'data-testid="score-reasons"' in body and body.count("<li>") >= len(score.reasons) > 0
    assert 'data-testid="baseline-label"' not in body
    assert "About the model" not in body  # the model page is not for reps


def test_a_closed_deal_has_no_score_card(org, trained):
    won = deal(org.rep_a1, account(org.rep_a1), created=at(1), moves=[("qualified", at(1)), ("won", at(5))])
    body = login(org.rep_a1).get(reverse("opportunity_detail", args=[won.pk])).content.decode()
    assert 'data-testid="deal-score"' not in body
