"""The pre-aggregated first-reach table (intel.StageReach) gives the same funnel as the
from-scratch computation, on randomized deals with skips, reversals, losses and reopenings.

Given random stage paths (seeded, so a failure is reproducible), when the table is filled by any
of its paths (the on-write upsert, the catch-up before a read, a full rebuild), then its rows
equal an independent Python reading of the counting rule and ``funnel_review`` gives identical
results with and without it, for every dimension tried and for observation dates in the middle
of the history.
"""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Max

from salesloop.analytics.queries.funnel import funnel_review
from salesloop.intel.models import StageReach, StageReachState
from salesloop.intel.stage_reach import stage_reach_catch_up, stage_reach_rebuild, stage_reach_record
from salesloop.org import access
from salesloop.pipeline import services as pipeline_services
from salesloop.pipeline.models import LossReason, Opportunity, Stage, StageChange
from salesloop.testing.factories import AccountFactory, OpportunityFactory

from .test_funnel import TZ

OPEN = ["lead", "qualified", "proposal", "negotiation"]
CLOSED_WON = ["won", "paid"]
START = dt.datetime(2025, 11, 1, 9, 0, tzinfo=TZ)


def random_path(rng: random.Random) -> list[tuple[str, dt.datetime]]:
    """A stage path: forward steps, skips, reversals, a loss and sometimes a reopening; some
    moves share a timestamp (ties are ordered by id)."""
    when = START + dt.timedelta(hours=rng.randrange(0, 24 * 150))
    code = rng.choice(["lead", "lead", "qualified"])
    path = [(code, when)]
    for _ in range(rng.randrange(0, 7)):
        if rng.random() > 0.15:
            when += dt.timedelta(hours=rng.randrange(1, 24 * 30))
        if code == "lost":
            code = rng.choice(OPEN)  # reopened
        elif code in CLOSED_WON:
            if code == "paid" or rng.random() < 0.5:
                break
            code = "paid"
        else:
            i = OPEN.index(code)
            move = rng.choices(["next", "skip", "back", "lost", "won"], weights=[5, 2, 2, 2, 1])[0]
            if move == "next":
                code = OPEN[i + 1] if i + 1 < len(OPEN) else "won"
            elif move == "skip":
                code = (OPEN + ["won"])[min(i + 2, len(OPEN))]
            elif move == "back":
                code = OPEN[max(i - 1, 0)]
            else:
                code = move
        path.append((code, when))
    return path


def build(org, seed: int, n: int = 24) -> list[Opportunity]:
    rng = random.Random(seed)
    stages = {s.code: s for s in Stage.objects.all()}
    reasons = list(LossReason.objects.all())
    owners = [org.rep_a1, org.rep_a2, org.rep_b1]
    deals = []
    for _ in range(n):
        path = random_path(rng)
        final = stages[path[-1][0]]
        opp = OpportunityFactory(
            account=AccountFactory(owner=rng.choice(owners), source_channel=rng.choice(["web", "expo"])),
            stage=final,
            loss_reason=rng.choice(reasons) if final.is_lost else None,
            closed_at=path[-1][1] if final.is_closed else None,
        )
        Opportunity.objects.filter(pk=opp.pk).update(created_at=path[0][1])
        prev = None
        for code, when in path:
            StageChange.objects.create(
                opportunity=opp, from_stage=prev, to_stage=stages[code], changed_at=when, amount=Decimal("1")
            )
            prev = stages[code]
        deals.append(opp)
    return deals


def oracle_reach() -> dict[tuple[int, int], dt.datetime]:
    """The counting rule read directly in Python: level L is reached the first time a change
    enters a non-lost stage whose order is ≥ L; levels are the active, non-lost orders."""
    levels = set(Stage.objects.filter(is_active=True, is_lost=False).values_list("order", flat=True))
    first: dict[tuple[int, int], dt.datetime] = {}
    for change in StageChange.objects.select_related("to_stage"):
        if change.to_stage.is_lost:
            continue
        for level in levels:
            key = (change.opportunity_id, level)
            if level <= change.to_stage.order and (key not in first or change.changed_at < first[key]):
                first[key] = change.changed_at
    return first


def table_rows() -> dict[tuple[int, int], dt.datetime]:
    return {(r.opportunity_id, r.level): r.first_at for r in StageReach.objects.all()}


def funnel(user, *, precomputed: bool, dimension: str, as_of: dt.datetime):
    return funnel_review(
        visible_opportunities=access.restrict(Opportunity.objects.all(), user, "read"),
        start=dt.date(2025, 12, 1),
        end=dt.date(2026, 2, 28),
        dimension=dimension,
        as_of=as_of,
        precomputed=precomputed,
    )


