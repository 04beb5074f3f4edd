"""Mounts every app's API on the root: declared resources plus hand-written routers."""

from typing import Any

from django.db.models import Model
from ninja import NinjaAPI

from salesloop.activities.api import RESOURCES as ACTIVITY_RESOURCES
from salesloop.automation.api import router as automation_router
from salesloop.calendarfeed.api import router as calendar_router
from salesloop.core.api_resources import Resource, build_router
from salesloop.customers.api import RESOURCES as CUSTOMER_RESOURCES
from salesloop.custops.api import RESOURCES as CUSTOPS_RESOURCES
from salesloop.custops.api import router as custops_router
from salesloop.dataio.api import router as dataio_router
from salesloop.forecasting.api_commit import router as forecast_commit_router
from salesloop.forecasting.api_forecasts import router as forecasts_router
from salesloop.intel.api import router as intel_router
from salesloop.intel.api_analytics import router as intel_analytics_router
from salesloop.notifications.api import router as notifications_router
from salesloop.org.api import RESOURCES as ORG_RESOURCES
from salesloop.org.api import router as org_router
from salesloop.pipeline.api import RESOURCES as PIPELINE_RESOURCES
from salesloop.sales.api import RESOURCES as SALES_RESOURCES
from salesloop.scoring.api import router as scoring_router
from salesloop.targets.api import router as targets_router

ALL_RESOURCES: list[Resource] = [
    *CUSTOMER_RESOURCES,
    *PIPELINE_RESOURCES,
    *ACTIVITY_RESOURCES,
    *SALES_RESOURCES,
    *ORG_RESOURCES,
    *CUSTOPS_RESOURCES,
]
_BY_MODEL: dict[type[Model], Resource] = {r.model: r for r in ALL_RESOURCES}


def register(api: NinjaAPI) -> None:
    for res in ALL_RESOURCES:
        api.add_router(f"/{res.path}", build_router(res))
    api.add_router("", org_router)
    api.add_router("/import", dataio_router)
    api.add_router("/automation", automation_router)
    api.add_router("/notifications", notifications_router)
    api.add_router("/calendar", calendar_router)
    api.add_router("/custops", custops_router)
    api.add_router("/targets", targets_router)
    api.add_router("/intel/analytics", intel_analytics_router)
    api.add_router("/intel", intel_router)
    api.add_router("/forecasts/commit", forecast_commit_router)
    api.add_router("/forecasts", forecasts_router)
    api.add_router("/scoring", scoring_router)


def serialize_current(instance: Model) -> dict[str, Any]:
    res = _BY_MODEL.get(type(instance))
    if res is None:
        return {"id": instance.pk}
    return res.Out.from_orm(instance).model_dump(mode="json")
