"""Pages of the commit workflow: a rep's call sheet and a manager's roll-up (see views_commit)."""

from django.urls import path

from salesloop.forecasting import views_commit

urlpatterns = [
    path("commit/", views_commit.commit_sheet, name="commit"),
    path("commit/team/", views_commit.commit_team, name="commit_team"),
    path("commit/deals/<int:pk>/category/", views_commit.deal_category, name="commit_deal_category"),
    path("commit/submit/", views_commit.commit_submit, name="commit_submit"),
    path("commit/submissions/<int:pk>/adjust/", views_commit.commit_adjust, name="commit_adjust"),
]
