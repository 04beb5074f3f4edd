"""Features as of a moment: hand-checked values, and nothing dated after the moment is read."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from salesloop.analytics.queries.scoring_features import closed_deal_features, open_deal_features
from salesloop.pipeline.models import Opportunity, Stage, StageChange

from .builders import account, activity, at, deal

pytestmark = pytest.mark.django_db

T = at(100)  # the prediction moment


def _row(frame, opp):
    rows = frame[frame["opp_id"] == opp.pk]
    assert len(rows) == 1
    # NaN (no value, e.g. no win rate yet) as None, so two rows compare equal when they are.
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rows.iloc[0].to_dict().items()}


@pytest.fixture
def world(org):
    rep = org.rep_a1
    acc = account(rep, industry="制造业", province="浙江省", size="medium")
    other_acc = account(rep)
    # The rep's record before T: 2 won, 1 lost; the account won one deal (50 000) before T.
    deal(rep, acc, created=at(10), moves=[("qualified", at(10)), ("won", at(20))], amount=Decimal("50000"))
    deal(rep, other_acc, created=at(15), moves=[("qualified", at(15)), ("won", at(30))])
    deal(rep, other_acc, created=at(16), moves=[("lead", at(16)), ("lost", at(40))])
    target = deal(
        rep,
        acc,
        created=at(40),
        moves=[
            ("lead", at(40)),
            ("qualified", at(50)),
            ("proposal", at(55)),
            ("qualified", at(80)),  # went back
        ],
        amount=Decimal("120000"),
        competitors="甲公司、乙公司",
        expected_close_date=dt.date(2025, 4, 1),  # T is 11 April: 10 days overdue
    )
    activity(target, "visit", at(90), "interested")
    activity(target, "visit", at(92), "contacted")
    activity(target, "call", at(65), "no_answer")
    return {"rep": rep, "acc": acc, "other_acc": other_acc, "target": target}


def test_hand_checked_values_as_of_a_moment(world):
    row = _row(open_deal_features(T, [world["target"].pk]), world["target"])

    assert row["stage"] == "qualified"
    assert row["stage_order"] == Stage.objects.get(code="qualified").order
    assert row["amount"] == 120000
    assert row["days_in_stage"] == pytest.approx(20)
    assert row["days_open"] == pytest.approx(60)
    assert row["backward_moves"] == 1
    assert row["reopened"] == 0
    assert row["competitors"] == 2
    assert row["days_overdue"] == pytest.approx(10, abs=1)
    assert row["act_visit_30"] == 2 and row["act_call_30"] == 0 and row["act_call_90"] == 1
    assert row["act_30"] == 2 and row["act_90"] == 3
    assert row["days_since_activity"] == pytest.approx(8)
    assert row["positive_share"] == pytest.approx(1 / 3)
    assert row["rep_closed_before"] == 3
    assert row["rep_win_rate"] == pytest.approx(2 / 3)
    assert row["account_won_before"] == 1
    assert row["account_revenue_before"] == pytest.approx(50000)
    assert (row["industry"], row["region"], row["size"]) == ("制造业", "浙江省", "medium")


def test_rows_dated_after_the_moment_change_nothing(world):
    target, rep = world["target"], world["rep"]
    before = _row(open_deal_features(T, [target.pk]), target)

    # The future: more activities, a stage move, a new amount, the rep and the account winning more.
    activity(target, "meeting", T + dt.timedelta(hours=1), "negotiating")
    activity(target, "visit", T + dt.timedelta(days=3), "interested")
    StageChange.objects.create(
        opportunity=target,
        from_stage=Stage.objects.get(code="qualified"),
        to_stage=Stage.objects.get(code="negotiation"),
        changed_at=T + dt.timedelta(days=2),
        amount=Decimal("90000"),
    )
    Opportunity.objects.filter(pk=target.pk).update(amount=Decimal("90000"))
    deal(rep, world["acc"], created=at(95), moves=[("qualified", at(95)), ("won", T + dt.timedelta(minutes=1))])
    deal(rep, world["other_acc"], created=at(96), moves=[("lead", at(96)), ("lost", T + dt.timedelta(days=5))])
    # A deal closed exactly at T is not "before" T either.
    deal(rep, world["other_acc"], created=at(97), moves=[("lead", at(97)), ("won", T)])

    after = _row(open_deal_features(T, [target.pk]), target)
    assert after == before

    # ... while the same future, seen from later, does change the features (the test can fail).
    later = _row(open_deal_features(T + dt.timedelta(days=10), [target.pk]), target)
    assert later["stage"] == "negotiation"
    assert later["rep_closed_before"] == 6
    assert later["account_won_before"] == 2
    assert later["amount"] == 90000


def test_training_rows_are_featurised_strictly_before_the_close(world):
    frame = closed_deal_features(at(1000))
    assert len(frame) == 3
    for row in frame.to_dict("records"):
        opp = Opportunity.objects.get(pk=row["opp_id"])
        assert opp.created_at.timestamp() < row["as_of"] < opp.closed_at.timestamp()
        assert row["won"] == (1 if opp.stage.is_won else 0)
        # Its own close is not part of the rep's record at that moment.
        assert row["stage"] not in ("won", "lost")

    # An activity between the featurisation point and the close is not seen.
    won = Opportunity.objects.filter(stage__code="won").order_by("pk").first()
    before = _row(closed_deal_features(at(1000)), won)
    activity(won, "meeting", won.closed_at - dt.timedelta(minutes=1), "negotiating")
    assert _row(closed_deal_features(at(1000)), won) == before


def test_closed_deals_are_not_open_ones_and_vice_versa(world):
    open_ids = set(open_deal_features(at(1000))["opp_id"])
    closed_ids = set(closed_deal_features(at(1000))["opp_id"])
    assert open_ids == {world["target"].pk}
    assert open_ids.isdisjoint(closed_ids)
    # Deals created after the moment are not scored as of it.
    assert open_deal_features(at(39))["opp_id"].tolist() == []
