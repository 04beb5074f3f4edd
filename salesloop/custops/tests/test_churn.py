"""Churn scores from the organisation's own orders, and the win-back tasks they lead to."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from salesloop.activities.models import Task
from salesloop.analytics.clv import bgnbd
from salesloop.analytics.queries.customer_base import customer_base
from salesloop.automation.engine import rules_sweep
from salesloop.customers.models import Account
from salesloop.custops.models import AccountChurn, CustomerOpsPolicy
from salesloop.custops.services import scoring_run_create
from salesloop.custops.tests.factories import orders
from salesloop.sales.models import Order
from salesloop.testing.factories import AccountFactory, ActivityFactory

AS_OF = dt.date(2025, 6, 30)


def load_cdnow_as_orders(cdnow, owner) -> None:
    """The 2,357 CDNOW customers as accounts and each of their transactions as an order."""
    accounts = Account.objects.bulk_create(
        [
            Account(name=f"CDNOW {sid:04d}", external_id=f"cdnow-{sid}", owner=owner)
            for sid in sorted(cdnow.days)
        ]
    )
    by_sample = {int(a.external_id.split("-")[1]): a for a in accounts}
    rows, n = [], 0
    for sid, per_day in cdnow.days.items():
        for day, dollars in per_day.items():
            n += 1
            amount = Decimal(str(round(dollars, 2)))
            rows.append(
                Order(
                    number=f"CD-{n:05d}",
                    account=by_sample[sid],
                    owner=owner,
                    order_date=day,
                    total=amount,
                    cost_total=Decimal(0),
                    margin=amount,
                )
            )
    Order.objects.bulk_create(rows, batch_size=2000)


@pytest.mark.django_db
def test_bgnbd_on_cdnow_loaded_as_orders_reproduces_the_published_fit(cdnow, org):
    """The whole path — orders → one SQL summary → ML fit — gives the paper's estimates."""
    load_cdnow_as_orders(cdnow, org.rep_a1)

    base = customer_base(as_of=cdnow.CALIBRATION_END, currency="CNY")

    by_id = {
        int(Account.objects.get(pk=pk).external_id.split("-")[1]): i
        for i, pk in enumerate(base.account_id)
    }
    order = [by_id[sid] for sid in cdnow.summary_id]
    assert list(base.x[order]) == list(cdnow.x)
    assert [round(v, 2) for v in base.t_x()[order]] == list(cdnow.t_x)
    assert [round(v, 2) for v in base.T()[order]] == list(cdnow.T)

    run = scoring_run_create(as_of=cdnow.CALIBRATION_END)

    fit = run.bgnbd
    assert (round(fit["r"], 3), round(fit["alpha"], 3), round(fit["a"], 3), round(fit["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(fit["log_likelihood"], 1) == -9582.4
    gg = run.gamma_gamma
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2), gg["n_customers"]) == (
        6.25,
        3.74,
        15.44,
        946,
    )
    # Hardie's customer 1 (x = 2, tₓ = 30.43, T = 38.86): one of ours has exactly that history.
    first = Account.objects.get(external_id="cdnow-1").churn
    assert (first.repeat_purchases, round(first.t_x_weeks, 2), round(first.T_weeks, 2)) == (
        2,
        30.43,
        38.86,
    )


def regular_buyer(owner, *, every: int, times: int, last: int, total: str = "5000.00"):
    account = AccountFactory(owner=owner)
    orders(account, *[(AS_OF - dt.timedelta(days=last + every * k), total) for k in range(times)])
    return account


def test_a_customer_silent_for_longer_than_their_usual_gap_is_flagged(org):
    slipping = regular_buyer(org.rep_a1, every=10, times=5, last=40)  # usually every 10 days
    steady = regular_buyer(org.rep_a1, every=30, times=5, last=20)

    scoring_run_create(as_of=AS_OF)

    s, t = AccountChurn.objects.get(account=slipping), AccountChurn.objects.get(account=steady)
    assert (s.usual_gap_days, s.current_gap_days, s.flag_gap, s.is_flagged) == (
        10.0,
        40,
        True,
        True,
    )
    assert (t.usual_gap_days, t.current_gap_days, t.flag_gap, t.is_flagged) == (
        30.0,
        20,
        False,
        False,
    )
    # Too few repeat buyers to fit a model: the gap rule works alone; the value at risk is what
    # the customer's own pace would bring over the 90-day horizon: 5,000 × 90 / 10 days.
    assert s.p_alive is None and s.value_at_risk == Decimal("45000.00")
    assert t.value_at_risk == Decimal("0.00")


def test_the_gap_multiplier_is_data(org):
    account = regular_buyer(org.rep_a1, every=10, times=5, last=14)
    policy = CustomerOpsPolicy.current()

    scoring_run_create(as_of=AS_OF)
    assert AccountChurn.objects.get(account=account).is_flagged is False  # 14 ≤ 1.5 × 10

    policy.churn_gap_multiplier = Decimal("1.2")
    policy.save()
    scoring_run_create(as_of=AS_OF)
    assert AccountChurn.objects.get(account=account).is_flagged is True  # 14 > 1.2 × 10


def simulated_book(owner, n: int, seed: int) -> list[Account]:
    """``n`` accounts whose order days follow BG/NBD (r=0.5, α=10 weeks, a=0.8, b=2.5)."""
    params = bgnbd.BgNbdParams(r=0.5, alpha=10.0, a=0.8, b=2.5)
    rng = np.random.default_rng(seed)
    T_days = rng.integers(100, 700, size=n)
    x, t_x = bgnbd.simulate(params, T_days / 7.0, rng)
    made = []
    for i in range(n):
        account = AccountFactory(owner=owner)
        first = AS_OF - dt.timedelta(days=int(T_days[i]))
        days = {first}
        if x[i] > 0:
            last = first + dt.timedelta(days=int(round(t_x[i] * 7)))
            days |= {last}
            days |= {
                first + dt.timedelta(days=int(d))
                for d in rng.integers(1, max(2, (last - first).days), size=int(x[i]) - 1)
            }
        orders(account, *[(d, str(rng.integers(500, 5000))) for d in sorted(days)])
        made.append(account)
    return made


def test_with_enough_history_the_model_flags_low_p_alive_and_prices_the_risk(org):
    simulated_book(org.rep_a1, 150, seed=11)
    gone = regular_buyer(org.rep_a1, every=7, times=10, last=250, total="20000.00")

    run = scoring_run_create(as_of=AS_OF)

    assert run.bgnbd["used"] and run.bgnbd["converged"]
    assert run.gamma_gamma["used"]
    churn = AccountChurn.objects.get(account=gone)
    assert churn.p_alive < 0.5 and churn.flag_p_alive and churn.is_flagged
    assert churn.value_at_risk > 0
    assert churn.expected_value is not None and churn.expected_value >= 0
    lively = (
        AccountChurn.objects.filter(repeat_purchases__gt=0, current_gap_days__lt=10)
        .order_by("-p_alive")
        .first()
    )
    assert lively.p_alive > 0.5 > churn.p_alive


def test_a_fit_without_heterogeneity_to_estimate_is_not_used(org):
    policy = CustomerOpsPolicy.current()
    policy.min_customers_to_fit = 5
    policy.save()
    for k in range(12):  # clockwork buyers: r and α run off to infinity
        regular_buyer(org.rep_a1, every=14, times=6, last=3 + k)

    run = scoring_run_create(as_of=AS_OF)

    assert run.bgnbd["used"] is False
    assert set(AccountChurn.objects.values_list("p_alive", flat=True)) == {None}


def test_a_flag_keeps_the_day_it_was_raised(org):
    account = regular_buyer(org.rep_a1, every=10, times=5, last=40)
    scoring_run_create(as_of=AS_OF)
    scoring_run_create(as_of=AS_OF + dt.timedelta(days=3))

    assert AccountChurn.objects.get(account=account).flagged_since == AS_OF


def test_win_back_task_is_created_once_through_the_rule_engine(org):
    account = regular_buyer(org.rep_a1, every=10, times=5, last=40)
    today = timezone.localdate()
    scoring_run_create(as_of=today)

    rules_sweep()
    rules_sweep()
    scoring_run_create(as_of=today)
    rules_sweep()

    tasks = Task.objects.filter(account=account, source="rule:churn_winback")
    assert tasks.count() == 1
    task = tasks.get()
    assert task.assignee == org.rep_a1 and account.name in task.title


def test_logging_a_contact_closes_the_win_back_task(org):
    account = regular_buyer(org.rep_a1, every=10, times=5, last=40)
    scoring_run_create(as_of=timezone.localdate())
    rules_sweep()

    ActivityFactory(account=account, kind="call")
    rules_sweep()

    assert Task.objects.get(account=account, source="rule:churn_winback").status == "done"
