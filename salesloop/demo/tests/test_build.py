"""A small demo organisation is internally consistent, record by record."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from salesloop.activities.models import Activity, Task
from salesloop.customers.models import Account, Contact, Lead
from salesloop.demo.profile import DEMO_PASSWORD, SIZES
from salesloop.demo.tests.conftest import AS_OF
from salesloop.org.models import Membership, Role, Team, TeamKind, User
from salesloop.pipeline.models import Opportunity, StageChange
from salesloop.sales.models import Contract, Invoice, Order, OrderLine, Payment

DEMO_SIZE = SIZES["XS"]
pytestmark = pytest.mark.django_db


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def test_the_size_is_what_was_asked_for(built):
    assert Account.objects.count() == DEMO_SIZE.accounts
    assert Order.objects.count() == DEMO_SIZE.orders
    assert Opportunity.objects.count() == DEMO_SIZE.opportunities
    assert Activity.objects.count() >= DEMO_SIZE.activities
    assert User.objects.filter(role=Role.REP).count() == DEMO_SIZE.reps
    assert built.rows["customers.Account"] == DEMO_SIZE.accounts


def test_every_deal_has_a_stage_history_ending_in_its_current_stage(built):
    history = defaultdict(list)
    for opp_id, frm, to, at in StageChange.objects.order_by("changed_at", "id").values_list(
        "opportunity_id", "from_stage_id", "to_stage_id", "changed_at"
    ):
        history[opp_id].append((frm, to, at))
    deals = dict(Opportunity.objects.values_list("id", "stage_id"))
    assert deals and set(history) == set(deals)
    for opp_id, stage_id in deals.items():
        changes = history[opp_id]
        assert changes[-1][1] == stage_id, opp_id
        assert changes[0][0] is None
        for (_f, previous_to, previous_at), (frm, _t, at) in zip(
            changes, changes[1:], strict=False
        ):
            assert frm == previous_to and at >= previous_at, opp_id


def test_the_funnel_has_wins_losses_open_deals_skips_and_setbacks(built):
    by_stage = dict(Opportunity.objects.values_list("stage__code").annotate(n=Count("id")))
    assert by_stage.get("won", 0) + by_stage.get("paid", 0) > 0
    assert by_stage.get("lost", 0) > 0
    assert (
        sum(by_stage.get(code, 0) for code in ("lead", "qualified", "proposal", "negotiation")) > 0
    )
    moves = StageChange.objects.filter(from_stage__isnull=False, to_stage__is_lost=False)
    assert moves.filter(to_stage__order__gt=F("from_stage__order") + 10).exists()  # a skipped stage


def test_closed_deals_carry_their_closing_facts_and_open_ones_do_not(built):
    won = Opportunity.objects.filter(stage__is_won=True)
    assert won.exists()
    assert not won.filter(Q(closed_at__isnull=True) | Q(decision_date__isnull=True)).exists()
    lost = Opportunity.objects.filter(stage__is_lost=True)
    assert not lost.filter(Q(closed_at__isnull=True) | Q(loss_reason__isnull=True)).exists()
    open_deals = Opportunity.objects.filter(stage__is_won=False, stage__is_lost=False)
    assert not open_deals.filter(closed_at__isnull=False).exists()
    assert not Opportunity.objects.filter(expected_close_date__lt=F("created_at__date")).exists()


def test_a_won_deal_is_worth_exactly_its_order(built):
    for deal_amount, order_total in Order.objects.filter(opportunity__isnull=False).values_list(
        "opportunity__amount", "total"
    ):
        assert deal_amount == order_total
    assert (
        Order.objects.filter(opportunity__isnull=False).count()
        == Opportunity.objects.filter(stage__is_won=True).count()
    )


def test_order_totals_equal_the_sum_of_their_lines(built):
    sums = {
        row["order_id"]: row
        for row in OrderLine.objects.values("order_id").annotate(
            total=Sum("line_total"), cost=Sum("line_cost")
        )
    }
    orders = Order.objects.values_list("id", "total", "cost_total", "margin")
    assert orders
    for order_id, total, cost, margin in orders:
        assert sums[order_id]["total"] == total
        assert sums[order_id]["cost"] == cost
        assert margin == total - cost


def test_invoices_fall_due_after_issue_and_payments_settle_them(built):
    paid = dict(Payment.objects.values_list("invoice_id").annotate(s=Sum("amount")))
    invoices = Invoice.objects.values_list(
        "id", "issue_date", "due_date", "amount", "paid_amount", "status", "order__total"
    )
    assert invoices
    for invoice_id, issue, due, amount, paid_amount, status, order_total in invoices:
        assert due >= issue
        assert amount == order_total
        assert paid.get(invoice_id, Decimal(0)) == paid_amount <= amount
        assert (status == "paid") == (paid_amount == amount)
    assert Invoice.objects.filter(
        status="open", due_date__lt=AS_OF - dt.timedelta(days=30)
    ).exists()
    assert not Order.objects.filter(
        status__in=("cancelled", "draft"), invoices__isnull=False
    ).exists()


def test_every_owned_record_belongs_to_a_rep_in_the_team_tree(built):
    company = Team.objects.get(kind=TeamKind.COMPANY)
    reps = set(
        User.objects.filter(
            role=Role.REP, team__kind=TeamKind.GROUP, team__path__startswith=company.path
        ).values_list("id", flat=True)
    )
    assert len(reps) == DEMO_SIZE.reps
    owned = [
        (Account, "owner_id"),
        (Opportunity, "owner_id"),
        (Activity, "owner_id"),
        (Activity, "performed_by_id"),
        (Order, "owner_id"),
        (Contract, "owner_id"),
        (Task, "assignee_id"),
    ]
    for model, column in owned:
        owners = set(model.objects.values_list(column, flat=True).distinct())
        assert owners and owners <= reps, (model, owners - reps)
    lead_owners = set(
        Lead.objects.exclude(owner=None).values_list("owner_id", flat=True).distinct()
    )
    assert lead_owners <= reps
    assert not Lead.objects.filter(owner=None).exclude(status="new").exists()
    # a deal's and an activity's account belongs to the same rep
    assert not Opportunity.objects.exclude(account__owner_id=F("owner_id")).exists()
    assert (
        not Activity.objects.exclude(account=None).exclude(account__owner_id=F("owner_id")).exists()
    )


def test_history_ends_yesterday(built):
    today = _midnight(AS_OF)
    for model, column in [
        (Activity, "occurred_at"),
        (Activity, "created_at"),
        (StageChange, "changed_at"),
        (Payment, "paid_at"),
        (Opportunity, "updated_at"),
        (Account, "created_at"),
        (Lead, "created_at"),
        (Invoice, "updated_at"),
    ]:
        latest = model.objects.order_by(f"-{column}").values_list(column, flat=True).first()
        assert latest < today, (model, column, latest)
    assert (
        Order.objects.order_by("-order_date").values_list("order_date", flat=True).first() < AS_OF
    )
    assert Task.objects.filter(status="open", due_at__gte=today).exists()


def test_the_team_tree_has_leads_at_every_level_and_every_support_role(built):
    kinds = dict(Team.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds == {
        TeamKind.COMPANY: 1,
        TeamKind.REGION: DEMO_SIZE.regions,
        TeamKind.TEAM: DEMO_SIZE.regions * DEMO_SIZE.teams_per_region,
        TeamKind.GROUP: DEMO_SIZE.regions * DEMO_SIZE.teams_per_region * DEMO_SIZE.groups_per_team,
    }
    expected_lead = {
        TeamKind.COMPANY: Role.DIRECTOR,
        TeamKind.REGION: Role.MANAGER,
        TeamKind.TEAM: Role.MANAGER,
        TeamKind.GROUP: Role.GROUP_LEAD,
    }
    for team in Team.objects.select_related("lead"):
        assert team.lead is not None and team.lead.role == expected_lead[team.kind]
        assert team.lead.team_id == team.pk
    for role in (Role.FINANCE, Role.LEGAL, Role.AFTER_SALES, Role.MARKETING):
        assert User.objects.filter(role=role).count() == 1
    admin = User.objects.get(role=Role.ADMIN)
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.filter(is_staff=True).exclude(pk=admin.pk).exists()
    current = Membership.objects.filter(end_date=None, user__role=Role.REP)
    assert current.count() == DEMO_SIZE.reps
    assert set(current.values_list("seniority", flat=True)) == {"new", "growing", "senior"}
    assert not current.filter(capacity__lte=0).exists()


def test_accounts_have_contacts_with_one_decision_maker_and_birthdays(built):
    per_account = Contact.objects.values("account_id").annotate(
        n=Count("id"), deciders=Count("id", filter=Q(is_decision_maker=True))
    )
    assert len(per_account) == DEMO_SIZE.accounts
    assert all(row["deciders"] == 1 for row in per_account)
    assert Contact.objects.exclude(birthday=None).exists()
    provinces = set(Account.objects.values_list("province", flat=True))
    assert provinces and all(p.endswith(("省", "市", "自治区")) for p in provinces)
    assert Account.objects.exclude(key_account_tier="").exists()


def test_every_demo_user_logs_in_with_the_demo_password(built, client):
    rep = User.objects.filter(role=Role.REP).first()
    assert client.login(username=rep.username, password=DEMO_PASSWORD)
    assert client.login(username="admin", password=DEMO_PASSWORD)
    passwords = set(User.objects.values_list("password", flat=True))
    assert len(passwords) == 1  # hashed once for all: see organisation.build_organisation
