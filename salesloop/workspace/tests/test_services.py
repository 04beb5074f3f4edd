import datetime as dt

import pytest
from django.utils import timezone

from salesloop.activities.models import Activity
from salesloop.core.errors import FieldErrors
from salesloop.testing.factories import AccountFactory, OpportunityFactory
from salesloop.workspace.services import activity_log_quick


def test_quick_visit_on_a_deal_is_linked_to_the_deal_and_its_account_and_happens_now(org):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    before = timezone.now()

    activity = activity_log_quick(
        user=org.rep_a1, kind="visit", opportunity_id=deal.pk, note="  带了样品  "
    )

    activity.refresh_from_db()
    assert (activity.opportunity_id, activity.account_id) == (deal.pk, deal.account_id)
    assert (activity.owner, activity.performed_by) == (org.rep_a1, org.rep_a1)
    assert activity.notes == "带了样品"
    assert before <= activity.occurred_at <= timezone.now() + dt.timedelta(seconds=1)


def test_quick_call_on_an_account(org):
    account = AccountFactory(owner=org.rep_a1)

    activity = activity_log_quick(user=org.rep_a1, kind="call", account_id=account.pk)

    assert (activity.kind, activity.account_id, activity.opportunity_id) == (
        "call",
        account.pk,
        None,
    )


def test_logging_against_someone_elses_account_is_refused_on_the_picker_field(org):
    other = AccountFactory(owner=org.rep_b1)

    with pytest.raises(FieldErrors) as exc:
        activity_log_quick(user=org.rep_a1, kind="visit", account_id=other.pk)

    assert "link" in exc.value.errors
    assert not Activity.objects.exists()


def test_logging_against_an_invisible_deal_is_refused(org):
    other = OpportunityFactory(account=AccountFactory(owner=org.rep_b1))

    with pytest.raises(FieldErrors) as exc:
        activity_log_quick(user=org.rep_a1, kind="visit", opportunity_id=other.pk)

    assert "link" in exc.value.errors
    assert not Activity.objects.exists()


def test_an_unknown_kind_is_a_field_error(org):
    account = AccountFactory(owner=org.rep_a1)

    with pytest.raises(FieldErrors) as exc:
        activity_log_quick(user=org.rep_a1, kind="party", account_id=account.pk)

    assert "kind" in exc.value.errors


def test_exactly_one_link_is_required(org):
    account = AccountFactory(owner=org.rep_a1)
    deal = OpportunityFactory(account=account)

    with pytest.raises(FieldErrors):
        activity_log_quick(user=org.rep_a1, kind="visit")
    with pytest.raises(FieldErrors):
        activity_log_quick(
            user=org.rep_a1, kind="visit", account_id=account.pk, opportunity_id=deal.pk
        )
