"""Scheduled work of opportunity scoring, registered with the automation scheduler."""

from __future__ import annotations

import datetime as dt


def scoring_retrain(*, now: dt.datetime, slot: dt.datetime) -> dict:
    """Nightly: retrain on the closed deals (or say why not) and rescore every open deal."""
    from salesloop.scoring.services import model_retrain

    return model_retrain(now=now)


def register() -> None:
    from salesloop.automation.jobs import register_app_job

    register_app_job("scoring_retrain", scoring_retrain, at="02:30")
