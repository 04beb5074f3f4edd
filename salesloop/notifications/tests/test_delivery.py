"""Deliveries: e-mail through a real SMTP server, chat webhooks to a local receiver, retries,
back-off, quiet hours and preferences."""

import base64
import datetime as dt
import hashlib
import hmac
import urllib.parse

import pytest
import time_machine
from django.test import override_settings

from salesloop.automation.models import AutomationSettings
from salesloop.automation.tests.clock import local
from salesloop.notifications import channels
from salesloop.notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    WebhookEndpoint,
    WebhookKind,
)
from salesloop.notifications.preferences import effective_preferences
from salesloop.notifications.services import Draft, deliveries_send, notifications_create
from salesloop.notifications.tests.receivers import ChatReceiver, SmtpServer

pytestmark = pytest.mark.django_db

MONDAY = local("2025-06-02", "10:00")


@pytest.fixture
def receiver():
    chat = ChatReceiver().start()
    yield chat
    chat.stop()


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
    ):
        yield server
    server.stop()


def _hook(receiver, kind, path, *, secret="", team=None, owner=None) -> WebhookEndpoint:
    receiver.secrets[path] = secret
    query = (
        "access_token=abc"
        if kind == WebhookKind.DINGTALK
        else ("key=k1" if kind == WebhookKind.WECOM else "")
    )
    return WebhookEndpoint.objects.create(
        name=path, kind=kind, url=receiver.url(path, query), secret=secret, team=team, owner=owner
    )


def _chat_only(user, hook) -> None:
    NotificationPreference.objects.update_or_create(
        user=user, defaults={"email": False, "chat": True, "webhook": hook}
    )


def _notify(user, title="新任务：回访", key=None, kind="task"):
    return notifications_create(
        drafts=[
            Draft(
                recipient_id=user.pk,
                kind=kind,
                title=title,
                body="周三前完成",
                url="/tasks/1/",
                dedupe_key=key,
            )
        ]
    )


def test_an_email_reaches_a_real_smtp_server_once(org, smtp):
    _notify(org.rep_a1, key="evt-1")
    _notify(org.rep_a1, key="evt-1")  # the same event again: no second notification, no second mail

    counts = deliveries_send()
    again = deliveries_send()

    assert counts["sent"] == 1 and again["sent"] == 0
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["to"] == ["rep_a1@example.com"]
    assert message["subject"] == "新任务：回访"
    assert "周三前完成" in message["body"] and "http://127.0.0.1:8000/tasks/1/" in message["body"]
    assert message["headers"]["X-Salesloop-Delivery"] == str(Delivery.objects.get().pk)


