"""The browser UI's URLs. ``/`` and the name ``home`` belong to the workspace app."""

from django.urls import path

from salesloop.web.views import records, shell

# (URL prefix, registry key)
_RECORD_PREFIXES = [
    ("accounts", "account"),
    ("contacts", "contact"),
    ("leads", "lead"),
    ("opportunities", "opportunity"),
    ("activities", "activity"),
    ("tasks", "task"),
    ("orders", "order"),
    ("invoices", "invoice"),
    ("payments", "payment"),
    ("contracts", "contract"),
]

urlpatterns = [
    path("login/", shell.LoginView.as_view(), name="login"),
    path("logout/", shell.LogoutView.as_view(), name="logout"),
    path("account/password/", shell.PasswordChangeView.as_view(), name="password_change"),
    path(
        "account/password/done/",
        shell.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/language/", shell.language_set, name="language_set"),
    path("search/", shell.search, name="search"),
    path("alerts/tasks/", shell.task_alerts, name="task_alerts"),
    path("lookup/<slug:key>/", shell.lookup, name="lookup"),
]

for prefix, key in _RECORD_PREFIXES:
    urlpatterns += [
        path(f"{prefix}/", records.record_list, {"key": key}, name=f"{key}_list"),
        path(f"{prefix}/new/", records.record_create, {"key": key}, name=f"{key}_create"),
        path(f"{prefix}/<int:pk>/", records.record_detail, {"key": key}, name=f"{key}_detail"),
        path(f"{prefix}/<int:pk>/edit/", records.record_edit, {"key": key}, name=f"{key}_edit"),
    ]
