"""Scheduled work of forecasting, registered with the automation scheduler (time is data there)."""

from __future__ import annotations

import datetime as dt


def forecast_snapshots(*, now: dt.datetime, slot: dt.datetime) -> dict:
    """Daily at 06:00; takes the week's snapshots on the configured weekday and fills the actuals
    of periods that have closed (idempotent per day)."""
    from salesloop.forecasting.services import snapshots_take

    return snapshots_take(now=now)


def register() -> None:
    from salesloop.automation.jobs import register_app_job

    register_app_job("forecast_snapshots", forecast_snapshots, at="06:00")
