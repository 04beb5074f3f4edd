"""Actuals from the records: hand-worked cases, split credit to the cent, pandas cross-check."""

import datetime as dt
import random
from decimal import Decimal

import pandas as pd
import pytest

from salesloop.activities.models import Activity
from salesloop.analytics.queries import actuals as q
from salesloop.pipeline.models import Opportunity, StageChange
from salesloop.sales.models import Order, Payment
from salesloop.targets import services
from salesloop.targets.models import CreditSplit, Target
from salesloop.targets.periods import Period, PeriodKind, period_containing
from salesloop.targets.selectors import attainment_for
from salesloop.targets.tests.factories import TargetFactory, local, visits, won_deal
from salesloop.testing.factories import AccountFactory, InvoiceFactory, OrderFactory, PaymentFactory

JULY = period_containing(PeriodKind.MONTH, dt.date(2025, 7, 1))
Q3 = period_containing(PeriodKind.QUARTER, dt.date(2025, 7, 1))


def test_revenue_counts_won_deals_by_close_date_in_local_time(org):
    won_deal(owner=org.rep_a1, amount="1000.00", closed=local(dt.date(2025, 7, 31), hour=23))
    won_deal(owner=org.rep_a1, amount="5.00", closed=local(dt.date(2025, 8, 1), hour=0))
    got = q.actuals_by_rep("revenue", JULY, q.ScopeFilter())
    assert got == {org.rep_a1.pk: Decimal("1000.00")}


def test_a_three_way_split_credits_every_cent_once(org):
    opp = won_deal(owner=org.rep_a1, amount="100.00", closed=local(dt.date(2025, 7, 10)))
    services.credit_splits_set(
        by=org.lead_a1,
        opportunity_id=opp.pk,
        splits=[
            {"user_id": org.rep_a1.pk, "percent": "33.33"},
            {"user_id": org.rep_a1b.pk, "percent": "33.33"},
            {"user_id": org.lead_a1.pk, "percent": "33.34"},
        ],
    )
    got = q.actuals_by_rep("revenue", JULY, q.ScopeFilter())
    # floors: 33.33, 33.33, 33.34 → exact already; the primary (33.34%) keeps any residue.
    assert got == {org.rep_a1.pk: Decimal("33.33"), org.rep_a1b.pk: Decimal("33.33"), org.lead_a1.pk: Decimal("33.34")}
    assert sum(got.values()) == Decimal("100.00")


def test_odd_cents_of_a_split_go_to_the_primary_share(org):
    opp = won_deal(owner=org.rep_a1, amount="0.05", closed=local(dt.date(2025, 7, 10)))
    services.credit_splits_set(
        by=org.lead_a1,
        opportunity_id=opp.pk,
        splits=[{"user_id": org.rep_a1.pk, "percent": "50"}, {"user_id": org.rep_a1b.pk, "percent": "50"}],
    )
    got = q.actuals_by_rep("revenue", JULY, q.ScopeFilter())
    # 5 cents × 50% = 2.5 → floors 2 and 2; the primary (equal shares: lowest user id) gets the 5th.
    primary = min(org.rep_a1.pk, org.rep_a1b.pk)
    other = max(org.rep_a1.pk, org.rep_a1b.pk)
    assert got == {primary: Decimal("0.03"), other: Decimal("0.02")}


def test_team_scope_counts_reps_in_the_subtree_only(org):
    won_deal(owner=org.rep_a1, amount="10.00", closed=local(dt.date(2025, 7, 2)))
    won_deal(owner=org.rep_a2, amount="20.00", closed=local(dt.date(2025, 7, 2)))
    won_deal(owner=org.rep_b1, amount="40.00", closed=local(dt.date(2025, 7, 2)))
    total = q.grouped("revenue", JULY, q.ScopeFilter(team_path=org.team_a.path), by="total")
    assert total == {None: 3000}


def test_stage_metrics_count_the_first_time_a_deal_reaches_the_stage_or_beyond(org):
    opp = won_deal(owner=org.rep_a1, amount="10.00", closed=local(dt.date(2025, 7, 25)))
    # history: qualified 5 Jul, proposal 10 Jul, won 15... (won_deal spaces them 5 days apart)
    assert q.actuals_by_rep("qualified_leads", JULY, q.ScopeFilter()) == {org.rep_a1.pk: 1}
    assert q.actuals_by_rep("proposals", JULY, q.ScopeFilter()) == {org.rep_a1.pk: 1}
    # Negotiation was skipped, but a won deal went beyond it: it counts once, when it got there.
    assert q.actuals_by_rep("negotiations", JULY, q.ScopeFilter()) == {org.rep_a1.pk: 1}
    # Moving back and forth does not count twice.
    from salesloop.testing.factories import stage

    StageChange.objects.create(opportunity=opp, to_stage=stage("qualified"), changed_at=local(dt.date(2025, 7, 28)))
    assert q.actuals_by_rep("qualified_leads", JULY, q.ScopeFilter()) == {org.rep_a1.pk: 1}


