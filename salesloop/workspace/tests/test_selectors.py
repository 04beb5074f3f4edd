import datetime as dt
import sys
import types
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from salesloop.activities.models import ActivityKind, TaskStatus
from salesloop.pipeline.models import StageChange
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    OpportunityFactory,
    TaskFactory,
    stage,
)
from salesloop.workspace import selectors

# A Wednesday morning in the org's time zone (Asia/Shanghai); the ISO week began Monday 9 June.
NOW = timezone.make_aware(dt.datetime(2025, 6, 11, 10, 0))
MONDAY = timezone.make_aware(dt.datetime(2025, 6, 9, 9, 0))
LAST_WEEK = timezone.make_aware(dt.datetime(2025, 6, 6, 9, 0))


def at(hours_before_now: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours_before_now)


def closed_deal(
    owner, code: str, when: dt.datetime, amount: str = "100000.00", currency: str = "CNY"
):
    return OpportunityFactory(
        account=AccountFactory(owner=owner),
        stage=stage(code),
        closed_at=when,
        amount=Decimal(amount),
        currency=currency,
    )


def move(deal, from_code: str | None, to_code: str, when: dt.datetime) -> StageChange:
    return StageChange.objects.create(
        opportunity=deal,
        from_stage=stage(from_code) if from_code else None,
        to_stage=stage(to_code),
        changed_at=when,
        amount=deal.amount,
    )


def row_for(perf, period, user):
    return next(r for r in perf.rows[period] if r.user.pk == user.pk)


def test_today_and_week_are_local_days_with_the_week_starting_monday():
    today, week = selectors.today_and_week(NOW)

    assert timezone.localtime(today.start) == timezone.localtime(NOW).replace(hour=0)
    assert (today.end - today.start) == dt.timedelta(days=1)
    assert timezone.localtime(week.start).date() == dt.date(2025, 6, 9)
    assert week.end == today.end


def test_the_team_is_the_owners_whose_deals_the_viewer_reads(org):
    manager_team = {u.username for u in selectors.team_members(org.manager_a)}
    director_team = {u.username for u in selectors.team_members(org.director)}

    assert manager_team == {"manager_a", "lead_a1", "rep_a1", "rep_a1b", "rep_a2"}
    assert {"rep_b1", "lead_b1", "rep_a1", "director"} <= director_team
    assert {u.username for u in selectors.team_members(org.rep_a1)} == {"rep_a1"}
    # Finance reads every deal (so may filter the board by any owner); legal reads none.
    assert selectors.team_members(org.finance).count() == len(director_team)
    assert not selectors.team_members(org.legal).exists()


def test_visits_are_counted_per_performer_for_today_and_the_week(org):
    account = AccountFactory(owner=org.rep_a1)
    ActivityFactory(account=account, occurred_at=at(1))
    ActivityFactory(account=account, occurred_at=MONDAY)
    ActivityFactory(account=account, occurred_at=LAST_WEEK)
    ActivityFactory(account=account, occurred_at=at(2), kind=ActivityKind.CALL)
    # A visit rep_a2 made on an account that has since moved to rep_a1 stays rep_a2's.
    ActivityFactory(account=account, occurred_at=at(3), performed_by=org.rep_a2)

    perf = selectors.team_performance(viewer=org.manager_a, now=NOW)

    assert row_for(perf, "today", org.rep_a1).visits == 1
    assert row_for(perf, "week", org.rep_a1).visits == 2
    assert row_for(perf, "today", org.rep_a2).visits == 1
    assert perf.totals["week"].visits == 3


