"""Who may categorise, submit and adjust, and what each write refuses (services_commit)."""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.audit.models import AuditEntry
from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.forecasting.models import Adjustment, Category, DealCategory, Submission
from salesloop.forecasting.services_commit import adjustment_create, deal_category_set, submission_create
from salesloop.notifications.models import Notification
from salesloop.pipeline.models import LossReason, Opportunity
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)


def deal(owner, amount="100", code="qualified"):
    return OpportunityFactory(
        account=AccountFactory(owner=owner),
        amount=Decimal(amount),
        stage=stage(code),
        expected_close_date=dt.date(2026, 2, 1),
        loss_reason=LossReason.objects.first() if code == "lost" else None,
    )


# Deal category ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep_a1", "lead_a1", "manager_a", "director"])
def test_the_owner_and_their_managers_may_set_a_deals_category(org, who):
    opp = deal(org.rep_a1)

    row = deal_category_set(opportunity_id=opp.pk, category=Category.COMMIT, by=getattr(org, who))

    assert DealCategory.objects.get(opportunity=opp).category == Category.COMMIT
    assert row.set_by == getattr(org, who)


@pytest.mark.parametrize("who", ["rep_a1b", "lead_b1", "rep_b1", "legal", "marketing"])
def test_people_who_cannot_see_the_deal_get_not_found(org, who):
    opp = deal(org.rep_a1)

    with pytest.raises(Opportunity.DoesNotExist):
        deal_category_set(opportunity_id=opp.pk, category=Category.COMMIT, by=getattr(org, who))


@pytest.mark.parametrize("who", ["finance", "admin"])
def test_people_who_see_the_deal_outside_the_sales_line_are_forbidden(org, who):
    opp = deal(org.rep_a1)

    with pytest.raises(Forbidden):
        deal_category_set(opportunity_id=opp.pk, category=Category.COMMIT, by=getattr(org, who))
    assert not DealCategory.objects.exists()


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("won", Category.COMMIT),
        ("won", Category.CLOSED),
        ("lost", Category.COMMIT),
        ("qualified", Category.CLOSED),
        ("qualified", "maybe"),
    ],
)
def test_won_lost_and_unknown_categories_are_refused_field_by_field(org, code, category):
    opp = deal(org.rep_a1, code=code)

    with pytest.raises(FieldErrors) as exc:
        deal_category_set(opportunity_id=opp.pk, category=category, by=org.rep_a1)

    assert "category" in exc.value.errors
    assert not DealCategory.objects.exists()


def test_changing_a_category_updates_one_row_audits_it_and_refuses_a_stale_version(org):
    opp = deal(org.rep_a1)
    first = deal_category_set(opportunity_id=opp.pk, category=Category.BEST_CASE, by=org.rep_a1)

    second = deal_category_set(opportunity_id=opp.pk, category=Category.COMMIT, by=org.lead_a1, version=first.version)

    assert DealCategory.objects.count() == 1
    assert second.version == first.version + 1
    changes = [e.changes["forecast_category"] for e in AuditEntry.objects.filter(object_id=opp.pk).order_by("id")]
    assert changes == [["pipeline", "best_case"], ["best_case", "commit"]]
    with pytest.raises(Conflict):
        deal_category_set(opportunity_id=opp.pk, category=Category.OMITTED, by=org.rep_a1, version=first.version)
    assert DealCategory.objects.get().category == Category.COMMIT


# Submission -------------------------------------------------------------------------------------


def test_a_submission_stores_the_rollups_of_that_moment_and_a_resubmission_adds_a_row(org):
    opp = deal(org.rep_a1, "300")
    deal_category_set(opportunity_id=opp.pk, category=Category.COMMIT, by=org.rep_a1)
    deal(org.rep_a1, "200")

    first = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="250.50", note=" 稳 ")
    deal_category_set(opportunity_id=opp.pk, category=Category.OMITTED, by=org.rep_a1)
    second = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="100")

    assert Submission.objects.count() == 2
    assert (first.amount, first.commit_amount, first.pipeline_amount, first.note) == (
        Decimal("250.50"),
        Decimal("300"),
        Decimal("500"),
        "稳",
    )
    assert (second.commit_amount, second.pipeline_amount) == (Decimal("0"), Decimal("200"))
    first.refresh_from_db()
    assert first.amount == Decimal("250.50")


