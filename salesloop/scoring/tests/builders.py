"""Deals with a history, built as real rows: stage log, activities and close, at chosen moments.

Timestamps the models set themselves (``created_at`` is ``auto_now_add``) are rewritten after
insertion, so a deal can have been created months ago.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from salesloop.activities.models import Activity
from salesloop.customers.models import Account
from salesloop.org.models import User
from salesloop.pipeline.models import LossReason, Opportunity, Stage, StageChange

UTC = dt.UTC


def at(day: float, base: dt.datetime = dt.datetime(2025, 1, 1, 9, 0, tzinfo=UTC)) -> dt.datetime:
    """A moment ``day`` days after 1 January 2025, 09:00 UTC."""
    return base + dt.timedelta(days=day)


def stages() -> dict[str, Stage]:
    return {s.code: s for s in Stage.objects.all()}


def account(owner: User, **fields) -> Account:
    return Account.objects.create(name=fields.pop("name", f"客户{Account.objects.count() + 1}"), owner=owner, **fields)


def deal(
    owner: User,
    acc: Account,
    *,
    created: dt.datetime,
    moves: list[tuple[str, dt.datetime]],
    amount: Decimal = Decimal("100000"),
    **fields,
) -> Opportunity:
    """A deal created at ``created`` whose stage log is ``moves`` (the first is its first stage)."""
    by_code = stages()
    last_code, last_at = moves[-1]
    final = by_code[last_code]
    if final.is_lost:
        fields.setdefault("loss_reason", LossReason.objects.order_by("pk").first())
    opp = Opportunity.objects.create(
        name=f"商机{Opportunity.objects.count() + 1}",
        account=acc,
        owner=owner,
        amount=amount,
        stage=final,
        stage_entered_at=last_at,
        closed_at=last_at if final.is_closed else None,
        **fields,
    )
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created)
    previous = None
    for code, moment in moves:
        StageChange.objects.create(
            opportunity=opp, from_stage=previous, to_stage=by_code[code], changed_at=moment, amount=amount
        )
        previous = by_code[code]
    opp.refresh_from_db()
    return opp


def activity(opp: Opportunity, kind: str, when: dt.datetime, outcome: str = "") -> Activity:
    return Activity.objects.create(
        kind=kind,
        occurred_at=when,
        outcome=outcome,
        owner=opp.owner,
        performed_by=opp.owner,
        account=opp.account,
        opportunity=opp,
    )


def planted_book(reps: list[User], *, n: int, seed: int, start_day: float = 0.0) -> list[Opportunity]:
    """``n`` closed deals, one a day, whose outcome depends on how many visits they had early on.

    P(won) = logistic(−1.6 + 0.9 × visits), visits uniform in 0…5, all in the deal's first hours
    (so they are seen from every point of its life). Industry, province, size and competitors are
    random noise: the frequency baseline, which sees only those and the stage, has nothing to go on.
    """
    rng = random.Random(seed)
    by_code = stages()
    lost_reason = LossReason.objects.order_by("pk").first()
    accounts = [
        Account.objects.create(
            name=f"样本客户{seed}-{i}",
            owner=reps[i % len(reps)],
            industry=rng.choice(["制造业", "零售", "教育"]),
            province=rng.choice(["浙江省", "江苏省", "广东省"]),
            size=rng.choice(["small", "medium", "large"]),
        )
        for i in range(max(4, n // 3))
    ]
    opps, changes, acts = [], [], []
    plans = []
    for i in range(n):
        acc = accounts[rng.randrange(len(accounts))]
        created = at(start_day + i)
        life = rng.uniform(10, 30)
        closed = created + dt.timedelta(days=life)
        visits = rng.randint(0, 5)
        won = rng.random() < 1 / (1 + math.exp(-(-1.6 + 0.9 * visits)))
        final = by_code["won" if won else "lost"]
        opps.append(
            Opportunity(
                name=f"样本商机{seed}-{i}",
                account=acc,
                owner=acc.owner,
                amount=Decimal(rng.randrange(10, 200) * 1000),
                stage=final,
                stage_entered_at=closed,
                closed_at=closed,
                competitors=rng.choice(["", "甲", "甲、乙"]),
                loss_reason=None if won else lost_reason,
            )
        )
        plans.append((created, closed, visits, final))
    Opportunity.objects.bulk_create(opps)
    for opp, (created, closed, visits, final) in zip(opps, plans, strict=True):
        Opportunity.objects.filter(pk=opp.pk).update(created_at=created)
        changes.append(
            StageChange(opportunity=opp, to_stage=by_code["qualified"], changed_at=created, amount=opp.amount)
        )
        changes.append(
            StageChange(
                opportunity=opp, from_stage=by_code["qualified"], to_stage=final, changed_at=closed, amount=opp.amount
            )
        )
        for k in range(visits):
            acts.append(
                Activity(
                    kind="visit",
                    occurred_at=created + dt.timedelta(minutes=10 + 5 * k),
                    owner=opp.owner,
                    performed_by=opp.owner,
                    account=opp.account,
                    opportunity=opp,
                )
            )
    StageChange.objects.bulk_create(changes)
    Activity.objects.bulk_create(acts)
    return opps
