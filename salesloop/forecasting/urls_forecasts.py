from django.urls import path

from salesloop.forecasting import views_forecasts

urlpatterns = [
    path("", views_forecasts.overview, name="overview"),
    path("accuracy/", views_forecasts.accuracy_page, name="accuracy"),
]
