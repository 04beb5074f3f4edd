"""The forecast pages with the Django test client: methods side by side, chart data, pickers,
accuracy tables, and the same access rules as the API."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from salesloop.forecasting import services
from salesloop.forecasting.models import Method, ScopeKind, Snapshot
from salesloop.forecasting.tests.test_methods_forecast import TZ, book  # noqa: F401

pytestmark = pytest.mark.django_db


def page(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(f"forecasting:{name}"), params)


def test_overview_shows_every_method_with_inputs_and_history_chart(client, book):  # noqa: F811
    services.backfill(weeks=2, today=dt.date(2026, 2, 12))
    with time_machine.travel(dt.datetime(2026, 2, 12, 9, 0, tzinfo=TZ), tick=False):
        r = page(
            client, book.manager_a, "overview", scope=f"team:{book.team_a.pk}", period="2026-Q1", history="quarter"
        )
    assert r.status_code == 200
    html = r.content.decode()
    for method in (Method.TIME_SERIES, Method.SEASONAL_NAIVE, Method.PIPELINE, Method.COMMIT, Method.COMBINED):
        assert f'data-method="{method}"' in html
    # live on 12 Feb: won 30 000 + 80 000 (D7 closed 10 Feb); open D1 25 000 + D2 40 000
    assert 'data-testid="amount-pipeline">175000.00' in html
    assert 'data-testid="actual-so-far">110000.00' in html
    chart = json.loads(html.split('id="forecast-data" type="application/json">')[1].split("</script>")[0])
    assert chart["x"][-1] == "2026-Q1"
    assert chart["actual"][-1] == 110000.0
    pipeline = next(s for s in chart["series"] if s["name"] == str(Method.PIPELINE.label))
    # the Q1 point is the last snapshot on or before 1 Jan: none was taken then → no point
    assert pipeline["y"][-1] is None


def test_overview_access(client, book):  # noqa: F811
    assert page(client, book.rep_a1, "overview", scope=f"team:{book.team_a.pk}").status_code == 404
    assert page(client, book.finance, "overview").status_code == 403
    assert page(client, book.rep_a1, "overview", period="2026-13").status_code == 400
    assert page(client, book.rep_a1, "overview", scope="team:x").status_code == 400
    r = page(client, book.rep_a1, "overview")
    assert r.status_code == 200
    assert r.context["scope"].kind == ScopeKind.REP and r.context["scope"].id == book.rep_a1.pk
    assert [s.id for s in r.context["scopes"]] == [book.rep_a1.pk]
    client.logout()
    assert client.get(reverse("forecasting:overview")).status_code == 302


def test_accuracy_page_ranks_methods_and_shows_only_visible_reps(client, org):
    jan = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    for rep, ts, pipe in ((org.rep_a1, "90", "70"), (org.rep_b1, "50", "95")):
        for method, amount in ((Method.TIME_SERIES, ts), (Method.PIPELINE, pipe)):
            Snapshot.objects.create(
                taken_on=dt.date(2025, 12, 29),
                scope_kind=ScopeKind.REP,
                scope_id=rep.pk,
                period_start=jan[0],
                period_end=jan[1],
                period_kind="month",
                method=method,
                amount=Decimal(amount),
                actual=Decimal("100"),
            )
    r = page(client, org.director, "accuracy")
    assert r.status_code == 200
    level = {(row["level"], row["method"]): row for row in r.context["levels"]}
    assert level[("rep", Method.TIME_SERIES)]["mape_pct"] == pytest.approx(30.0)  # (10 + 50) / 2
    assert level[("rep", Method.PIPELINE)]["mape_pct"] == pytest.approx(17.5)  # (30 + 5) / 2
    assert level[("rep", Method.PIPELINE)]["is_best"] and not level[("rep", Method.TIME_SERIES)]["is_best"]
    assert {row["scope_id"] for row in r.context["reps"]} == {org.rep_a1.pk, org.rep_b1.pk}
    mine = page(client, org.rep_a1, "accuracy")
    assert {row["scope_id"] for row in mine.context["reps"]} == {org.rep_a1.pk}
    assert mine.context["levels"][0]["mape_pct"] in (pytest.approx(10.0), pytest.approx(30.0))
    assert page(client, org.marketing, "accuracy").status_code == 403
    assert page(client, org.director, "accuracy", period_kind="week").status_code == 400
    empty = page(client, org.director, "accuracy", period_kind="quarter")
    assert 'data-testid="no-accuracy"' in empty.content.decode()