def test_new_customers_count_an_account_once_at_its_first_win(org):
    acc = AccountFactory(owner=org.rep_a1)
    won_deal(owner=org.rep_a1, amount="1.00", closed=local(dt.date(2025, 6, 30)), account=acc)
    won_deal(owner=org.rep_a1, amount="1.00", closed=local(dt.date(2025, 7, 3)), account=acc)
    won_deal(owner=org.rep_a1b, amount="1.00", closed=local(dt.date(2025, 7, 3)))
    assert q.actuals_by_rep("new_customers", JULY, q.ScopeFilter()) == {org.rep_a1b.pk: 1}


def test_collections_are_credited_to_the_orders_rep_even_after_the_account_moved(org):
    order = OrderFactory(owner=org.rep_a1, account__owner=org.rep_a1)
    invoice = InvoiceFactory(order=order, account=order.account)
    PaymentFactory(invoice=invoice, account=order.account, amount=Decimal("300.00"), paid_at=local(dt.date(2025, 7, 9)))
    order.account.owner = org.rep_a2
    order.account.save()
    assert q.actuals_by_rep("collections", JULY, q.ScopeFilter()) == {org.rep_a1.pk: Decimal("300.00")}


def test_gross_margin_skips_draft_and_cancelled_orders(org):
    OrderFactory(owner=org.rep_a1, account__owner=org.rep_a1, order_date=dt.date(2025, 7, 1), margin=Decimal("40"))
    OrderFactory(
        owner=org.rep_a1,
        account__owner=org.rep_a1,
        order_date=dt.date(2025, 7, 1),
        margin=Decimal("7"),
        status="cancelled",
    )
    OrderFactory(owner=org.rep_a1, account__owner=org.rep_a1, order_date=dt.date(2025, 7, 1), margin=Decimal("-3.5"))
    assert q.actuals_by_rep("gross_margin", JULY, q.ScopeFilter()) == {org.rep_a1.pk: Decimal("36.50")}


def test_attainment_for_a_rep_reads_target_actual_and_pace(org):
    TargetFactory(
        metric="visits",
        period_kind="month",
        period_start=JULY.start,
        rep=org.rep_a1,
        team=org.group_a1,
        amount=Decimal(230),
    )
    for day in range(1, 11):  # ten visits on each of 1–10 July (8 weekdays) → 100 visits
        visits(owner=org.rep_a1, n=10, on=dt.date(2025, 7, day))
    att = attainment_for(user=org.lead_a1, scope=org.rep_a1, period=JULY, metric="visits", as_of=dt.date(2025, 7, 11))
    # 8 of 23 weekdays gone → expected 80 → 100/80 = 125% of pace: on track; 43.5% attained
    assert (att.target, att.actual, att.pace.expected) == (Decimal(230), Decimal(100), Decimal("80.00"))
    assert att.status == "on_track" and att.pace.attainment_pct == Decimal("43.5")
    assert att.pace.needed_per_day == Decimal("8.67")  # 130 left over the 15 weekdays from 11 July


def test_pace_status_lines_at_100_and_80_percent(org):
    from salesloop.targets.calendar import WorkCalendar
    from salesloop.targets.pace import pace_for

    cal = WorkCalendar(weekdays=frozenset({1, 2, 3, 4, 5}))
    args = {
        "target": Decimal(230),
        "period": JULY,
        "as_of": dt.date(2025, 7, 11),
        "calendar": cal,
        "at_risk_pct": Decimal(100),
        "behind_pct": Decimal(80),
    }
    assert pace_for(actual=Decimal(80), **args).status == "on_track"  # exactly on pace
    assert pace_for(actual=Decimal("79.99"), **args).status == "at_risk"
    assert pace_for(actual=Decimal(64), **args).status == "at_risk"  # exactly 80%
    assert pace_for(actual=Decimal("63.99"), **args).status == "behind"
    assert pace_for(actual=Decimal(230), **args).status == "done"


