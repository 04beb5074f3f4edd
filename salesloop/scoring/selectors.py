"""Reads of opportunity scoring, with the access rules of ``org.access``.

Who sees what: the model page and its metrics describe the whole organisation's deals in
aggregate, so they are for those who lead people and for admin (the navigation offers the page to
the same roles); a deal's score is read by whoever may read the deal (``restrict`` on
``pipeline.Opportunity``: a rep their own book, a lead their group, a manager their subtree,
finance every deal) and is invisible — 404 — to everyone else; retraining is organisation-wide, so
it is for managers, directors and admin.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language

from salesloop.org import access
from salesloop.org.models import LEADING_ROLES, Role, User
from salesloop.pipeline.models import Opportunity, Stage
from salesloop.scoring.models import ScoringModel

MODEL_READERS = frozenset({*LEADING_ROLES, Role.ADMIN})
RETRAINERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})


def can_read_model(user: User) -> bool:
    return user.is_superuser or user.role in MODEL_READERS


def can_retrain(user: User) -> bool:
    return user.is_superuser or user.role in RETRAINERS


def active_model() -> ScoringModel | None:
    return ScoringModel.objects.filter(is_active=True).order_by("-trained_at", "-id").first()


def latest_run() -> ScoringModel | None:
    return ScoringModel.objects.order_by("-trained_at", "-id").first()


def training_history(limit: int = 20) -> QuerySet[ScoringModel]:
    return ScoringModel.objects.defer("estimator").order_by("-trained_at", "-id")[:limit]


def visible_opportunity(user: User, opportunity_id: int) -> Opportunity:
    """The deal if the user may read it; 404 otherwise (ids of others' deals do not leak)."""
    return get_object_or_404(
        access.restrict(Opportunity.objects.select_related("stage"), user, "read"), pk=opportunity_id
    )


def stage_names() -> dict[str, str]:
    """Stage code → name in the current language (Chinese names, English when the UI is English)."""
    english = (get_language() or "").startswith("en")
    return {s.code: (s.name_en or s.name) if english else s.name for s in Stage.objects.all()}
