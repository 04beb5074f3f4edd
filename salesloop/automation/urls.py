from django.urls import path

from salesloop.automation import views

app_name = "automation"

urlpatterns = [
    path("brief/", views.brief, name="brief"),
    path("brief/<str:day>/", views.brief_day, name="brief_day"),
    path("evening/", views.evening, name="evening"),
    path("evening/team/", views.evening_team, name="evening_team"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("holidays/", views.holidays, name="holidays"),
    path("holidays/<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<slug:name>/run/", views.job_run_now, name="job_run_now"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/retry/", views.run_retry, name="run_retry"),
]
