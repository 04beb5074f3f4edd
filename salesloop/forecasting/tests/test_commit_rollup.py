"""The commit roll-up: cumulative categories, lost never counts, latest submissions, the
nearest-manager adjustment rule and ``as_of`` (salesloop.forecasting.commit)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from salesloop.forecasting.commit import commit_by_rep, commit_rollup, may_view_scope
from salesloop.forecasting.models import Category, DealCategory
from salesloop.forecasting.services_commit import adjustment_create, submission_create
from salesloop.pipeline.models import LossReason
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
IN_PERIOD = dt.date(2026, 2, 15)


def at(day: int, hour: int = 10) -> dt.datetime:
    """A moment in February 2026, Shanghai time."""
    return dt.datetime(2026, 2, day, hour, tzinfo=SH)


def deal(owner, amount, *, code="qualified", category=None, expected=IN_PERIOD, closed_at=None, currency="CNY"):
    opp = OpportunityFactory(
        account=AccountFactory(owner=owner),
        amount=Decimal(amount),
        stage=stage(code),
        expected_close_date=expected,
        closed_at=closed_at,
        currency=currency,
        loss_reason=LossReason.objects.first() if code == "lost" else None,
    )
    if category:
        DealCategory.objects.create(opportunity=opp, category=category)
    return opp


def rollup(scope_kind="rep", scope_id=None, **kw):
    return commit_rollup(scope_kind=scope_kind, scope_id=scope_id, period_start=START, period_end=END, **kw)


def test_rollups_are_cumulative_and_lost_or_omitted_deals_never_count(org):
    rep = org.rep_a1
    deal(rep, "100", code="won", closed_at=at(3))
    deal(rep, "200", category=Category.COMMIT)
    deal(rep, "300", category=Category.BEST_CASE)
    deal(rep, "400")  # no category set: pipeline
    deal(rep, "500", category=Category.OMITTED)
    deal(rep, "600", code="lost", category=Category.COMMIT, closed_at=at(4))  # a stale row on a lost deal
    deal(rep, "700", category=Category.COMMIT, expected=dt.date(2026, 4, 2))  # next quarter
    deal(rep, "800", code="won", closed_at=dt.datetime(2025, 12, 30, tzinfo=SH), expected=IN_PERIOD)

    r = rollup(scope_id=rep.pk)

    assert (r.closed, r.commit, r.best_case, r.pipeline) == (
        Decimal("100"),
        Decimal("300"),
        Decimal("600"),
        Decimal("1000"),
    )
    assert r.currency == "CNY"


def test_a_won_deal_counts_by_its_local_close_day_and_a_reopened_closed_row_counts_as_commit(org):
    rep = org.rep_a1
    deal(rep, "10", code="won", closed_at=dt.datetime(2026, 3, 31, 23, 30, tzinfo=SH))  # last local day
    deal(rep, "20", code="won", closed_at=dt.datetime(2026, 4, 1, 0, 10, tzinfo=SH))  # UTC still March 31
    deal(rep, "40", category=Category.CLOSED)  # won once, reopened: strongest open category

    r = rollup(scope_id=rep.pk)

    assert (r.closed, r.commit, r.pipeline) == (Decimal("10"), Decimal("50"), Decimal("50"))


def test_deals_in_another_currency_are_left_out_rather_than_added_unconverted(org):
    deal(org.rep_a1, "100", category=Category.COMMIT)
    deal(org.rep_a1, "999", category=Category.COMMIT, currency="USD")

    assert rollup(scope_id=org.rep_a1.pk).commit == Decimal("100")


def test_team_scope_is_the_team_subtree_and_company_is_everyone(org):
    deal(org.rep_a1, "1", category=Category.COMMIT)
    deal(org.rep_a2, "10", category=Category.COMMIT)
    deal(org.lead_a1, "100", category=Category.COMMIT)
    deal(org.rep_b1, "1000", category=Category.COMMIT)

    assert rollup("team", org.group_a1.pk).commit == Decimal("101")
    assert rollup("team", org.team_a.pk).commit == Decimal("111")
    assert rollup("company").commit == Decimal("1111")
    team_a = rollup("team", org.team_a.pk)
    # rep_a1, rep_a1b, rep_a2 are reps; lead_a1 joins because they own a deal in the period.
    assert team_a.reps_total == 4


def test_latest_submission_counts_and_reps_submitted_tells_how_complete_the_call_is(org):
    submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="500", at=at(1))
    submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="700", at=at(8))
    submission_create(by=org.rep_a2, period_start=START, period_end=END, amount="50", at=at(2))
    # another period does not count
    submission_create(by=org.rep_a1b, period_start=START, period_end=dt.date(2026, 1, 31), amount="9", at=at(2))

    r = rollup("team", org.team_a.pk)

    assert r.submitted == Decimal("750")
    assert r.adjusted == Decimal("750")
    assert (r.reps_submitted, r.reps_total) == (2, 3)


def test_each_viewer_sees_the_adjustment_of_the_nearest_manager_at_or_below_them(org):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000", at=at(1))
    adjustment_create(by=org.lead_a1, submission_id=sub.pk, amount="900", reason="slipping", at=at(2))
    adjustment_create(by=org.manager_a, submission_id=sub.pk, amount="800", reason="risk", at=at(3))
    scope = {"scope_kind": "rep", "scope_id": org.rep_a1.pk}

    def seen_by(viewer):
        return rollup(viewer=viewer, **scope).adjusted

    assert seen_by(org.lead_a1) == Decimal("900")
    assert seen_by(org.manager_a) == Decimal("800")
    assert seen_by(org.director) == Decimal("800")  # nobody at the top adjusted: the manager's
    assert seen_by(None) == Decimal("800")
    assert seen_by(org.lead_b1) == Decimal("1000")  # no adjuster in their subtree
    assert seen_by(org.rep_a1) == Decimal("1000")  # a rep's view is the owner's own number

    adjustment_create(by=org.director, submission_id=sub.pk, amount="700", reason="top-down", at=at(4))
    adjustment_create(by=org.lead_a1, submission_id=sub.pk, amount="950", reason="news", at=at(5))

    assert seen_by(org.director) == Decimal("700")
    assert seen_by(None) == Decimal("700")
    assert seen_by(org.manager_a) == Decimal("800")
    assert seen_by(org.lead_a1) == Decimal("950")  # the latest of that manager
    assert rollup(viewer=org.lead_a1, **scope).submitted == Decimal("1000")  # stored apart


def test_a_resubmission_starts_afresh_without_the_old_adjustments(org):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000", at=at(1))
    adjustment_create(by=org.manager_a, submission_id=sub.pk, amount="800", reason="risk", at=at(2))
    submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1200", at=at(3))

    r = rollup(scope_id=org.rep_a1.pk, viewer=org.manager_a)

    assert (r.submitted, r.adjusted) == (Decimal("1200"), Decimal("1200"))


def test_as_of_uses_only_submissions_and_adjustments_made_before_it(org):
    first = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000", at=at(1))
    adjustment_create(by=org.manager_a, submission_id=first.pk, amount="800", reason="risk", at=at(5))
    submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1500", at=at(10))

    def as_of(day):
        r = rollup(scope_id=org.rep_a1.pk, viewer=org.manager_a, as_of=at(day))
        return r.submitted, r.adjusted, r.reps_submitted

    assert as_of(1) == (Decimal("0"), Decimal("0"), 0)  # strictly before
    assert as_of(3) == (Decimal("1000"), Decimal("1000"), 1)
    assert as_of(6) == (Decimal("1000"), Decimal("800"), 1)
    assert as_of(11) == (Decimal("1500"), Decimal("1500"), 1)


def test_rep_lines_keep_every_adjustment_with_who_and_why(org):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000", at=at(1))
    adjustment_create(by=org.lead_a1, submission_id=sub.pk, amount="900", reason="slipping", at=at(2))
    adjustment_create(by=org.manager_a, submission_id=sub.pk, amount="800", reason="risk", at=at(3))

    lines = commit_by_rep(
        scope_kind="team", scope_id=org.group_a1.pk, period_start=START, period_end=END, viewer=org.lead_a1
    )
    line = next(x for x in lines if x.owner == org.rep_a1)

    assert [(a.adjusted_by, a.reason) for a in line.adjustments] == [(org.manager_a, "risk"), (org.lead_a1, "slipping")]
    assert line.applied.adjusted_by == org.lead_a1
    assert (line.submitted, line.adjusted) == (Decimal("1000"), Decimal("900"))


def test_scope_visibility_follows_the_sales_line(org):
    assert may_view_scope(org.rep_a1, scope_kind="rep", scope_id=org.rep_a1.pk)
    assert not may_view_scope(org.rep_a1, scope_kind="rep", scope_id=org.rep_a1b.pk)
    assert not may_view_scope(org.rep_a1, scope_kind="team", scope_id=org.group_a1.pk)
    assert may_view_scope(org.lead_a1, scope_kind="team", scope_id=org.group_a1.pk)
    assert not may_view_scope(org.lead_a1, scope_kind="team", scope_id=org.team_a.pk)
    assert may_view_scope(org.manager_a, scope_kind="rep", scope_id=org.rep_a2.pk)
    assert not may_view_scope(org.manager_a, scope_kind="rep", scope_id=org.rep_b1.pk)
    assert not may_view_scope(org.manager_a, scope_kind="company", scope_id=None)
    assert may_view_scope(org.director, scope_kind="company", scope_id=None)
    assert may_view_scope(org.admin, scope_kind="company", scope_id=None)
    assert not may_view_scope(org.finance, scope_kind="company", scope_id=None)
