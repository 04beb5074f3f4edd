"""``/api/forecasts`` content on the hand-worked book (see test_methods_forecast)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from salesloop.forecasting import services
from salesloop.forecasting.models import Method
from salesloop.forecasting.tests.test_methods_forecast import TZ, book  # noqa: F401

pytestmark = pytest.mark.django_db


def test_forecast_returns_every_method_side_by_side_as_of_a_date(book, api_as):  # noqa: F811
    r = api_as(book.manager_a).get(
        "/api/forecasts",
        {"scope_kind": "team", "scope_id": book.team_a.pk, "period": "2026-Q1", "as_of": "2026-02-01"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["period"] == {"code": "2026-Q1", "kind": "quarter", "start": "2026-01-01", "end": "2026-03-31"}
    methods = {m["method"]: m for m in body["methods"]}
    assert list(methods) == [Method.TIME_SERIES, Method.SEASONAL_NAIVE, Method.PIPELINE, Method.COMMIT, Method.COMBINED]
    assert Decimal(methods[Method.PIPELINE]["amount"]) == Decimal("125000.00")
    assert methods[Method.PIPELINE]["inputs"]["open_deals"] == 3
    assert methods[Method.COMMIT]["available"] is False
    assert Decimal(body["actual_so_far"]) == Decimal("30000.00")
    assert body["closed"] is False


def test_history_lines_use_the_snapshot_taken_at_period_start(book, api_as):  # noqa: F811
    services.backfill(weeks=3, today=dt.date(2026, 2, 12))  # 19 Jan … 9 Feb
    with time_machine.travel(dt.datetime(2026, 2, 12, 9, 0, tzinfo=TZ), tick=False):
        r = api_as(book.manager_a).get(
            "/api/forecasts/history",
            {"scope_kind": "team", "scope_id": book.team_a.pk, "period_kind": "month", "periods": 2},
        )
    assert r.status_code == 200
    points = r.json()["points"]
    assert [p["period"]["code"] for p in points] == ["2025-12", "2026-01", "2026-02"]
    assert [Decimal(p["actual"]) for p in points] == [Decimal("0"), Decimal("30000.00"), Decimal("80000.00")]
    assert [p["closed"] for p in points] == [True, True, False]
    # February: the 26 Jan snapshot (last on or before 1 Feb), as of 26 Jan 00:00 — D2 (40 000)
    # and D7 (proposal, 30 000) close in February; nothing won in February yet.
    assert Decimal(points[2]["forecasts"][Method.PIPELINE]) == Decimal("70000.00")
    assert points[0]["forecasts"] == {}
