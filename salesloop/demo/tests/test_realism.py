"""The demo looks like a real sales organisation: figures measured from the loaded rows.

A mid-sized build (20 reps, 2,000 accounts) so that rates are not noise; with a fixed seed and
date the figures are exact, and the bounds are the ranges the README promises.
"""

import pytest

from salesloop.demo.profile import DemoSize
from salesloop.demo.realism import measure
from salesloop.demo.tests.conftest import AS_OF

DEMO_SIZE = DemoSize(
    "T",
    regions=2,
    teams_per_region=1,
    groups_per_team=2,
    reps=20,
    accounts=2_000,
    opportunities=2_400,
    activities=24_000,
    orders=3_000,
)
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def figures(built, django_db_blocker):
    with django_db_blocker.unblock():
        return measure(as_of=AS_OF)


def test_expo_leads_convert_at_about_a_quarter_and_referrals_best(figures):
    assert 0.20 <= figures["lead_conversion"]["expo"] <= 0.30
    conversion = figures["lead_conversion_45d_old"]
    assert 0.22 <= conversion["expo"] <= 0.28
    assert conversion["referral"] == max(conversion.values())
    assert conversion["cold_call"] < conversion["website"] < conversion["expo"]


def test_win_rates_are_between_a_fifth_and_a_third_and_differ_by_rep(figures):
    assert 0.20 <= figures["win_rate"] <= 0.35
    spread = figures["win_rate_by_rep"]
    assert 0.15 <= spread["p10"] < spread["median"] < spread["p90"] <= 0.40
    assert spread["p90"] - spread["p10"] >= 0.06


def test_won_deals_take_about_a_month(figures):
    assert 25 <= figures["won_cycle_days"] <= 35


def test_the_fourth_quarter_peaks_and_the_spring_festival_dips(figures):
    assert figures["q4_vs_average_month"] > 1.05
    assert figures["february_vs_average_month"] < 1.0
    assert figures["spring_festival_dip"] < 0.5


def test_midweek_visits_convert_better(figures):
    by_day = figures["visit_conversion_by_weekday"]
    midweek = (by_day[3] + by_day[4]) / 2
    rest = (by_day[1] + by_day[2] + by_day[5]) / 3
    assert midweek > rest * 1.03


def test_there_is_money_to_chase_and_contracts_to_renew(figures):
    assert figures["invoices_overdue_30d"] > 0
    assert figures["invoices_paid_late"] > 0
    assert figures["contracts_expiring_60d"] > 0
    assert figures["backward_moves"] > 0 and figures["skipped_stages"] > 0