@pytest.mark.parametrize("who", ["finance", "legal", "after_sales", "marketing", "admin"])
def test_people_without_a_sales_book_cannot_submit(org, who):
    with pytest.raises(Forbidden):
        submission_create(by=getattr(org, who), period_start=START, period_end=END, amount="1")


@pytest.mark.parametrize(
    ("start", "end", "amount", "field"),
    [
        (START, END, "-1", "amount"),
        (START, END, "1.234", "amount"),
        (START, END, "abc", "amount"),
        (START, END, "NaN", "amount"),
        (END, START, "1", "period_end"),
        (START, dt.date(2027, 6, 30), "1", "period_end"),
        (None, END, "1", "period_start"),
    ],
)
def test_bad_submissions_are_refused_field_by_field(org, start, end, amount, field):
    with pytest.raises(FieldErrors) as exc:
        submission_create(by=org.rep_a1, period_start=start, period_end=end, amount=amount)

    assert field in exc.value.errors
    assert not Submission.objects.exists()


# Adjustment -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead_a1", "manager_a", "director"])
def test_a_manager_above_the_owner_adjusts_apart_and_the_owner_is_told(org, who, django_capture_on_commit_callbacks):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000")

    with django_capture_on_commit_callbacks(execute=True):
        adj = adjustment_create(by=getattr(org, who), submission_id=sub.pk, amount="800", reason="  客户预算冻结 ")

    sub.refresh_from_db()
    assert sub.amount == Decimal("1000")
    assert (adj.amount, adj.reason, adj.adjusted_by) == (Decimal("800"), "客户预算冻结", getattr(org, who))
    note = Notification.objects.get(recipient=org.rep_a1)
    assert note.body == "客户预算冻结"


def test_a_leads_own_book_is_adjusted_by_the_manager_above_them(org):
    sub = submission_create(by=org.lead_a1, period_start=START, period_end=END, amount="10")

    adjustment_create(by=org.manager_a, submission_id=sub.pk, amount="9", reason="r")
    with pytest.raises(Forbidden):
        adjustment_create(by=org.lead_a1, submission_id=sub.pk, amount="9", reason="mine")

    assert Adjustment.objects.count() == 1


@pytest.mark.parametrize("who", ["rep_a1b", "lead_b1", "rep_b1", "finance", "marketing"])
def test_people_who_cannot_see_the_submission_get_not_found(org, who):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000")

    with pytest.raises(Submission.DoesNotExist):
        adjustment_create(by=getattr(org, who), submission_id=sub.pk, amount="1", reason="r")


@pytest.mark.parametrize("who", ["rep_a1", "admin"])
def test_the_owner_and_admin_see_but_may_not_adjust(org, who):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000")

    with pytest.raises(Forbidden):
        adjustment_create(by=getattr(org, who), submission_id=sub.pk, amount="1", reason="r")


def test_an_adjustment_needs_a_reason_and_a_number_of_at_least_zero(org):
    sub = submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="1000")

    with pytest.raises(FieldErrors) as exc:
        adjustment_create(by=org.lead_a1, submission_id=sub.pk, amount="-5", reason="   ")

    assert set(exc.value.errors) == {"amount", "reason"}
    adjustment_create(by=org.lead_a1, submission_id=sub.pk, amount="0", reason="deal lost to competitor")
    assert Adjustment.objects.get().amount == Decimal("0")


def test_only_the_latest_submission_can_be_adjusted(org):
    old = submission_create(
        by=org.rep_a1, period_start=START, period_end=END, amount="1", at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    )
    submission_create(by=org.rep_a1, period_start=START, period_end=END, amount="2")

    with pytest.raises(FieldErrors) as exc:
        adjustment_create(by=org.lead_a1, submission_id=old.pk, amount="1", reason="r")

    assert "submission_id" in exc.value.errors
