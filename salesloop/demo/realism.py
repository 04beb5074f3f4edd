"""Headline figures of the loaded data, measured from the database (not from the generator).

Used by the realism tests and printed by ``bench/demo_load.py``, so what the README claims about
the demo (expo leads convert ~25 %, win rates 20-35 % by rep, ~30-day cycles, a Q4 peak, a Spring
Festival dip, mid-week visits converting better) is a measurement anyone can repeat.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from statistics import mean

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractIsoWeekDay, TruncDate
from django.utils import timezone

from salesloop.activities.models import Activity
from salesloop.customers.models import Contact, Lead
from salesloop.demo.profile import SPRING_FESTIVAL
from salesloop.pipeline.models import Opportunity, StageChange
from salesloop.sales.models import Contract, Invoice, InvoiceStatus, Order, OrderStatus


def measure(*, as_of: dt.date) -> dict:
    figures: dict = {}
    # Lead-source conversion: converted / all leads of the source.
    by_source = Lead.objects.values("source").annotate(
        total=Count("id"), converted=Count("id", filter=Q(status="converted"))
    )
    figures["lead_conversion"] = {
        row["source"]: round(row["converted"] / row["total"], 3)
        for row in by_source
        if row["source"]
    }
    # The same over leads old enough to have converted (a lead takes up to ~4 weeks to convert;
    # the last weeks' leads, many from a trade show, are still being worked).
    cutoff = dt.datetime.combine(
        as_of - dt.timedelta(days=45), dt.time(), tzinfo=timezone.get_current_timezone()
    )
    matured = (
        Lead.objects.filter(created_at__lt=cutoff)
        .values("source")
        .annotate(total=Count("id"), converted=Count("id", filter=Q(status="converted")))
    )
    figures["lead_conversion_45d_old"] = {
        row["source"]: round(row["converted"] / row["total"], 3) for row in matured if row["source"]
    }
    # Win rate per rep over closed deals.
    closed = (
        Opportunity.objects.filter(closed_at__isnull=False)
        .values("owner_id")
        .annotate(
            won=Count("id", filter=Q(stage__is_won=True)),
            lost=Count("id", filter=Q(stage__is_lost=True)),
        )
    )
    rates = sorted(
        row["won"] / (row["won"] + row["lost"]) for row in closed if row["won"] + row["lost"] >= 10
    )
    won = sum(row["won"] for row in closed)
    lost = sum(row["lost"] for row in closed)
    figures["win_rate"] = round(won / max(1, won + lost), 3)
    # Spread over reps with 10+ closed deals. The low tail is reps who joined weeks ago: their
    # closed deals are mostly quick losses, as wins take a month; percentiles show the body.
    if rates:
        figures["win_rate_by_rep"] = {
            name: round(rates[min(len(rates) - 1, int(q * len(rates)))], 3)
            for name, q in (("min", 0), ("p10", 0.1), ("median", 0.5), ("p90", 0.9), ("max", 1))
        }
    # Cycle: created → closed for won deals, in days.
    cycles = [
        (closed_at - created).total_seconds() / 86_400
        for created, closed_at in Opportunity.objects.filter(stage__is_won=True).values_list(
            "created_at", "closed_at"
        )
    ]
    figures["won_cycle_days"] = round(mean(cycles), 1) if cycles else None
    # Funnel shape: deals that fell back a stage, deals that skipped one (not counting "lost").
    moves = StageChange.objects.filter(from_stage__isnull=False, to_stage__is_lost=False)
    figures["backward_moves"] = moves.filter(to_stage__order__lt=F("from_stage__order")).count()
    figures["skipped_stages"] = moves.filter(
        to_stage__order__gt=F("from_stage__order") + 10
    ).count()
    # Seasonality: revenue per calendar month over the last twelve full months.
    end = as_of.replace(day=1)
    start = end.replace(year=end.year - 1)
    monthly = defaultdict(float)
    for day, total in (
        Order.objects.filter(order_date__gte=start, order_date__lt=end)
        .exclude(status=OrderStatus.CANCELLED)
        .values_list("order_date")
        .annotate(total=Sum("total"))
    ):
        monthly[day.month] += float(total)
    if len(monthly) == 12:
        average = sum(monthly.values()) / 12
        figures["q4_vs_average_month"] = round(mean(monthly[m] for m in (10, 11, 12)) / average, 2)
        figures["february_vs_average_month"] = round(monthly[2] / average, 2)
    # Spring Festival dip: activities per day in the festival week vs the two weeks before.
    festivals = [d for d in SPRING_FESTIVAL.values() if d < as_of - dt.timedelta(days=7)]
    if festivals:
        festival = max(festivals)
        per_day = dict(
            Activity.objects.filter(
                occurred_at__date__gte=festival - dt.timedelta(days=24),
                occurred_at__date__lte=festival + dt.timedelta(days=6),
            )
            .annotate(day=TruncDate("occurred_at"))
            .values_list("day")
            .annotate(n=Count("id"))
        )
        before = [per_day.get(festival - dt.timedelta(days=k), 0) for k in range(11, 25)]
        during = [per_day.get(festival + dt.timedelta(days=k), 0) for k in range(-3, 7)]
        figures["spring_festival_dip"] = round(mean(during) / max(1e-9, mean(before)), 2)
    # Visit conversion by weekday: share of visits ending qualified or interested.
    weekday = (
        Activity.objects.filter(kind="visit")
        .annotate(wd=ExtractIsoWeekDay("occurred_at"))
        .values("wd")
        .annotate(
            n=Count("id"), good=Count("id", filter=Q(outcome__in=("qualified", "interested")))
        )
    )
    figures["visit_conversion_by_weekday"] = {
        row["wd"]: round(row["good"] / row["n"], 3)
        for row in sorted(weekday, key=lambda r: r["wd"])
        if row["n"]
    }
    # Money: overdue receivables, late payers, contracts about to expire, birthdays ahead.
    open_invoices = Invoice.objects.filter(status=InvoiceStatus.OPEN)
    figures["invoices_overdue"] = open_invoices.filter(due_date__lt=as_of).count()
    figures["invoices_overdue_30d"] = open_invoices.filter(
        due_date__lt=as_of - dt.timedelta(days=30)
    ).count()
    figures["invoices_paid_late"] = (
        Invoice.objects.filter(status=InvoiceStatus.PAID, payments__paid_at__date__gt=F("due_date"))
        .distinct()
        .count()
    )
    figures["contracts_expiring_60d"] = Contract.objects.filter(
        status="active", end_date__gte=as_of, end_date__lt=as_of + dt.timedelta(days=60)
    ).count()
    figures["decision_makers"] = Contact.objects.filter(is_decision_maker=True).count()
    figures["open_deals"] = Opportunity.objects.filter(closed_at__isnull=True).count()
    return figures
