from django.contrib import admin
from django.urls import include, path

from salesloop.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("automation/", include("salesloop.automation.urls")),
    path("notifications/", include("salesloop.notifications.urls")),
    path("calendar/", include("salesloop.calendarfeed.urls")),
    path("customers/ops/", include("salesloop.custops.urls")),
    path("targets/", include("salesloop.targets.urls")),
    path("intel/", include("salesloop.intel.urls")),
    path("forecasts/", include("salesloop.forecasting.urls")),
    path("scoring/", include("salesloop.scoring.urls")),
    path("", include("salesloop.workspace.urls")),
    path("", include("salesloop.web.urls")),
]
