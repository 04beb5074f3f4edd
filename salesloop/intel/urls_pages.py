"""Pages of pipeline intelligence under /intel/ (namespace ``intel``): funnel, heatmap, routing."""

from django.urls import path

from salesloop.intel import views

urlpatterns: list = [
    path("funnel/", views.funnel, name="funnel"),
    path("heatmap/", views.heatmap, name="heatmap"),
    path("routing/", views.routing_page, name="routing"),
]
