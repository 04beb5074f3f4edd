"""The private iCalendar feed: a valid calendar of one's open tasks behind a revocable token."""

import datetime as dt

import icalendar
import pytest
import time_machine
from django.test import Client

from salesloop.activities.models import TaskStatus
from salesloop.automation.tests.clock import local
from salesloop.calendarfeed.ics import fold
from salesloop.calendarfeed.models import CalendarToken
from salesloop.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_the_feed_is_a_valid_calendar_of_my_open_tasks_only(org, api_as):
    with time_machine.travel(local("2025-06-02", "09:00"), tick=False):
        TaskFactory(
            assignee=org.rep_a1,
            title="回访：杭州甲公司，报价; 确认",
            due_at=local("2025-06-03", "10:00"),
        )
        TaskFactory(
            assignee=org.rep_a1,
            title="已完成",
            status=TaskStatus.DONE,
            due_at=local("2025-06-03", "11:00"),
        )
        TaskFactory(assignee=org.rep_a2, title="别人的", due_at=local("2025-06-03", "12:00"))
        TaskFactory(assignee=org.rep_a1, title="很久以前", due_at=local("2025-01-01", "12:00"))
        issued = api_as(org.rep_a1).post("/api/calendar/token")
        response = Client().get(_path(issued.json()["url"]))

    assert issued.status_code == 201
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = [c for c in calendar.walk("VEVENT")]
    assert [str(e["SUMMARY"]) for e in events] == ["回访：杭州甲公司，报价; 确认"]
    assert events[0]["DTSTART"].dt == local("2025-06-03", "10:00")
    assert events[0]["DTEND"].dt - events[0]["DTSTART"].dt == dt.timedelta(minutes=30)
    assert str(events[0]["UID"]).startswith("task-")
    assert all(len(line.encode()) <= 75 for line in response.content.decode().split("\r\n"))


def test_a_revoked_or_replaced_address_stops_working_at_once(org, api_as):
    client = api_as(org.rep_a1)
    old = _path(client.post("/api/calendar/token").json()["url"])
    new = _path(client.post("/api/calendar/token").json()["url"])
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert client.get("/api/calendar/token").json()["active"] is True
    assert client.delete("/api/calendar/token").status_code == 204
    assert Client().get(new).status_code == 404
    assert client.get("/api/calendar/token").json() == {
        "active": False,
        "prefix": None,
        "created_at": None,
        "last_used_at": None,
    }


def test_a_guessed_token_or_a_deactivated_person_gets_nothing(org, api_as):
    url = _path(api_as(org.rep_a1).post("/api/calendar/token").json()["url"])
    assert Client().get("/calendar/feed/not-a-token.ics").status_code == 404
    org.rep_a1.is_active = False
    org.rep_a1.save()
    assert Client().get(url).status_code == 404


def test_only_the_hash_of_the_token_is_stored(org, api_as):
    url = api_as(org.rep_a1).post("/api/calendar/token").json()["url"]
    key = url.rsplit("/", 1)[1].removesuffix(".ics")
    token = CalendarToken.objects.get()
    assert token.key_hash == CalendarToken.hash_key(key) and key not in token.key_hash


def test_long_lines_are_folded_without_splitting_a_character():
    line = "SUMMARY:" + "跟进客户" * 30
    folded = fold(line)
    parts = folded.split("\r\n ")
    assert "".join(parts) == line
    assert all(len(p.encode()) <= 75 for p in parts)
