"""Local stand-ins for the outside world, started by the tests: a chat-robot HTTP receiver and an
SMTP server. Both listen on 127.0.0.1 on a free port and record what they receive.

The chat receiver answers like the real platforms: HTTP 200 with ``{"errcode": 0}`` (WeCom,
DingTalk), ``{"code": 0}`` (Feishu) or ``ok`` (Slack), and checks DingTalk's and Feishu's
signatures the way those platforms do, refusing a wrong one with their error codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Hit:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class ChatReceiver:
    """``url(kind)`` gives a robot address; ``secrets`` holds the signing secret per path."""

    secrets: dict[str, str] = field(default_factory=dict)
    fail_paths: dict[str, int] = field(default_factory=dict)  # path → HTTP status to answer
    delay_seconds: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> ChatReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):  # noqa: N802
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                query = dict(urllib.parse.parse_qsl(parsed.query))
                receiver.hits.append(Hit(parsed.path, query, dict(self.headers), body))
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                status, answer = receiver.answer(parsed.path, query, body)
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type",
                    "application/json" if not isinstance(answer, str) else "text/plain",
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def url(self, path: str, query: str = "") -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}" + (f"?{query}" if query else "")

    def answer(self, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if path in self.fail_paths:
            return self.fail_paths[path], {"errcode": 500, "errmsg": "down"}
        secret = self.secrets.get(path, "")
        if path.startswith("/dingtalk"):
            if secret:
                ts = query.get("timestamp", "")
                expected = base64.b64encode(
                    hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
                ).decode()
                if query.get("sign") != expected:
                    return 200, {"errcode": 310000, "errmsg": "sign not match"}
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path.startswith("/wecom"):
            if not isinstance(body, dict) or body.get("msgtype") != "text":
                return 200, {"errcode": 40008, "errmsg": "invalid message type"}
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path.startswith("/feishu"):
            if secret:
                ts = body.get("timestamp", "")
                expected = base64.b64encode(
                    hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
                ).decode()
                if body.get("sign") != expected:
                    return 200, {
                        "code": 19021,
                        "msg": "sign match fail or timestamp is not within one hour",
                    }
            return 200, {"code": 0, "msg": "success", "data": {}}
        if path.startswith("/slack"):
            if not isinstance(body, dict) or "text" not in body:
                return 400, "invalid_payload"
            return 200, "ok"
        return 404, {"errcode": 404}


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        msg = message_from_bytes(envelope.content)
        body = msg.get_payload(decode=True)
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(make_header(decode_header(msg["Subject"]))),
                "body": body.decode(msg.get_content_charset() or "utf-8") if body else "",
                "headers": dict(msg.items()),
            }
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    """A port free right now (aiosmtpd's controller probes the port it is given, so not 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        self.recorder = _Recorder()
        self._port = _free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self._port)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.recorder.messages