def test_a_rep_cannot_read_a_teammates_attainment(org):
    from salesloop.core.errors import Forbidden

    with pytest.raises(Forbidden):
        attainment_for(user=org.rep_a1, scope=org.rep_a1b, period=JULY, metric="visits")
    attainment_for(user=org.rep_a1, scope=org.group_a1, period=JULY, metric="visits")  # their team: allowed


# An independent computation ---------------------------------------------------------------------


def _random_book(org, seed: int = 7):
    rng = random.Random(seed)
    reps = [org.rep_a1, org.rep_a1b, org.rep_a2, org.rep_b1, org.lead_a1]
    accounts = [AccountFactory(owner=rng.choice(reps)) for _ in range(12)]
    start = dt.date(2025, 6, 20)
    for _ in range(60):
        acc = rng.choice(accounts)
        closed = local(start + dt.timedelta(days=rng.randrange(60)), hour=rng.randrange(24))
        opp = won_deal(owner=acc.owner, amount=f"{rng.randrange(1, 10**7) / 100:.2f}", closed=closed, account=acc)
        if rng.random() < 0.3:
            a, b = rng.sample(reps, 2)
            pct = Decimal(rng.randrange(1, 10000)) / 100
            services.credit_splits_set(
                by=org.director,
                opportunity_id=opp.pk,
                splits=[{"user_id": a.pk, "percent": pct}, {"user_id": b.pk, "percent": Decimal(100) - pct}],
            )
    for _ in range(150):
        acc = rng.choice(accounts)
        visits(owner=acc.owner, n=1, on=start + dt.timedelta(days=rng.randrange(60)), account=acc)
    for _ in range(30):
        acc = rng.choice(accounts)
        order = OrderFactory(
            owner=acc.owner,
            account=acc,
            order_date=start + dt.timedelta(days=rng.randrange(60)),
            margin=Decimal(rng.randrange(-(10**5), 10**6)) / 100,
            status=rng.choice(["confirmed", "delivered", "draft"]),
        )
        if rng.random() < 0.5:
            inv = InvoiceFactory(order=order, account=acc, amount=Decimal("1000000.00"))
            PaymentFactory(
                invoice=inv,
                account=acc,
                amount=Decimal(rng.randrange(1, 10**7)) / 100,
                paid_at=local(start + dt.timedelta(days=rng.randrange(60)), hour=rng.randrange(24)),
            )


