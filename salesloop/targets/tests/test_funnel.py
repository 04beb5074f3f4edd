"""The reverse funnel: given rates by hand, measured rates from the team's own history."""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.core.errors import FieldErrors
from salesloop.targets.funnel import measured_inputs, reverse_funnel
from salesloop.targets.periods import PeriodKind, period_containing
from salesloop.targets.tests.factories import local, visits, won_deal
from salesloop.testing.factories import OpportunityFactory, stage

Q3 = period_containing(PeriodKind.QUARTER, dt.date(2025, 7, 1))
GIVEN = {
    "avg_deal": Decimal("50000"),
    "negotiation_to_won": Decimal("0.5"),
    "proposal_to_negotiation": Decimal("0.8"),
    "intent_to_proposal": Decimal("0.5"),
    "visit_to_intent": Decimal("0.2"),
    "cycle_days": Decimal("0"),
    "reps": Decimal("4"),
}


def test_one_million_walks_back_to_visits_per_rep_per_day(org):
    plan = reverse_funnel(team=org.team_a, period=Q3, revenue=Decimal("1000000"), given=GIVEN)
    values = {s.key: s.value for s in plan.steps}
    # 1,000,000 ÷ 50,000 = 20 deals; ÷ 50% = 40 negotiations; ÷ 80% = 50 proposals;
    # ÷ 50% = 100 intents; ÷ 20% = 500 visits; Q3 2025 has 66 weekdays; 4 reps.
    assert values == {"deals": 20, "negotiations": 40, "proposals": 50, "intents": 100, "visits": 500}
    assert plan.working_days == 66
    assert plan.per_day["visits"] == Decimal("7.58") and plan.per_rep_day["visits"] == Decimal("1.89")
    assert plan.step("visits").formula == "⌈ 100 ÷ 20.0% ⌉ = 500"
    assert all(v["source"] == "given" for k, v in plan.inputs.items())


def test_partial_deals_round_up_at_every_step(org):
    plan = reverse_funnel(team=org.team_a, period=Q3, revenue=Decimal("1000001"), given=GIVEN)
    # 21 ÷ 0.5 = 42; 42 ÷ 0.8 = 52.5 → 53; 53 ÷ 0.5 = 106; 106 ÷ 0.2 = 530
    assert [s.value for s in plan.steps] == [21, 42, 53, 106, 530]


def test_a_sales_cycle_moves_the_activity_window_earlier(org):
    plan = reverse_funnel(
        team=org.team_a, period=Q3, revenue=Decimal("1000000"), given={**GIVEN, "cycle_days": Decimal("30")}
    )
    assert (plan.window.start, plan.window.end) == (dt.date(2025, 6, 1), dt.date(2025, 8, 31))


def test_missing_rates_without_history_ask_for_input(org):
    with pytest.raises(FieldErrors) as err:
        reverse_funnel(team=org.team_a, period=Q3, revenue=Decimal("1000000"), given={"avg_deal": Decimal(1)})
    assert "visit_to_intent" in err.value.errors


def test_measured_rates_come_from_the_teams_own_history(org):
    # 40 visits, 8 deals reaching intent, 4 of those reaching proposal, 2 won at 30,000.
    as_of = dt.date(2025, 7, 1)
    visits(owner=org.rep_a1, n=40, on=dt.date(2025, 6, 2))
    for i in range(2):
        won_deal(owner=org.rep_a1, amount="30000.00", closed=local(dt.date(2025, 6, 20 + i)))
    for code in ("proposal", "proposal", "qualified", "qualified", "qualified", "qualified"):
        from salesloop.pipeline.models import StageChange

        opp = OpportunityFactory(account__owner=org.rep_a1, stage=stage(code))
        StageChange.objects.create(opportunity=opp, to_stage=stage("qualified"), changed_at=local(dt.date(2025, 6, 3)))
        if code == "proposal":
            StageChange.objects.create(
                opportunity=opp, to_stage=stage("proposal"), changed_at=local(dt.date(2025, 6, 5))
            )
    m = measured_inputs(org.team_a, as_of=as_of)
    assert m["visit_to_intent"]["value"] == Decimal("0.2")  # 8 intents / 40 visits
    assert m["intent_to_proposal"]["value"] == Decimal("0.5")  # 4 of 8
    assert m["avg_deal"]["value"] == Decimal("30000.00")
    # The won deals skipped negotiation on record but passed it: 2 of 4 proposals reached it.
    assert m["proposal_to_negotiation"]["value"] == Decimal("0.5")
    assert m["negotiation_to_won"]["value"] == Decimal(1)