def test_new_qualified_counts_deals_entering_qualified_or_later_from_lead_once_each(org):
    owner = org.rep_a1
    from_lead = OpportunityFactory(account=AccountFactory(owner=owner))
    move(from_lead, None, "lead", MONDAY)
    move(from_lead, "lead", "qualified", at(1))
    move(from_lead, "qualified", "proposal", at(0.5))  # already qualified: not again
    created_in_proposal = OpportunityFactory(account=AccountFactory(owner=owner))
    move(created_in_proposal, None, "proposal", MONDAY)
    qualified_last_week = OpportunityFactory(account=AccountFactory(owner=owner))
    move(qualified_last_week, "lead", "qualified", LAST_WEEK)
    move(qualified_last_week, "qualified", "negotiation", at(1))
    reopened = OpportunityFactory(account=AccountFactory(owner=owner))
    move(reopened, "lost", "qualified", at(1))
    created_in_lead = OpportunityFactory(account=AccountFactory(owner=owner))
    move(created_in_lead, None, "lead", at(1))

    perf = selectors.team_performance(viewer=org.manager_a, now=NOW)

    assert row_for(perf, "today", owner).qualified == 1
    assert row_for(perf, "week", owner).qualified == 2
    records = selectors.metric_records(
        viewer=org.manager_a, rep=owner, metric="qualified", period=perf.week
    )
    assert {d.pk for d in records} == {from_lead.pk, created_in_proposal.pk}


def test_conversion_average_and_won_amount_come_from_this_periods_closings(org):
    rep = org.rep_a1
    closed_deal(rep, "won", at(1), "300000.00")
    closed_deal(rep, "paid", MONDAY, "100000.00")  # paid counts as won
    closed_deal(rep, "lost", MONDAY)
    closed_deal(rep, "lost", at(2))
    closed_deal(rep, "won", LAST_WEEK, "999999.00")  # outside the week
    closed_deal(rep, "won", MONDAY, "5000.00", currency="USD")  # counted, never summed into CNY

    perf = selectors.team_performance(viewer=org.manager_a, now=NOW)
    week, today = row_for(perf, "week", rep), row_for(perf, "today", rep)

    assert (week.won, week.lost, week.won_other_currency) == (3, 2, 1)
    assert week.conversion_rate == Decimal("60.0")
    assert week.won_amount == Decimal("400000.00")
    assert week.average_deal_size == Decimal("200000.00")
    assert (today.won, today.lost) == (1, 1)
    assert today.conversion_rate == Decimal("50.0")
    assert today.won_amount == Decimal("300000.00")


def test_a_manager_does_not_see_another_teams_numbers(org):
    closed_deal(org.rep_b1, "won", at(1))
    ActivityFactory(account=AccountFactory(owner=org.rep_b1), occurred_at=at(1))

    perf = selectors.team_performance(viewer=org.manager_a, now=NOW)

    assert org.rep_b1.pk not in {r.user.pk for r in perf.rows["week"]}
    assert perf.totals["week"].won == 0
    assert perf.totals["week"].visits == 0


def test_nothing_closed_gives_no_rate_instead_of_zero(org):
    perf = selectors.team_performance(viewer=org.manager_a, now=NOW)

    row = row_for(perf, "week", org.rep_a1)
    assert row.conversion_rate is None
    assert row.average_deal_size is None


def test_sorting_the_team_table_by_won_amount_descending(org):
    closed_deal(org.rep_a1, "won", at(1), "100.00")
    closed_deal(org.rep_a2, "won", at(1), "900.00")

    perf = selectors.team_performance(viewer=org.manager_a, now=NOW)
    ordered = [r.user.username for r in perf.sorted_rows("week", "-won_amount")]

    assert ordered[:2] == ["rep_a2", "rep_a1"]


def _team_with_data(org, n: int) -> None:
    for i in range(n):
        rep = [org.rep_a1, org.rep_a1b, org.rep_a2][i % 3]
        ActivityFactory(account=AccountFactory(owner=rep), occurred_at=at(1 + i % 30))
        deal = closed_deal(rep, "won" if i % 2 else "lost", at(i % 40))
        move(deal, "lead", "qualified", at(i % 50))