def _pandas_actuals(period: Period) -> dict[str, dict[int, Decimal]]:
    """The same definitions, written again with pandas over plain rows (no SQL reuse)."""
    start, end = period.bounds()
    opp = pd.DataFrame(
        list(
            Opportunity.objects.filter(stage__is_won=True).values("id", "owner_id", "account_id", "amount", "closed_at")
        )
    )
    splits = pd.DataFrame(
        list(
            CreditSplit.objects.filter(opportunity__isnull=False).values(
                "opportunity_id", "user_id", "percent", "is_primary"
            )
        )
    )
    in_period = opp[(opp.closed_at >= start) & (opp.closed_at < end)]
    revenue: dict[int, Decimal] = {}
    for row in in_period.itertuples():
        cents = int(row.amount * 100)
        mine = splits[splits.opportunity_id == row.id] if len(splits) else splits
        if not len(mine):
            revenue[row.owner_id] = revenue.get(row.owner_id, Decimal(0)) + Decimal(cents) / 100
            continue
        shares = {s.user_id: cents * int(s.percent * 100) // 10000 for s in mine.itertuples()}
        primary = mine[mine.is_primary].iloc[0].user_id
        shares[primary] += cents - sum(shares.values())
        for user_id, c in shares.items():
            revenue[user_id] = revenue.get(user_id, Decimal(0)) + Decimal(c) / 100
    first = opp.sort_values(["closed_at", "id"]).groupby("account_id").head(1)
    first = first[(first.closed_at >= start) & (first.closed_at < end)]
    primary_of = {s.opportunity_id: s.user_id for s in splits.itertuples() if s.is_primary} if len(splits) else {}
    new_customers: dict[int, Decimal] = {}
    for row in first.itertuples():
        who = primary_of.get(row.id, row.owner_id)
        new_customers[who] = new_customers.get(who, Decimal(0)) + 1
    acts = pd.DataFrame(list(Activity.objects.filter(kind="visit").values("performed_by_id", "occurred_at")))
    acts = acts[(acts.occurred_at >= start) & (acts.occurred_at < end)]
    visit_counts = {int(k): Decimal(int(v)) for k, v in acts.groupby("performed_by_id").size().items()}
    orders = pd.DataFrame(list(Order.objects.values("owner_id", "order_date", "margin", "status")))
    orders = orders[
        orders.status.isin(["confirmed", "delivered"])
        & (orders.order_date >= period.start)
        & (orders.order_date <= period.end)
    ]
    margin = {int(k): sum(v, Decimal(0)) for k, v in orders.groupby("owner_id").margin}
    pays = pd.DataFrame(
        list(Payment.objects.values("amount", "paid_at", "invoice__order__owner_id", "account__owner_id"))
    )
    pays = pays[(pays.paid_at >= start) & (pays.paid_at < end)]
    pays["rep"] = pays.invoice__order__owner_id.fillna(pays.account__owner_id).astype(int)
    collections = {int(k): sum(v, Decimal(0)) for k, v in pays.groupby("rep").amount}
    return {
        "revenue": revenue,
        "new_customers": new_customers,
        "visits": visit_counts,
        "gross_margin": margin,
        "collections": collections,
    }


def test_actuals_match_an_independent_pandas_computation(org):
    _random_book(org)
    for period in (JULY, Q3, period_containing(PeriodKind.WEEK, dt.date(2025, 7, 16))):
        expected = _pandas_actuals(period)
        for metric, by_rep in expected.items():
            got = q.actuals_by_rep(metric, period, q.ScopeFilter())
            want = {k: v for k, v in by_rep.items() if v or metric in ("gross_margin",)}
            got = {k: v for k, v in got.items() if v or metric in ("gross_margin",)}
            assert got == want, metric


def test_recomputing_a_quarter_agrees_with_attainment_for_every_target(org):
    from salesloop.targets import services
    from salesloop.targets.selectors import TargetScope, attainment_recompute

    _random_book(org, seed=3)
    root = services.target_create(
        by=org.director,
        data={
            "metric": "revenue",
            "period_kind": "quarter",
            "period_start": Q3.start,
            "team_id": org.company.pk,
            "amount": Decimal("9000000.00"),
        },
    )
    region = services.target_decompose(target_id=root.pk, by=org.director, axis="members").created[0]
    teams = services.target_decompose(target_id=region.pk, by=org.director, axis="members").created
    for t in teams:
        for g in services.target_decompose(target_id=t.pk, by=org.director, axis="members").created:
            services.target_decompose(target_id=g.pk, by=org.director, axis="members", options={"to": "reps"})
    paces = attainment_recompute(period=Q3, as_of=dt.date(2025, 8, 15))
    targets = Target.objects.filter(period_start=Q3.start)
    assert len(paces) == targets.count() > 8
    for t in targets.select_related("team", "rep"):
        one = attainment_for(
            user=org.director,
            scope=TargetScope(team=None if t.rep_id else t.team, rep=t.rep),
            period=Q3,
            metric=t.metric,
            as_of=dt.date(2025, 8, 15),
        )
        assert (paces[t.pk].actual, paces[t.pk].status) == (one.actual, one.status), str(t)


def test_rep_home_progress_lists_the_reps_current_targets(org):
    from salesloop.targets.selectors import rep_target_progress

    TargetFactory(
        metric="visits",
        period_kind="month",
        period_start=JULY.start,
        rep=org.rep_a1,
        team=org.group_a1,
        amount=Decimal(100),
    )
    visits(owner=org.rep_a1, n=7, on=dt.date(2025, 7, 3))
    rows = rep_target_progress(viewer=org.rep_a1, rep=org.rep_a1, on=dt.date(2025, 7, 10))
    assert [(r.target, r.actual, r.unit) for r in rows] == [(Decimal(100), Decimal(7), "")]
    assert rep_target_progress(viewer=org.rep_a1b, rep=org.rep_a1, on=dt.date(2025, 7, 10)) == []


def test_actuals_match_pandas_on_the_demo_data(db):
    from salesloop.demo.profile import SIZES
    from salesloop.demo.services import demo_build

    demo_build(size=SIZES["XS"], seed=0, as_of=dt.date(2025, 6, 30))
    assert Opportunity.objects.filter(stage__is_won=True).exists() and Activity.objects.exists()
    for period in (
        period_containing(PeriodKind.QUARTER, dt.date(2025, 4, 1)),
        period_containing(PeriodKind.MONTH, dt.date(2025, 6, 1)),
    ):
        expected = _pandas_actuals(period)
        for metric, by_rep in expected.items():
            got = {k: v for k, v in q.actuals_by_rep(metric, period, q.ScopeFilter()).items() if v}
            assert got == {k: v for k, v in by_rep.items() if v}, (metric, period)
            assert got, (metric, period)  # the demo has data for every metric in the period