def comparable(result) -> tuple:
    return (
        result.levels,
        result.steps,
        result.pairs,
        sorted(result.stage_times, key=lambda t: (str(t.key), t.order)),
        sorted(result.outcomes, key=lambda o: str(o.key)),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_table_funnel_equals_the_from_scratch_funnel_on_random_deals(org, seed):
    build(org, seed)
    stage_reach_catch_up()
    assert table_rows() == oracle_reach()
    for as_of in (dt.datetime(2026, 1, 15, 12, 0, tzinfo=TZ), dt.datetime(2026, 6, 1, tzinfo=TZ)):
        for dimension in ("company", "rep", "source", "month", "quarter"):
            for user in (org.director, org.rep_b1):
                fast = funnel(user, precomputed=True, dimension=dimension, as_of=as_of)
                slow = funnel(user, precomputed=False, dimension=dimension, as_of=as_of)
                assert comparable(fast) == comparable(slow), (seed, as_of, dimension, user)
    # Not vacuous: the random books contain skips, reversals and reopenings, and cohorts.
    company = funnel(org.director, precomputed=True, dimension="company", as_of=dt.datetime(2026, 6, 1, tzinfo=TZ))
    assert sum(s.cohort for s in company.steps) > 10


@pytest.mark.parametrize("seed", [4, 5])
def test_on_write_upserts_in_any_order_equal_a_rebuild(org, seed):
    build(org, seed)
    StageReach.objects.all().delete()
    changes = list(StageChange.objects.all())
    random.Random(seed).shuffle(changes)  # late-arriving (back-dated) changes included
    for change in changes:
        stage_reach_record(opportunity_id=change.opportunity_id, stage_id=change.to_stage_id, at=change.changed_at)
    recorded = table_rows()
    stage_reach_rebuild()
    assert recorded == table_rows() == oracle_reach()


def test_stage_moves_through_the_service_are_in_the_table_before_any_read(org):
    stages = {s.code: s for s in Stage.objects.all()}
    opp = pipeline_services.opportunity_create(
        user=org.rep_a1,
        data={
            "name": "D",
            "account_id": AccountFactory(owner=org.rep_a1).pk,
            "owner_id": org.rep_a1.pk,
            "amount": Decimal("1000"),
            "stage_id": stages["qualified"].pk,
        },
    )
    opp = pipeline_services.opportunity_update(
        opportunity_id=opp.pk, user=org.rep_a1, data={"stage_id": stages["negotiation"].pk}, version=opp.version
    )
    pipeline_services.opportunity_update(
        opportunity_id=opp.pk, user=org.rep_a1, data={"stage_id": stages["proposal"].pk}, version=opp.version
    )
    moves = list(StageChange.objects.filter(opportunity=opp).order_by("id"))
    rows = {r.level: r.first_at for r in StageReach.objects.filter(opportunity=opp)}
    # Qualified entry reaches lead and qualified; the jump to negotiation passes proposal too;
    # the reversal to proposal changes nothing.
    assert rows == {10: moves[0].changed_at, 20: moves[0].changed_at, 30: moves[1].changed_at, 40: moves[1].changed_at}


def test_catch_up_picks_up_changes_written_behind_its_back_and_advances_the_fill_state(org):
    build(org, 6, n=6)
    assert stage_reach_catch_up() == "rebuilt"  # first fill
    assert stage_reach_catch_up() == "current"
    opp = Opportunity.objects.order_by("pk").first()
    StageChange.objects.create(
        opportunity=opp,
        to_stage=Stage.objects.get(code="paid"),
        changed_at=dt.datetime(2026, 3, 1, tzinfo=TZ),
        amount=Decimal("1"),
    )
    assert stage_reach_catch_up() == "refreshed"
    assert table_rows() == oracle_reach()
    state = StageReachState.objects.get()
    assert state.last_change_id == StageChange.objects.aggregate(m=Max("id"))["m"]


def test_a_changed_stage_list_rebuilds_the_table_with_the_new_levels(org):
    build(org, 7)
    stage_reach_catch_up()
    Stage.objects.filter(code="negotiation").update(is_active=False)  # a bulk edit: no signal
    as_of = dt.datetime(2026, 6, 1, tzinfo=TZ)
    fast = funnel(org.director, precomputed=True, dimension="company", as_of=as_of)
    assert 40 not in fast.levels
    assert not StageReach.objects.filter(level=40).exists()
    assert table_rows() == oracle_reach()
    assert comparable(fast) == comparable(funnel(org.director, precomputed=False, dimension="company", as_of=as_of))


def test_backfill_command_fills_an_empty_table(org):
    build(org, 8, n=5)
    StageReach.objects.all().delete()
    StageReachState.objects.all().delete()
    call_command("intel_stage_reach")
    assert table_rows() == oracle_reach() != {}
    StageReach.objects.all().delete()  # the state still says current: only --rebuild refills
    call_command("intel_stage_reach", "--rebuild")
    assert table_rows() == oracle_reach()


def test_an_import_that_moves_deals_updates_the_table_in_the_same_write(org, api_as):
    from salesloop.dataio.tests.conftest import csv_bytes, upload

    account = AccountFactory(owner=org.rep_a1, external_id="A-1")
    OpportunityFactory(account=account, external_id="O-1", name="D1", stage=Stage.objects.get(code="qualified"))
    response = upload(
        api_as(org.rep_a1),
        "opportunities",
        csv_bytes(
            [
                ["external_id", "name", "account_external_id", "amount", "stage"],
                ["O-1", "D1", "A-1", "100000.00", "negotiation"],
                ["O-2", "D2", "A-1", "5000", "won"],
            ]
        ),
    )
    assert response.status_code == 200, response.content
    # Read the table directly (no catch-up): the bulk writer refreshed both deals.
    assert table_rows() == oracle_reach()
    assert set(StageReach.objects.filter(opportunity__external_id="O-2").values_list("level", flat=True)) == {
        10,
        20,
        30,
        40,
        50,
    }


def test_the_demo_loaders_bulk_path_leaves_the_table_filled_and_current(db):
    from salesloop.demo.profile import SIZES
    from salesloop.demo.services import demo_build

    demo_build(size=SIZES["XS"], seed=3, as_of=dt.date(2025, 6, 30))
    rows = table_rows()
    assert len(rows) > 100
    assert rows == oracle_reach()
    assert StageReachState.objects.get().last_change_id == StageChange.objects.aggregate(m=Max("id"))["m"]
    assert stage_reach_catch_up() == "current"