def test_dingtalk_is_signed_with_the_secret_and_mentions_the_person(org, receiver):
    org.rep_a1.phone = "13800000001"
    org.rep_a1.save()
    hook = _hook(receiver, WebhookKind.DINGTALK, "/dingtalk/robot/send", secret="SEC-test-123")
    _chat_only(org.rep_a1, hook)
    _notify(org.rep_a1)

    assert deliveries_send()["sent"] == 1

    hit = receiver.hits[-1]
    ts = hit.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(b"SEC-test-123", f"{ts}\nSEC-test-123".encode(), hashlib.sha256).digest()
    ).decode()
    assert hit.query["sign"] == expected and hit.query["access_token"] == "abc"
    assert hit.body["msgtype"] == "markdown"
    assert hit.body["markdown"]["title"] == "新任务：回访"
    assert "@13800000001" in hit.body["markdown"]["text"]
    assert hit.body["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}


def test_a_wrong_dingtalk_secret_is_a_failed_delivery_with_the_platforms_answer(org, receiver):
    hook = _hook(receiver, WebhookKind.DINGTALK, "/dingtalk/robot/send", secret="right")
    hook.secret = "wrong"
    hook.save()
    _chat_only(org.rep_a1, hook)
    _notify(org.rep_a1)

    counts = deliveries_send()

    delivery = Delivery.objects.get()
    assert counts["retry"] == 1
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "310000" in delivery.last_error and "sign not match" in delivery.last_error


def test_feishu_wecom_and_slack_payloads_have_each_platforms_shape(org, receiver):
    feishu = _hook(
        receiver, WebhookKind.FEISHU, "/feishu/open-apis/bot/v2/hook/x", secret="fs-secret"
    )
    wecom = _hook(receiver, WebhookKind.WECOM, "/wecom/cgi-bin/webhook/send")
    slack = _hook(receiver, WebhookKind.SLACK, "/slack/services/T/B/X")
    org.rep_a2.phone = "13900000002"
    org.rep_a2.save()
    org.rep_b1.language = "en"
    org.rep_b1.save()
    _chat_only(org.rep_a1, feishu)
    _chat_only(org.rep_a2, wecom)
    _chat_only(org.rep_b1, slack)
    for person in (org.rep_a1, org.rep_a2, org.rep_b1):
        _notify(person, title="Follow up")

    assert deliveries_send()["sent"] == 3

    by_path = {hit.path.split("/")[1]: hit for hit in receiver.hits}
    fs = by_path["feishu"].body
    assert fs["msg_type"] == "post"
    assert fs["content"]["post"]["zh_cn"]["title"] == "Follow up"
    assert fs["content"]["post"]["zh_cn"]["content"][0] == [{"tag": "text", "text": "周三前完成"}]
    assert (
        fs["sign"]
        == base64.b64encode(
            hmac.new(f"{fs['timestamp']}\nfs-secret".encode(), b"", hashlib.sha256).digest()
        ).decode()
    )
    wc = by_path["wecom"]
    assert wc.query == {"key": "k1"}
    assert wc.body["msgtype"] == "text"
    assert wc.body["text"]["mentioned_mobile_list"] == ["13900000002"]
    assert wc.body["text"]["content"].startswith("Follow up\n周三前完成")
    assert by_path["slack"].body == {
        "text": "*Follow up*\n周三前完成\n<http://127.0.0.1:8000/tasks/1/|http://127.0.0.1:8000/tasks/1/>"
    }


def test_a_failing_webhook_is_retried_with_back_off_and_never_blocks_others(org, receiver):
    conf = AutomationSettings.current()
    conf.delivery_max_attempts = 3
    conf.delivery_backoff_seconds = 60
    conf.save()
    broken = _hook(receiver, WebhookKind.SLACK, "/slack/broken")
    healthy = _hook(receiver, WebhookKind.SLACK, "/slack/healthy")
    receiver.fail_paths["/slack/broken"] = 500
    _chat_only(org.rep_a1, broken)
    _chat_only(org.rep_a2, healthy)
    with time_machine.travel(MONDAY, tick=False) as clock:
        for i in range(3):
            _notify(org.rep_a1, title=f"broken {i}")
        _notify(org.rep_a2, title="healthy")

        first = deliveries_send()
        assert first == {"sent": 1, "failed": 0, "retry": 1, "deferred": 2}
        broken_hits = [h for h in receiver.hits if h.path == "/slack/broken"]
        assert len(broken_hits) == 1  # the other two waited instead of hammering a dead robot

        clock.shift(dt.timedelta(seconds=59))
        assert deliveries_send() == {
            "sent": 0,
            "failed": 0,
            "retry": 0,
            "deferred": 0,
        }  # back-off holds
        receiver.fail_paths.clear()
        clock.shift(dt.timedelta(seconds=2))
        assert deliveries_send()["sent"] == 3

    rows = list(
        Delivery.objects.filter(endpoint=broken).order_by("pk").values_list("status", "attempts")
    )
    assert rows == [(DeliveryStatus.SENT, 2), (DeliveryStatus.SENT, 1), (DeliveryStatus.SENT, 1)]


def test_a_delivery_gives_up_after_the_configured_attempts_and_keeps_the_error(org, receiver):
    conf = AutomationSettings.current()
    conf.delivery_max_attempts = 2
    conf.delivery_backoff_seconds = 10
    conf.save()
    hook = _hook(receiver, WebhookKind.WECOM, "/wecom/down")
    receiver.fail_paths["/wecom/down"] = 503
    _chat_only(org.rep_a1, hook)
    with time_machine.travel(MONDAY, tick=False) as clock:
        _notify(org.rep_a1)
        deliveries_send()
        clock.shift(dt.timedelta(seconds=11))
        assert deliveries_send()["failed"] == 1
        clock.shift(dt.timedelta(hours=1))
        assert deliveries_send() == {"sent": 0, "failed": 0, "retry": 0, "deferred": 0}

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert delivery.last_error.startswith("HTTP 503")


def test_a_delivery_whose_worker_died_is_sent_again_after_its_lease(org, smtp):
    with time_machine.travel(MONDAY, tick=False) as clock:
        _notify(org.rep_a1)
        Delivery.objects.update(
            status=DeliveryStatus.SENDING, lease_until=MONDAY + dt.timedelta(minutes=1), attempts=1
        )
        assert deliveries_send()["sent"] == 0  # still leased to the (dead) worker
        clock.shift(dt.timedelta(minutes=2))
        assert deliveries_send()["sent"] == 1
    assert len(smtp.messages) == 1


def test_quiet_hours_hold_e_mail_and_chat_until_they_end_but_not_the_app(org, smtp):
    NotificationPreference.objects.create(
        user=org.rep_a1, quiet_start=dt.time(21), quiet_end=dt.time(8)
    )
    with time_machine.travel(local("2025-06-02", "22:30"), tick=False) as clock:
        _notify(org.rep_a1)
        assert Notification.objects.filter(recipient=org.rep_a1).count() == 1
        assert deliveries_send()["sent"] == 0
        clock.move_to(local("2025-06-03", "07:59"))
        assert deliveries_send()["sent"] == 0
        clock.move_to(local("2025-06-03", "08:00"))
        assert deliveries_send()["sent"] == 1
    assert Delivery.objects.get().next_attempt_at == local("2025-06-03", "08:00")


def test_a_muted_kind_stays_in_the_app(org, smtp):
    NotificationPreference.objects.create(user=org.rep_a1, muted_kinds=["brief"])
    _notify(org.rep_a1, kind="brief", key="b1")
    _notify(org.rep_a1, kind="task", key="t1")

    assert list(Delivery.objects.values_list("notification__kind", flat=True)) == ["task"]


def test_a_persons_preference_overrides_the_team_default_which_overrides_its_parent(org, receiver):
    team_hook = _hook(receiver, WebhookKind.WECOM, "/wecom/team-a", team=org.team_a)
    NotificationPreference.objects.create(
        team=org.team_a, chat=True, webhook=team_hook, email=False
    )
    NotificationPreference.objects.create(
        team=org.group_a1, quiet_start=dt.time(20), quiet_end=dt.time(7)
    )
    NotificationPreference.objects.create(user=org.rep_a1b, email=True)

    prefs = effective_preferences([org.rep_a1.pk, org.rep_a1b.pk, org.rep_b1.pk])

    a1, a1b, b1 = prefs[org.rep_a1.pk], prefs[org.rep_a1b.pk], prefs[org.rep_b1.pk]
    assert (a1.email, a1.chat, a1.webhook_id, a1.quiet_start) == (
        False,
        True,
        team_hook.pk,
        dt.time(20),
    )
    assert (a1b.email, a1b.chat, a1b.webhook_id) == (True, True, team_hook.pk)
    assert (b1.email, b1.chat, b1.webhook_id, b1.quiet_start) == (True, False, None, None)


def test_the_dingtalk_signature_matches_the_platforms_published_example():
    # 钉钉开放平台 "自定义机器人安全设置 / 加签" example algorithm, computed independently here.
    secret, ts = "SEC000000000000000000000", 1577262236757
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert channels.dingtalk_sign(secret, ts) == expected
    endpoint = WebhookEndpoint(
        kind=WebhookKind.DINGTALK,
        url="https://oapi.dingtalk.com/robot/send?access_token=x",
        secret=secret,
    )
    url, _body = channels.webhook_request(endpoint, channels.Message("t", "x", ""), now=ts / 1000)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["sign"] == [expected]
