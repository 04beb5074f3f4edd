from django.urls import path

from salesloop.custops import views

urlpatterns = [
    path("", views.segments, name="custops_segments"),
    path("call-list/", views.call_list, name="custops_call_list"),
    path("at-risk/", views.at_risk, name="custops_at_risk"),
    path("coverage/", views.coverage, name="custops_coverage"),
    path("sla/", views.sla, name="custops_sla"),
    path("key-accounts/", views.key_accounts, name="custops_key_accounts"),
    path("needs/", views.needs, name="custops_needs"),
    path("needs/capture/", views.need_capture, name="custops_need_capture"),
]
