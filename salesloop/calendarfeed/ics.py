"""An RFC 5545 calendar of tasks, written by hand (a few properties; no dependency needed).

Each open task is a 30-minute VEVENT at its due time (phone calendars show events, rarely
to-dos), with a stable UID so an edited task moves instead of duplicating. Text is escaped
(backslash, semicolon, comma, newline) and lines are folded at 75 octets, as §3.1 requires.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

DURATION = dt.timedelta(minutes=30)


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """``line`` in 75-octet pieces joined by CRLF + space, never cut inside a UTF-8 character."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current, size = [], "", 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with one space
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def render_calendar(*, name: str, events: Iterable[dict], now: dt.datetime, host: str) -> str:
    """``events``: dicts with id, title, due_at, updated_at, description, url, status."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Salesloop//Tasks//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT30M",
        "X-PUBLISHED-TTL:PT30M",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:task-{event['id']}@{host}",
            f"DTSTAMP:{_stamp(now)}",
            f"LAST-MODIFIED:{_stamp(event['updated_at'])}",
            f"DTSTART:{_stamp(event['due_at'])}",
            f"DTEND:{_stamp(event['due_at'] + DURATION)}",
            f"SUMMARY:{escape(event['title'])}",
        ]
        if event.get("description"):
            lines.append(f"DESCRIPTION:{escape(event['description'])}")
        if event.get("url"):
            lines.append(f"URL:{event['url']}")
        lines += ["STATUS:CONFIRMED", "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
