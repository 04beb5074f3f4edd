from django.urls import path

from salesloop.calendarfeed import views

app_name = "calendarfeed"

urlpatterns = [
    path("", views.page, name="page"),
    path("issue/", views.issue, name="issue"),
    path("revoke/", views.revoke, name="revoke"),
    path("feed/<str:key>.ics", views.feed, name="feed"),
]