@pytest.mark.parametrize("n", [3, 30])
def test_team_metrics_take_a_fixed_number_of_queries(org, django_assert_num_queries, n):
    _team_with_data(org, n)

    with django_assert_num_queries(7):
        perf = selectors.team_performance(viewer=org.director, now=NOW)

    assert perf.totals["week"].closed + perf.totals["today"].closed > 0


# --------------------------------------------------------------------------- rep home


def test_rep_home_splits_open_tasks_into_due_today_and_overdue(org):
    TaskFactory(assignee=org.rep_a1, title="today", due_at=at(-2))
    TaskFactory(assignee=org.rep_a1, title="overdue", due_at=at(30))
    TaskFactory(assignee=org.rep_a1, title="tomorrow", due_at=at(-30))
    TaskFactory(assignee=org.rep_a1, title="done", due_at=at(30), status=TaskStatus.DONE)
    TaskFactory(assignee=org.rep_a1b, title="someone else's", due_at=at(30))

    digest = selectors.task_digest(viewer=org.rep_a1, assignee=org.rep_a1, now=NOW)

    assert [t.title for t in digest.today] == ["today"]
    assert [t.title for t in digest.overdue] == ["overdue"]
    assert (digest.today_count, digest.overdue_count) == (1, 1)


def test_open_pipeline_is_listed_in_stage_order_in_the_org_currency(org):
    account = AccountFactory(owner=org.rep_a1)
    OpportunityFactory(account=account, stage=stage("proposal"), amount=Decimal("50.00"))
    OpportunityFactory(account=account, stage=stage("lead"), amount=Decimal("10.00"))
    OpportunityFactory(account=account, stage=stage("lead"), amount=Decimal("20.00"))
    OpportunityFactory(account=account, stage=stage("lead"), amount=Decimal("7.00"), currency="USD")
    OpportunityFactory(account=account, stage=stage("won"), amount=Decimal("999.00"))

    home = selectors.rep_home(viewer=org.rep_a1, subject=org.rep_a1, now=NOW)

    assert [s.stage.code for s in home.pipeline] == ["lead", "qualified", "proposal", "negotiation"]
    lead = home.pipeline[0]
    assert (lead.count, lead.amount, lead.other_currency_count) == (3, Decimal("30.00"), 1)
    assert home.pipeline_amount == Decimal("80.00")
    assert home.pipeline_count == 4


def test_targets_section_is_absent_without_a_targets_app(org, monkeypatch):
    monkeypatch.setattr(selectors.apps, "is_installed", lambda name: name != "salesloop.targets")

    home = selectors.rep_home(viewer=org.rep_a1, subject=org.rep_a1, now=NOW)

    assert home.targets is None


def test_targets_section_shows_what_an_installed_targets_app_provides(org, monkeypatch):
    @dataclass
    class Progress:
        label: str
        target: Decimal
        actual: Decimal
        unit: str

    calls = []

    def rep_target_progress(*, viewer, rep, on):
        calls.append((viewer.pk, rep.pk, on))
        return [Progress("Visits", Decimal(20), Decimal(12), "")]

    module = types.ModuleType("salesloop.targets.selectors")
    module.rep_target_progress = rep_target_progress
    monkeypatch.setitem(sys.modules, "salesloop.targets.selectors", module)
    monkeypatch.setattr(selectors.apps, "is_installed", lambda name: name == "salesloop.targets")

    home = selectors.rep_home(viewer=org.rep_a1, subject=org.rep_a1, now=NOW)

    assert [(t.label, t.actual) for t in home.targets] == [("Visits", Decimal(12))]
    assert calls == [(org.rep_a1.pk, org.rep_a1.pk, dt.date(2025, 6, 11))]


def test_quick_log_picker_offers_only_visible_accounts_and_open_deals(org):
    mine = AccountFactory(owner=org.rep_a1, name="杭州精工")
    AccountFactory(owner=org.rep_b1, name="杭州别人")
    open_deal = OpportunityFactory(account=mine, name="杭州 ERP")
    OpportunityFactory(account=mine, name="杭州 旧单", stage=stage("won"), closed_at=NOW)

    options = selectors.link_options(user=org.rep_a1, query="杭州")

    assert {o.value for o in options} == {f"account:{mine.pk}", f"opportunity:{open_deal.pk}"}


