from django.urls import path

from salesloop.scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.model, name="model"),
    path("retrain/", views.retrain, name="retrain"),
]
