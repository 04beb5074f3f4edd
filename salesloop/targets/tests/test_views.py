"""The pages: a manager's whole loop in the browser's terms, both languages, access, query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from salesloop.targets.models import BottleneckRule, Target
from salesloop.targets.tests.factories import TargetFactory, local, visits, won_deal


def client_for(user, language="en"):
    c = Client()
    c.force_login(user)
    c.cookies["django_language"] = language
    return c


def test_a_manager_sets_a_quarter_target_and_decomposes_it_to_reps_and_days(org):
    c = client_for(org.lead_a1)
    response = c.post(
        "/targets/",
        {
            "metric": "revenue",
            "period_kind": "quarter",
            "period_start": "2025-07-01",
            "team_id": org.group_a1.pk,
            "amount": "1000000.00",
        },
    )
    target = Target.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/targets/{target.pk}/"
    preview = c.post(f"/targets/{target.pk}/", {"action": "preview", "axis": "members", "to": "reps"})
    assert preview.status_code == 200 and b'data-testid="preview-table"' in preview.content
    assert not target.children.exists()
    c.post(f"/targets/{target.pk}/", {"action": "decompose", "axis": "members", "to": "reps"})
    rep_target = target.children.get(rep=org.rep_a1)
    c.post(f"/targets/{rep_target.pk}/", {"action": "decompose", "axis": "periods", "period_kind": "day"})
    assert rep_target.children.count() == 92
    assert sum(t.amount for t in rep_target.children.all()) == rep_target.amount
    page = c.get(f"/targets/{rep_target.pk}/")
    assert b"Children add up to" in page.content


def test_decompose_errors_show_on_the_form_not_as_a_500(org):
    target = TargetFactory(team=org.group_a1)
    page = client_for(org.lead_a1).post(f"/targets/{target.pk}/", {"action": "decompose", "axis": "periods"})
    assert page.status_code == 200 and b"alert-danger" in page.content


def test_bad_target_form_input_is_shown_with_its_message(org):
    page = client_for(org.lead_a1).post(
        "/targets/",
        {
            "metric": "visits",
            "period_kind": "month",
            "period_start": "2025-07-01",
            "team_id": org.group_a1.pk,
            "amount": "2.5",
        },
    )
    assert page.status_code == 200 and b"whole number" in page.content and not Target.objects.exists()


def test_pages_render_in_english_and_chinese(org):
    TargetFactory(
        team=org.group_a1,
        period_kind="month",
        period_start=timezone.localdate().replace(day=1),
        period_end=timezone.localdate().replace(day=28),
        amount=Decimal("5000.00"),
    )
    for language, word in (("en", "Live tracking"), ("zh-hans", "")):
        c = client_for(org.lead_a1, language)
        for url in (
            "/targets/",
            "/targets/tracking/",
            "/targets/today/",
            "/targets/flags/",
            "/targets/attribution/",
            "/targets/funnel/",
            "/targets/packs/morning/",
            "/targets/packs/weekly/",
            "/targets/packs/monthly/",
        ):
            response = c.get(f"{url}?team={org.group_a1.pk}")
            assert response.status_code == 200, (language, url)
            assert f'lang="{language}"'.encode() in response.content
            if word:
                assert word.encode() in response.content


def test_a_rep_cannot_open_another_teams_board_page(org):
    c = client_for(org.rep_a1)
    page = c.get(f"/targets/tracking/?team={org.team_b.pk}")
    # the picker only offers the rep's own team, so an unknown team falls back to it
    assert page.status_code == 200 and org.team_b.name.encode() not in page.content
    assert client_for(org.finance).get("/targets/tracking/").status_code == 403


def test_morning_board_page_shows_yesterday_per_rep(org):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    while yesterday.isoweekday() > 5:
        yesterday -= dt.timedelta(days=1)
    visits(owner=org.rep_a1, n=10, on=yesterday)
    page = client_for(org.lead_a1).get(f"/targets/today/?team={org.group_a1.pk}")
    assert b'data-testid="today-board"' in page.content and b">10<" in page.content


def test_flags_page_runs_the_detectors_and_shows_the_explanation(org):
    BottleneckRule.objects.exclude(code="conversion_gap").update(is_active=False)
    day = timezone.localdate() - dt.timedelta(days=3)
    visits(owner=org.rep_a1, n=30, on=day)
    visits(owner=org.rep_a1b, n=30, on=day)
    for _ in range(5):
        won_deal(owner=org.rep_a1, amount="100.00", closed=local(day))
    c = client_for(org.lead_a1)
    assert c.post("/targets/flags/detect/", {"team": org.group_a1.pk}).status_code == 302
    page = c.get(f"/targets/flags/?team={org.group_a1.pk}")
    assert b"below the Group A1 average" in page.content
    assert client_for(org.rep_a1).post("/targets/flags/detect/", {"team": org.group_a1.pk}).status_code == 403


def test_attribution_page_adds_up(org):
    month = timezone.localdate().replace(day=1)
    base = month - dt.timedelta(days=40)
    visits(owner=org.rep_a1, n=20, on=base)
    won_deal(owner=org.rep_a1, amount="10000.00", closed=local(base + dt.timedelta(days=1)))
    won_deal(owner=org.rep_a1, amount="10000.00", closed=local(base + dt.timedelta(days=2)))
    TargetFactory(
        period_kind="month",
        period_start=month,
        period_end=(month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1),
        team=org.group_a1,
        amount=Decimal("50000.00"),
    )
    visits(owner=org.rep_a1, n=5, on=month)
    page = client_for(org.lead_a1).get(f"/targets/attribution/?team={org.group_a1.pk}&period=month")
    assert b'data-testid="attribution-total"' in page.content
    assert b">-50,000<" in page.content


@pytest.mark.parametrize("url", ["/targets/", "/targets/tracking/", "/targets/today/"])
def test_pages_take_a_bounded_number_of_queries(org, url, django_assert_max_num_queries):
    for rep in (org.rep_a1, org.rep_a1b):
        visits(owner=rep, n=3, on=timezone.localdate())
    c = client_for(org.manager_a)
    c.get(f"{url}?team={org.team_a.pk}")  # warm caches (content types, settings rows)
    with django_assert_max_num_queries(40):
        assert c.get(f"{url}?team={org.team_a.pk}").status_code == 200
