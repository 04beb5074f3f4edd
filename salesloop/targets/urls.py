"""Pages of the targets app, mounted at ``/targets/``."""

from django.urls import path

from salesloop.targets import views

app_name = "targets"

urlpatterns = [
    path("", views.target_list, name="list"),
    path("<int:pk>/", views.target_detail, name="detail"),
    path("tracking/", views.tracking, name="tracking"),
    path("today/", views.today, name="today"),
    path("flags/", views.flags, name="flags"),
    path("flags/detect/", views.flags_detect, name="flags_detect"),
    path("attribution/", views.attribution, name="attribution"),
    path("funnel/", views.funnel, name="funnel"),
    path("packs/<slug:kind>/", views.pack, name="pack"),
]
