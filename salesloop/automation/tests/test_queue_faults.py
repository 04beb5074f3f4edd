"""Fault test on the real task queue: Celery worker + beat on a Redis broker, killed mid-run.

Everything runs as separate processes against a database of its own (a SQLite file, or a
``<name>_fault`` PostgreSQL database when the suite runs on PostgreSQL) and a Redis server of
its own on a free local port (never the shared one). The scenario:

1. 120 new leads are waiting; a rules sweep turns them into 120 first-touch tasks, each with a
   notification delivered to a (slow) local chat receiver;
2. while the worker is delivering, it is killed with SIGKILL, and then the broker is killed
   too (its queue is in memory: every message in it is lost);
3. broker and worker are started again.

Afterwards nothing is lost and nothing is doubled: 120 tasks, 120 ledger rows, 120
notifications, 120 deliveries all sent, every delivery seen by the receiver, and at most the one
message that was on the wire at the moment of the kill seen twice (delivery is at-least-once;
the ``X-Salesloop-Delivery`` header lets a receiver drop it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from salesloop.notifications.tests.receivers import ChatReceiver

LEADS = 120
ROOT = Path(settings.BASE_DIR)

SEED = """
import datetime as dt
from django.utils import timezone
from salesloop.automation.defaults import DEFAULT_JOBS, DEFAULT_RULES
from salesloop.automation.models import AutomationSettings, Rule, ScheduledJob
from salesloop.notifications.models import NotificationPreference, WebhookEndpoint
from salesloop.testing.factories import LeadFactory
from salesloop.testing.org import build_org

org = build_org()
Rule.objects.exclude(code="lead_first_touch").update(is_active=False)
yesterday = timezone.now() - dt.timedelta(days=1)
Rule.objects.filter(code="lead_first_touch").update(active_since=yesterday)
used = ["rules_sweep", "deliver_notifications"]
ScheduledJob.objects.exclude(name__in=used).update(is_active=False)
ScheduledJob.objects.filter(name="rules_sweep").update(every_seconds=3600)
ScheduledJob.objects.filter(name="deliver_notifications").update(every_seconds=4)
AutomationSettings.objects.update(
    job_lease_seconds=20, delivery_lease_seconds=10, delivery_backoff_seconds=1
)
hook = WebhookEndpoint.objects.create(name="fault", kind="slack", url="{url}", team=org.company)
NotificationPreference.objects.create(team=org.company, email=False, chat=True, webhook=hook)
reps = [org.rep_a1, org.rep_a1b, org.rep_a2, org.rep_b1]
for i in range({leads}):
    LeadFactory(owner=reps[i % 4])
print("seeded")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    """The processes of a production set-up, on loopback, owned by this test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.redis_port = _free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "salesloop.settings",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CELERY_VISIBILITY_TIMEOUT": "10",
            "AUTOMATION_TICK_SECONDS": "1",
            "AUTOMATION_REDISPATCH_SECONDS": "6",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
        self.env.pop("SQLITE_TEST_NAME", None)
        self.db_url = self._database()
        self.env["DATABASE_URL"] = self.db_url

    def _database(self) -> str:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            import psycopg

            base, _slash, name = url.rpartition("/")
            fault = f"{name.split('?')[0]}_fault"
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{fault}"')
                conn.execute(f'CREATE DATABASE "{fault}"')
            return f"{base}/{fault}"
        return f"sqlite:///{self.tmp / 'fault.sqlite3'}"

    def manage(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def start_redis(self) -> None:
        self.start(
            "redis",
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def start_worker(self) -> None:
        self.start(
            "worker",
            sys.executable,
            "-m",
            "celery",
            "-A",
            "salesloop.automation.queue",
            "worker",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        )

    def start_beat(self) -> None:
        self.start(
            "beat",
            sys.executable,
            "-m",
            "celery",
            "-A",
            "salesloop.automation.queue",
            "beat",
            "-s",
            str(self.tmp / "beat-schedule"),
            "--pidfile",
            str(self.tmp / "beat.pid"),
            "-l",
            "warning",
        )

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)

    def stop_all(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def drop_database(self) -> None:
        """A PostgreSQL fault database is dropped at the end (a SQLite one goes with tmp_path)."""
        if not self.db_url.startswith("postgres"):
            return
        import psycopg

        base, _slash, name = self.db_url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def query(self, sql: str) -> list[tuple]:
        if self.db_url.startswith("sqlite"):
            with sqlite3.connect(self.db_url.removeprefix("sqlite:///"), timeout=20) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.db_url) as conn:
            return conn.execute(sql).fetchall()

    def count(self, table: str, where: str = "") -> int:
        return self.query(f"SELECT COUNT(*) FROM {table}" + (f" WHERE {where}" if where else ""))[
            0
        ][0]

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.tmp.glob("*.log")
        )


def _wait(condition, *, timeout: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{stack.logs()}")


@pytest.mark.django_db(transaction=False)
def test_killing_the_worker_and_the_broker_mid_run_loses_nothing_and_doubles_nothing(tmp_path):
    assert shutil.which("redis-server"), (
        "the fault test needs redis-server (make system-deps installs it)"
    )
    receiver = ChatReceiver(delay_seconds=0.05).start()
    stack = Stack(tmp_path)
    try:
        stack.manage("migrate", "--no-input", "-v0")
        seed = SEED.replace("{url}", receiver.url("/slack/fault")).replace("{leads}", str(LEADS))
        assert "seeded" in stack.manage("shell", "-c", seed)
        stack.start_redis()
        stack.start_worker()
        stack.start_beat()

        _wait(
            lambda: len(receiver.hits) >= 15, timeout=240, what="deliveries to start", stack=stack
        )
        stack.kill("worker")  # mid-run: the delivery job is half-way through its batch
        seen_at_kill = len(receiver.hits)
        stack.kill("redis")  # and the broker, with every message it held
        time.sleep(2)
        stack.start_redis()
        stack.start_worker()

        _wait(
            lambda: stack.count("notifications_delivery", "status = 'sent'") == LEADS,
            timeout=240,
            what="every delivery to be sent after the restart",
            stack=stack,
        )
    finally:
        stack.stop_all()
        receiver.stop()

    assert 15 <= seen_at_kill < LEADS, "the kill must happen mid-run"
    assert stack.count("activities_task") == LEADS
    assert stack.count("automation_rulefiring") == LEADS
    assert stack.query("SELECT COUNT(DISTINCT object_id) FROM automation_rulefiring")[0][0] == LEADS
    assert stack.count("notifications_notification") == LEADS
    assert stack.count("notifications_delivery") == LEADS
    ids = Counter(hit.headers.get("X-Salesloop-Delivery") for hit in receiver.hits)
    delivery_ids = {str(row[0]) for row in stack.query("SELECT id FROM notifications_delivery")}
    assert set(ids) == delivery_ids, "every delivery reached the receiver"
    doubled = {key: n for key, n in ids.items() if n > 1}
    assert len(doubled) <= 1 and all(n == 2 for n in doubled.values()), doubled
    assert stack.count("automation_jobrun", "status IN ('failed', 'dead')") == 0
    stack.drop_database()
    print(
        json.dumps({"seen_at_kill": seen_at_kill, "hits": len(receiver.hits), "doubled": doubled})
    )
