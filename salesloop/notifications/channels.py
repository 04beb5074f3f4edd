"""Sending one delivery: e-mail through Django's mail machinery, or a chat robot's webhook.

The chat payloads follow each platform's robot documentation:

* WeCom group robot: ``{"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}``,
  answer ``{"errcode": 0}``;
* DingTalk custom robot: markdown with ``at.atMobiles``; with 加签 the URL carries ``timestamp``
  (ms) and ``sign`` = Base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), answer
  ``{"errcode": 0}``;
* Feishu / Lark custom bot: ``msg_type: "post"``; with 签名校验 the body carries ``timestamp``
  (s) and ``sign`` = Base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg="")), answer
  ``{"code": 0}`` (older bots: ``{"StatusCode": 0}``);
* Slack incoming webhook: ``{"text": ...}`` in mrkdwn, answer ``ok``.

These platforms answer HTTP 200 with an error code in the body, so the body is checked too.
Every request has a short timeout: a dead robot costs seconds, never a stuck worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from salesloop.notifications.models import WebhookEndpoint, WebhookKind

TIMEOUT_SECONDS = 5.0


class DeliveryError(Exception):
    """The channel refused or did not answer; the message says why (kept as ``last_error``)."""


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    url: str
    mention_phone: str = ""
    language: str = ""
    delivery_id: int | None = None


def absolute_url(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.SALESLOOP_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


# E-mail --------------------------------------------------------------------------------------


def send_email(message: Message, address: str, connection) -> None:
    body = message.text
    if message.url:
        body = f"{body}\n\n{absolute_url(message.url)}"
    mail = EmailMessage(
        subject=message.title,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        connection=connection,
    )
    if message.delivery_id is not None:
        mail.extra_headers["X-Salesloop-Delivery"] = str(message.delivery_id)
    try:
        sent = mail.send(fail_silently=False)
    except Exception as exc:  # smtplib, socket and backend errors all mean "not delivered"
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if sent != 1:
        raise DeliveryError("The mail server did not accept the message.")


# Signatures ----------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# Payloads ------------------------------------------------------------------------------------


def webhook_request(
    endpoint: WebhookEndpoint, message: Message, *, now: float | None = None
) -> tuple[str, dict]:
    """The URL and JSON body for ``endpoint``'s platform (signed where a secret is set)."""
    link = absolute_url(message.url)
    now = time.time() if now is None else now
    url = endpoint.url
    if endpoint.kind == WebhookKind.WECOM:
        content = f"{message.title}\n{message.text}" + (f"\n{link}" if link else "")
        text: dict[str, Any] = {"content": content}
        if message.mention_phone:
            text["mentioned_mobile_list"] = [message.mention_phone]
        return url, {"msgtype": "text", "text": text}
    if endpoint.kind == WebhookKind.DINGTALK:
        md = f"#### {message.title}\n\n{message.text}"
        if link:
            md += f"\n\n[{link}]({link})"
        if message.mention_phone:
            md += f"\n\n@{message.mention_phone}"
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": md},
            "at": {
                "atMobiles": [message.mention_phone] if message.mention_phone else [],
                "isAtAll": False,
            },
        }
        if endpoint.secret:
            ts = int(now * 1000)
            sign = urllib.parse.quote_plus(dingtalk_sign(endpoint.secret, ts))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"
        return url, body
    if endpoint.kind == WebhookKind.FEISHU:
        lines: list[list[dict[str, str]]] = [
            [{"tag": "text", "text": line}] for line in message.text.splitlines() or [""]
        ]
        if link:
            lines.append([{"tag": "a", "text": link, "href": link}])
        locale = "en_us" if message.language == "en" else "zh_cn"
        body = {
            "msg_type": "post",
            "content": {"post": {locale: {"title": message.title, "content": lines}}},
        }
        if endpoint.secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(endpoint.secret, ts), **body}
        return url, body
    if endpoint.kind == WebhookKind.SLACK:
        text_md = f"*{message.title}*\n{message.text}"
        if link:
            text_md += f"\n<{link}|{link}>"
        return url, {"text": text_md}
    raise DeliveryError(f"Unknown webhook kind {endpoint.kind!r}.")


def _check_answer(kind: str, status: int, raw: bytes) -> None:
    text = raw.decode("utf-8", "replace").strip()
    if kind == WebhookKind.SLACK:
        if text != "ok":
            raise DeliveryError(f"Slack answered {status}: {text[:200]}")
        return
    try:
        data = json.loads(text or "{}")
    except ValueError as exc:
        raise DeliveryError(f"Not a JSON answer ({status}): {text[:200]}") from exc
    if kind in (WebhookKind.WECOM, WebhookKind.DINGTALK):
        code = data.get("errcode", -1)
        if code != 0:
            raise DeliveryError(f"errcode {code}: {data.get('errmsg', '')}"[:300])
        return
    code = data.get("code", data.get("StatusCode", -1))
    if code != 0:
        raise DeliveryError(f"code {code}: {data.get('msg', data.get('StatusMessage', ''))}"[:300])


def send_webhook(
    endpoint: WebhookEndpoint, message: Message, *, timeout: float = TIMEOUT_SECONDS
) -> None:
    url, body = webhook_request(endpoint, message)
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Salesloop/1.0"}
    if message.delivery_id is not None:
        headers["X-Salesloop-Delivery"] = str(message.delivery_id)
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (admin-set URL)
            _check_answer(endpoint.kind, response.status, response.read())
    except urllib.error.HTTPError as exc:
        raise DeliveryError(
            f"HTTP {exc.code}: {exc.read()[:200].decode('utf-8', 'replace')}"
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc
