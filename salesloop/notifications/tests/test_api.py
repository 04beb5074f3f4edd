"""The notification centre's API: own notifications only, read marks, preferences, webhooks."""

import pytest

from salesloop.notifications.models import Notification, NotificationPreference, WebhookEndpoint
from salesloop.notifications.services import Draft, notifications_create
from salesloop.notifications.tests.receivers import ChatReceiver

pytestmark = pytest.mark.django_db


def _notify(user, n=1, kind="task"):
    notifications_create(
        drafts=[
            Draft(
                recipient_id=user.pk,
                kind=kind,
                title=f"通知{i}",
                dedupe_key=f"{user.pk}:{kind}:{i}",
            )
            for i in range(n)
        ]
    )


def test_a_person_lists_and_marks_their_own_notifications_only(org, api_as):
    _notify(org.rep_a1, 3)
    _notify(org.rep_a2, 2)
    theirs = Notification.objects.filter(recipient=org.rep_a2).first()
    client = api_as(org.rep_a1)

    listed = client.get("/api/notifications")
    first = listed.json()["items"][0]["id"]
    marked = client.post(f"/api/notifications/{first}/read")
    foreign = client.post(f"/api/notifications/{theirs.pk}/read")
    count = client.get("/api/notifications/unread-count")
    unread = client.get("/api/notifications?unread=true")
    admin_view = api_as(org.admin).get("/api/notifications")

    assert (listed.json()["count"], listed.json()["unread"]) == (3, 3)
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    assert foreign.status_code == 404
    assert count.json() == {"unread": 2}
    assert unread.json()["count"] == 2
    assert client.post("/api/notifications/read-all").json() == {"marked": 2}
    assert admin_view.json()["count"] == 0  # admin keeps the system, not other people's inboxes
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_list_is_filtered_by_kind_and_refuses_unknown_kinds(org, api_as):
    _notify(org.rep_a1, 2, kind="task")
    _notify(org.rep_a1, 1, kind="brief")
    client = api_as(org.rep_a1)
    assert client.get("/api/notifications?kind=brief").json()["count"] == 1
    assert client.get("/api/notifications?kind=nonsense").status_code == 422


def test_preferences_are_read_and_written_with_field_errors(org, api_as):
    client = api_as(org.rep_a1)
    empty = client.get("/api/notifications/preferences")
    saved = client.put(
        "/api/notifications/preferences",
        data={
            "email": False,
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "muted_kinds": ["brief"],
        },
        content_type="application/json",
    )
    half_quiet = client.put(
        "/api/notifications/preferences",
        data={"quiet_start": "21:00"},
        content_type="application/json",
    )
    foreign_hook = WebhookEndpoint.objects.create(
        name="b", kind="slack", url="https://hooks.example/b", team=org.team_b
    )
    not_mine = client.put(
        "/api/notifications/preferences",
        data={"webhook_id": foreign_hook.pk},
        content_type="application/json",
    )

    assert empty.json()["email"] is None
    assert saved.status_code == 200 and saved.json()["quiet_start"] == "21:00:00"
    assert half_quiet.status_code == 422 and "quiet_end" in half_quiet.json()["errors"]
    assert not_mine.status_code == 422 and "webhook_id" in not_mine.json()["errors"]
    pref = NotificationPreference.objects.get(user=org.rep_a1)
    assert (pref.email, pref.muted_kinds) == (False, ["brief"])


def test_a_lead_sets_their_teams_defaults_and_a_rep_may_not(org, api_as):
    hook = WebhookEndpoint.objects.create(
        name="A1 群", kind="wecom", url="https://qyapi.example/send?key=1", team=org.group_a1
    )
    by_lead = api_as(org.lead_a1).put(
        f"/api/notifications/team-preferences/{org.group_a1.pk}",
        data={"chat": True, "webhook_id": hook.pk},
        content_type="application/json",
    )
    by_rep = api_as(org.rep_a1).put(
        f"/api/notifications/team-preferences/{org.group_a1.pk}",
        data={"chat": True},
        content_type="application/json",
    )
    other_team = api_as(org.lead_a1).put(
        f"/api/notifications/team-preferences/{org.group_b1.pk}",
        data={"chat": True},
        content_type="application/json",
    )

    assert by_lead.status_code == 200 and by_lead.json()["webhook_id"] == hook.pk
    assert by_rep.status_code == 403 and other_team.status_code == 403


def test_webhooks_are_managed_by_their_owner_or_their_teams_leads_and_secrets_stay_hidden(
    org, api_as
):
    receiver = ChatReceiver().start()
    try:
        mine = api_as(org.rep_a1).post_json(
            "/api/notifications/webhooks",
            {
                "name": "我的钉钉",
                "kind": "dingtalk",
                "url": receiver.url("/dingtalk/x", "access_token=t"),
                "secret": "s3",
            },
        )
        team = api_as(org.lead_a1).post_json(
            "/api/notifications/webhooks",
            {
                "name": "A1 群",
                "kind": "wecom",
                "url": receiver.url("/wecom/x"),
                "team_id": org.group_a1.pk,
            },
        )
        rep_for_team = api_as(org.rep_a1).post_json(
            "/api/notifications/webhooks",
            {
                "name": "x",
                "kind": "slack",
                "url": "https://hooks.example/x",
                "team_id": org.group_a1.pk,
            },
        )
        bad_url = api_as(org.rep_a1).post_json(
            "/api/notifications/webhooks", {"name": "x", "kind": "slack", "url": "not a url"}
        )
        tested = api_as(org.rep_a1).post(f"/api/notifications/webhooks/{mine.json()['id']}/test")
        receiver.fail_paths["/wecom/x"] = 500
        failed_test = api_as(org.lead_a1).post(
            f"/api/notifications/webhooks/{team.json()['id']}/test"
        )
    finally:
        receiver.stop()
    rep_sees = api_as(org.rep_a1).get("/api/notifications/webhooks").json()
    lead_sees = api_as(org.lead_a1).get("/api/notifications/webhooks").json()
    others = api_as(org.rep_b1).patch_json(
        f"/api/notifications/webhooks/{mine.json()['id']}", {"name": "hijack"}
    )
    renamed = api_as(org.rep_a1).patch_json(
        f"/api/notifications/webhooks/{mine.json()['id']}", {"name": "钉钉"}
    )
    deleted = api_as(org.rep_a1).delete(f"/api/notifications/webhooks/{mine.json()['id']}")

    assert mine.status_code == 201 and mine.json()["has_secret"] and "secret" not in mine.json()
    assert team.status_code == 201
    assert rep_for_team.status_code == 403
    assert bad_url.status_code == 422 and "url" in bad_url.json()["errors"]
    assert tested.json() == {"ok": True, "error": ""}
    assert failed_test.status_code == 502 and "HTTP 500" in failed_test.json()["error"]
    assert [h["name"] for h in rep_sees] == ["我的钉钉"]
    assert sorted(h["name"] for h in lead_sees) == ["A1 群"]
    assert others.status_code == 404
    assert renamed.json()["name"] == "钉钉" and deleted.status_code == 204
