"""The commit pages: the call sheet (htmx categories, submitting), the team roll-up (adjusting) and
the category panel on the deal page, for each kind of viewer."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from salesloop.forecasting.models import Adjustment, Category, DealCategory, Submission
from salesloop.forecasting.services_commit import adjustment_create, submission_create
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def deal(owner, amount, code="proposal", name=None):
    return OpportunityFactory(
        account=AccountFactory(owner=owner),
        name=name or f"deal {amount}",
        amount=Decimal(amount),
        stage=stage(code),
        expected_close_date=dt.date(2026, 2, 10),
        closed_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC) if code == "won" else None,
    )


def rollup_value(html: str, key: str) -> str:
    marker = f'data-rollup="{key}">'
    i = html.index(marker) + len(marker)
    return html[i : html.index("<", i)]


def test_a_rep_sees_their_sheet_with_cumulative_rollups_within_a_query_budget(org, django_assert_max_num_queries):
    deal(org.rep_a1, "100", code="won", name="签约单")
    deal(org.rep_a1, "200", name="大单")
    deal(org.rep_b1, "999", name="别人的单")
    for i in range(12):  # enough rows that a query per row would break the budget
        deal(org.rep_a1, "0", name=f"小单{i}")
    client = login(org.rep_a1)

    with django_assert_max_num_queries(25):
        response = client.get(reverse("forecasting:commit"), PERIOD)

    html = response.content.decode()
    assert response.status_code == 200
    assert "签约单" in html and "大单" in html and "别人的单" not in html
    assert "100.00" in rollup_value(html, "closed") and "300.00" in rollup_value(html, "pipeline")
    assert reverse("forecasting:commit_team") not in html  # a rep has no team roll-up
    assert 'id="commit-chart"' in html


def test_choosing_a_category_swaps_the_sheet_in_place_with_new_rollups(org):
    opp = deal(org.rep_a1, "200")
    client = login(org.rep_a1)

    response = client.post(
        reverse("forecasting:commit_deal_category", args=[opp.pk]), {"category": "commit", **PERIOD}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="commit-sheet"' in html
    assert "200.00" in rollup_value(html, "commit")
    assert DealCategory.objects.get(opportunity=opp).category == Category.COMMIT


def test_a_refused_category_shows_its_message_in_the_row(org):
    opp = deal(org.rep_a1, "100", code="won")
    client = login(org.rep_a1)

    swapped = client.post(
        reverse("forecasting:commit_deal_category", args=[opp.pk]), {"category": "commit", **PERIOD}, **HTMX
    )
    plain = client.post(reverse("forecasting:commit_deal_category", args=[opp.pk]), {"category": "commit", **PERIOD})

    assert swapped.status_code == 200 and 'data-testid="row-error"' in swapped.content.decode()
    assert plain.status_code == 422
    assert not DealCategory.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("rep_b1", 404), ("lead_b1", 404), ("finance", 403), ("admin", 403)])
def test_categorising_someone_elses_deal_is_refused(org, who, status):
    opp = deal(org.rep_a1, "100")

    response = login(getattr(org, who)).post(
        reverse("forecasting:commit_deal_category", args=[opp.pk]), {"category": "commit"}, **HTMX
    )

    assert response.status_code == status
    assert not DealCategory.objects.exists()


def test_submitting_from_the_sheet_keeps_history_and_bad_input_shows_the_form_again(org):
    deal(org.rep_a1, "500")
    client = login(org.rep_a1)

    bad = client.post(reverse("forecasting:commit_submit"), {"amount": "-3", **PERIOD})
    good = client.post(reverse("forecasting:commit_submit"), {"amount": "1,200.50", "note": "稳", **PERIOD})
    page = client.get(reverse("forecasting:commit"), PERIOD).content.decode()

    assert bad.status_code == 422 and "is-invalid" in bad.content.decode()
    assert good.status_code == 302
    sub = Submission.objects.get()
    assert (sub.amount, sub.pipeline_amount, sub.period_start) == (Decimal("1200.50"), Decimal("500"), START)
    assert "1,200.50" in rollup_value(page, "submitted")
    assert f'data-submission="{sub.pk}"' in page


@pytest.mark.parametrize("who", ["finance", "marketing"])
def test_people_without_a_book_cannot_submit_or_open_a_sheet(org, who):
    client = login(getattr(org, who))

    assert client.post(reverse("forecasting:commit_submit"), {"amount": "1", **PERIOD}).status_code == 403
    assert client.get(reverse("forecasting:commit"), PERIOD).status_code == 403
    assert not Submission.objects.exists()


def test_a_lead_opens_a_reps_sheet_but_someone_outside_the_line_gets_not_found(org, django_assert_max_num_queries):
    deal(org.rep_a1, "200", name="大单")
    for i in range(12):
        deal(org.rep_a1, "0", name=f"小单{i}")

    lead = login(org.lead_a1)

    with django_assert_max_num_queries(30):
        mine = lead.get(reverse("forecasting:commit"), {"owner": org.rep_a1.pk, **PERIOD})
    other = login(org.lead_b1).get(reverse("forecasting:commit"), {"owner": org.rep_a1.pk, **PERIOD})

    assert mine.status_code == 200 and "大单" in mine.content.decode()
    assert other.status_code == 404


def test_an_inverted_period_is_refused_with_a_message(org):
    response = login(org.rep_a1).get(reverse("forecasting:commit"), {"start": "2026-03-31", "end": "2026-01-01"})

    assert response.status_code == 422


def test_the_team_rollup_shows_submitted_against_adjusted_and_who_adjusted_why(org, django_assert_max_num_queries):
    deal(org.rep_a1, "1000")
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="900")
    adjustment_create(by=org.lead_a1, submission_id=sub.pk, amount="700", reason="预算未批")
    client = login(org.manager_a)

    with django_assert_max_num_queries(25):
        response = client.get(reverse("forecasting:commit_team"), {"team": org.group_a1.pk, **PERIOD})

    html = response.content.decode()
    assert response.status_code == 200
    assert "900.00" in rollup_value(html, "submitted") and "700.00" in rollup_value(html, "adjusted")
    assert "预算未批" in html
    assert f'data-testid="adjust-{org.rep_a1.pk}"' in html
    assert f'data-testid="adjust-{org.rep_a1b.pk}"' not in html  # nothing submitted to adjust


@pytest.mark.parametrize(("who", "status"), [("rep_a1", 403), ("finance", 403), ("lead_b1", 404)])
def test_the_team_rollup_is_for_leaders_in_the_line(org, who, status):
    response = login(getattr(org, who)).get(reverse("forecasting:commit_team"), {"team": org.group_a1.pk})

    assert response.status_code == status


def test_admin_is_sent_from_the_sheet_to_the_company_rollup(org):
    client = login(org.admin)

    sheet = client.get(reverse("forecasting:commit"), PERIOD)
    team = client.get(reverse("forecasting:commit_team"), PERIOD)

    assert sheet.status_code == 302 and sheet["Location"].startswith(reverse("forecasting:commit_team"))
    assert team.status_code == 200


def test_adjusting_from_the_rollup_needs_a_reason_and_stores_the_number_apart(org):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="900")
    client = login(org.manager_a)
    url = reverse("forecasting:commit_adjust", args=[sub.pk])

    missing = client.post(url, {"amount": "800", "reason": "", "team": org.team_a.pk, **PERIOD})
    done = client.post(url, {"amount": "800", "reason": "保守一点", "team": org.team_a.pk, **PERIOD})

    assert missing.status_code == 422 and 'data-testid="adjust-error"' in missing.content.decode()
    assert done.status_code == 302
    adj = Adjustment.objects.get()
    assert (adj.amount, adj.reason, adj.adjusted_by) == (Decimal("800"), "保守一点", org.manager_a)
    sub.refresh_from_db()
    assert sub.amount == Decimal("900")


@pytest.mark.parametrize(("who", "status"), [("rep_a1", 403), ("admin", 403), ("lead_b1", 404), ("rep_a1b", 404)])
def test_adjusting_is_refused_outside_the_managers_above_the_owner(org, who, status):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="900")

    response = login(getattr(org, who)).post(
        reverse("forecasting:commit_adjust", args=[sub.pk]), {"amount": "1", "reason": "r", **PERIOD}
    )

    assert response.status_code == status
    assert not Adjustment.objects.exists()


def test_the_deal_page_has_the_category_selector_for_the_owner_and_a_label_for_finance(org):
    opp = deal(org.rep_a1, "100")
    DealCategory.objects.create(opportunity=opp, category=Category.BEST_CASE)

    owner_page = login(org.rep_a1).get(reverse("opportunity_detail", args=[opp.pk])).content.decode()
    finance_page = login(org.finance).get(reverse("opportunity_detail", args=[opp.pk])).content.decode()

    assert 'data-testid="deal-category"' in owner_page
    assert 'data-testid="forecast-category-panel"' in finance_page
    assert 'data-testid="deal-category"' not in finance_page
    assert 'data-category="best_case"' in finance_page


def test_the_deal_panel_posts_back_into_itself(org):
    opp = deal(org.rep_a1, "100")
    client = login(org.lead_a1)

    swapped = client.post(
        reverse("forecasting:commit_deal_category", args=[opp.pk]), {"category": "omitted", "panel": "deal"}, **HTMX
    )
    plain = client.post(
        reverse("forecasting:commit_deal_category", args=[opp.pk]), {"category": "commit", "panel": "deal"}
    )

    assert swapped.status_code == 200
    assert 'id="forecast-category-panel"' in swapped.content.decode()
    assert plain.status_code == 302 and plain["Location"] == reverse("opportunity_detail", args=[opp.pk])
    assert DealCategory.objects.get(opportunity=opp).category == Category.COMMIT