# --------------------------------------------------------------------------- board


def test_board_has_open_stages_in_order_then_won_and_lost_at_the_end(org):
    data = selectors.board(viewer=org.rep_a1, filters=selectors.BoardFilters(), now=NOW)

    assert [c.stage.code for c in data.columns] == [
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "won",
        "paid",
        "lost",
    ]
    assert data.can_move


def test_board_caps_cards_per_column_but_totals_cover_every_deal(org):
    account = AccountFactory(owner=org.rep_a1)
    for i in range(5):
        OpportunityFactory(account=account, stage=stage("proposal"), amount=Decimal(1000 + i))
    OpportunityFactory(account=account, stage=stage("lead"), amount=Decimal("1.00"))

    data = selectors.board(
        viewer=org.rep_a1, filters=selectors.BoardFilters(), now=NOW, per_column=3
    )
    proposal = next(c for c in data.columns if c.stage.code == "proposal")
    lead = next(c for c in data.columns if c.stage.code == "lead")

    assert len(proposal.cards) == 3
    assert (proposal.count, proposal.amount, proposal.hidden) == (5, Decimal("5010.00"), 2)
    assert [d.amount for d in proposal.cards] == [Decimal(1004), Decimal(1003), Decimal(1002)]
    assert len(lead.cards) == 1


def test_board_shows_only_recent_closings_and_only_what_the_viewer_may_read(org):
    mine = AccountFactory(owner=org.rep_a1)
    recent = OpportunityFactory(
        account=mine, stage=stage("won"), closed_at=NOW - dt.timedelta(days=3)
    )
    OpportunityFactory(account=mine, stage=stage("won"), closed_at=NOW - dt.timedelta(days=90))
    OpportunityFactory(account=AccountFactory(owner=org.rep_b1))

    data = selectors.board(viewer=org.rep_a1, filters=selectors.BoardFilters(), now=NOW)
    cards = [d.pk for c in data.columns for d in c.cards]

    assert cards == [recent.pk]


def test_board_filters_by_owner_team_and_close_month(org):
    a1 = OpportunityFactory(
        account=AccountFactory(owner=org.rep_a1), expected_close_date=dt.date(2025, 7, 3)
    )
    a2 = OpportunityFactory(
        account=AccountFactory(owner=org.rep_a2), expected_close_date=dt.date(2025, 8, 1)
    )
    b1 = OpportunityFactory(
        account=AccountFactory(owner=org.rep_b1), expected_close_date=dt.date(2025, 7, 31)
    )

    def ids(**filters):
        data = selectors.board(
            viewer=org.director, filters=selectors.BoardFilters(**filters), now=NOW
        )
        return {d.pk for c in data.columns for d in c.cards}

    assert ids() == {a1.pk, a2.pk, b1.pk}
    assert ids(owner=org.rep_a2) == {a2.pk}
    assert ids(team=org.team_a) == {a1.pk, a2.pk}
    assert ids(close_month=dt.date(2025, 7, 1)) == {a1.pk, b1.pk}
    assert ids(team=org.group_a1, close_month=dt.date(2025, 7, 1)) == {a1.pk}


@pytest.mark.parametrize("n", [2, 40])
def test_board_takes_a_fixed_number_of_queries(org, django_assert_num_queries, n):
    for i in range(n):
        OpportunityFactory(
            account=AccountFactory(owner=[org.rep_a1, org.rep_b1][i % 2]),
            stage=stage(["lead", "qualified", "proposal"][i % 3]),
        )

    with django_assert_num_queries(5):
        data = selectors.board(viewer=org.director, filters=selectors.BoardFilters(), now=NOW)
        names = [(d.account.name, str(d.owner), d.stage_id) for c in data.columns for d in c.cards]

    assert len(names) == n
