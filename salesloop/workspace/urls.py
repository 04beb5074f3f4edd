from django.urls import path

from salesloop.workspace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.rep_home, name="rep_home"),
    path("team/", views.manager_home, name="manager_home"),
    path("team/<int:user_id>/", views.team_member, name="team_member"),
    path(
        "team/<int:user_id>/<slug:metric>/", views.team_member_records, name="team_member_records"
    ),
    path("quick-log/", views.quick_log, name="quick_log"),
    path("quick-log/links/", views.quick_log_links, name="quick_log_links"),
    path("board/", views.board, name="board"),
    path("board/move/", views.board_move, name="board_move"),
]
