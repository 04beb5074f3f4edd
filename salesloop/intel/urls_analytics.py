"""Pages of the analytics views (included under /intel/ with namespace "intel")."""

from django.urls import path

from salesloop.intel import views_analytics

urlpatterns: list = [
    path("regions/", views_analytics.regions, name="regions"),
    path("sources/", views_analytics.sources, name="sources"),
    path("won-profile/", views_analytics.won_profile_page, name="won_profile"),
]
