"""Setting, submitting, approving, editing and decomposing targets."""

import datetime as dt
from decimal import Decimal

import pytest

from salesloop.audit.models import AuditEntry
from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.org.models import Membership, Seniority
from salesloop.targets import services
from salesloop.targets.models import Target, TargetSettings, TargetStatus
from salesloop.targets.periods import PeriodKind

Q3 = dt.date(2025, 7, 1)


def quarter_target(org, by, team=None, amount="1000000.00", metric="revenue", **extra):
    data = {
        "metric": metric,
        "period_kind": "quarter",
        "period_start": Q3,
        "team_id": (team or org.team_a).pk,
        "amount": Decimal(amount),
        **extra,
    }
    return services.target_create(by=by, data=data)


def test_manager_sets_a_quarter_target_for_their_team_and_it_is_approved_and_audited(org):
    target = quarter_target(org, org.manager_a, period_start=dt.date(2025, 8, 17))
    assert target.status == TargetStatus.APPROVED
    assert (target.period_start, target.period_end) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    assert AuditEntry.objects.filter(object_id=target.pk, action="create").exists()


def test_rep_cannot_set_a_top_down_target(org):
    with pytest.raises(Forbidden):
        quarter_target(org, org.rep_a1, team=org.group_a1)


def test_manager_cannot_set_a_target_for_another_teams_subtree(org):
    with pytest.raises(Forbidden):
        quarter_target(org, org.manager_a, team=org.team_b)


def test_a_second_approved_target_for_the_same_cell_is_refused(org):
    quarter_target(org, org.manager_a)
    with pytest.raises(FieldErrors) as err:
        quarter_target(org, org.manager_a, amount="5.00")
    assert "__all__" in err.value.errors


def test_counts_must_be_whole_numbers(org):
    with pytest.raises(FieldErrors) as err:
        quarter_target(org, org.manager_a, metric="visits", amount="10.5")
    assert "amount" in err.value.errors


def test_rep_submits_bottom_up_and_the_lead_approves(org):
    data = {"metric": "visits", "period_kind": "month", "period_start": dt.date(2025, 7, 1), "amount": 300}
    sub = services.target_submit(by=org.rep_a1, data=data)
    assert (sub.status, sub.rep_id, sub.team_id) == (TargetStatus.SUBMITTED, org.rep_a1.pk, org.group_a1.pk)
    approved = services.target_decide(target_id=sub.pk, by=org.lead_a1, approve=True, version=sub.version)
    assert approved.status == TargetStatus.APPROVED and approved.decided_by_id == org.lead_a1.pk


def test_rep_cannot_approve_their_own_submission(org):
    data = {"metric": "visits", "period_kind": "month", "period_start": dt.date(2025, 7, 1), "amount": 300}
    sub = services.target_submit(by=org.rep_a1, data=data)
    with pytest.raises(Forbidden):
        services.target_decide(target_id=sub.pk, by=org.rep_a1, approve=True, version=sub.version)


def test_lead_of_another_group_cannot_see_the_submission_to_decide(org):
    data = {"metric": "visits", "period_kind": "month", "period_start": dt.date(2025, 7, 1), "amount": 300}
    sub = services.target_submit(by=org.rep_a1, data=data)
    with pytest.raises(Target.DoesNotExist):
        services.target_decide(target_id=sub.pk, by=org.lead_b1, approve=True, version=sub.version)


def test_stale_target_edit_gets_409_and_keeps_the_newer_amount(org):
    target = quarter_target(org, org.manager_a)
    services.target_update(target_id=target.pk, by=org.manager_a, data={"amount": "1200000.00"}, version=1)
    with pytest.raises(Conflict):
        services.target_update(target_id=target.pk, by=org.director, data={"amount": "900000.00"}, version=1)
    assert Target.objects.get(pk=target.pk).amount == Decimal("1200000.00")


def test_decompose_team_to_groups_by_capacity_and_seniority(org):
    # Group A1 has two reps, A2 one; all "new" (weight 0.5) with capacity 1 → 2/3 and 1/3.
    target = quarter_target(org, org.manager_a)
    result = services.target_decompose(target_id=target.pk, by=org.manager_a, axis="members")
    amounts = {c.team_id: c.amount for c in result.created}
    assert amounts == {org.group_a1.pk: Decimal("666666.67"), org.group_a2.pk: Decimal("333333.33")}
    assert sum(amounts.values()) == target.amount


def test_decompose_to_reps_weighs_seniority_and_prorates_a_mid_quarter_joiner(org):
    Membership.objects.filter(user=org.rep_a1).update(seniority=Seniority.SENIOR)  # weight 1.0
    # rep_a1b joins on 1 September: 22 of the quarter's 66 weekdays.
    Membership.objects.filter(user=org.rep_a1b).update(start_date=dt.date(2025, 9, 1))
    target = quarter_target(org, org.lead_a1, team=org.group_a1, amount="100000.00")
    result = services.target_decompose(target_id=target.pk, by=org.lead_a1, axis="members", options={"to": "reps"})
    by_rep = {c.rep_id: c.amount for c in result.created}
    # weights 1.0 and 0.5 × 22/66 = 1/6 → 6/7 and 1/7 of 100,000.00
    assert by_rep == {org.rep_a1.pk: Decimal("85714.29"), org.rep_a1b.pk: Decimal("14285.71")}
    child = next(c for c in result.created if c.rep_id == org.rep_a1b.pk)
    assert child.split_basis["working_days"] == 22 and child.split_basis["period_working_days"] == 66


def test_a_leaver_is_prorated_to_their_last_day(org):
    Membership.objects.filter(user=org.rep_a1b).update(end_date=dt.date(2025, 7, 31))  # 23 of 66 days
    target = quarter_target(org, org.lead_a1, team=org.group_a1, metric="visits", amount="890")
    result = services.target_decompose(target_id=target.pk, by=org.lead_a1, axis="members", options={"to": "reps"})
    by_rep = {c.rep_id: c.amount for c in result.created}
    # weights 0.5 and 0.5 × 23/66 → 66/89 and 23/89 of 890
    assert by_rep == {org.rep_a1.pk: Decimal(660), org.rep_a1b.pk: Decimal(230)}


def test_decompose_by_tier_uses_the_configured_shares(org):
    settings = TargetSettings.current()
    settings.tier_shares = {"high_value": "50", "potential": "30", "new": "20"}
    settings.save()
    target = quarter_target(org, org.manager_a)
    result = services.target_decompose(target_id=target.pk, by=org.manager_a, axis="tiers")
    assert {c.tier: c.amount for c in result.created} == {
        "high_value": Decimal("500000.00"),
        "potential": Decimal("300000.00"),
        "new": Decimal("200000.00"),
    }


def test_decompose_quarter_to_months_then_a_month_to_days_keeps_every_sum(org):
    target = quarter_target(org, org.manager_a, metric="visits", amount="1000")
    months = services.target_decompose(
        target_id=target.pk, by=org.manager_a, axis="periods", options={"period_kind": "month"}
    ).created
    assert [m.amount for m in months] == [Decimal(349), Decimal(318), Decimal(333)]  # 23/21/22 of 66 days
    july = months[0]
    days = services.target_decompose(
        target_id=july.pk, by=org.manager_a, axis="periods", options={"period_kind": PeriodKind.DAY}
    ).created
    assert len(days) == 31 and sum(d.amount for d in days) == july.amount
    assert days[4].amount == 0  # a Saturday


def test_decompose_with_a_named_seasonal_profile(org):
    target = quarter_target(org, org.manager_a, amount="300000.00")
    months = services.target_decompose(
        target_id=target.pk, by=org.manager_a, axis="periods", options={"period_kind": "month", "profile": "retail"}
    ).created
    # retail weights Jul 7, Aug 7, Sep 8 → 7/22, 7/22, 8/22
    assert [m.amount for m in months] == [Decimal("95454.55"), Decimal("95454.54"), Decimal("109090.91")]


def test_preview_creates_nothing(org):
    target = quarter_target(org, org.manager_a)
    result = services.target_decompose(target_id=target.pk, by=org.manager_a, axis="tiers", preview=True)
    assert len(result.parts) == 3 and not target.children.exists()


def test_decomposing_again_needs_replace_and_then_replaces_the_children(org):
    target = quarter_target(org, org.manager_a)
    services.target_decompose(target_id=target.pk, by=org.manager_a, axis="tiers")
    with pytest.raises(FieldErrors) as err:
        services.target_decompose(target_id=target.pk, by=org.manager_a, axis="members")
    assert "replace" in err.value.errors
    services.target_decompose(target_id=target.pk, by=org.manager_a, axis="members", replace=True)
    assert set(target.children.values_list("split_axis", flat=True)) == {"members"}


def test_a_split_parent_or_child_cannot_change_its_amount_alone(org):
    target = quarter_target(org, org.manager_a)
    child = services.target_decompose(target_id=target.pk, by=org.manager_a, axis="tiers").created[0]
    with pytest.raises(FieldErrors):
        services.target_update(target_id=target.pk, by=org.manager_a, data={"amount": "1.00"}, version=1)
    with pytest.raises(FieldErrors):
        services.target_update(target_id=child.pk, by=org.manager_a, data={"amount": "1.00"}, version=1)
    services.target_update(target_id=child.pk, by=org.manager_a, data={"note": "push strategic"}, version=1)


def test_a_lead_cannot_decompose_their_managers_target(org):
    target = quarter_target(org, org.manager_a)
    with pytest.raises(Target.DoesNotExist):
        services.target_decompose(target_id=target.pk, by=org.lead_a1, axis="members")


def test_credit_splits_must_add_up_to_exactly_100(org):
    from salesloop.testing.factories import OpportunityFactory

    opp = OpportunityFactory(account__owner=org.rep_a1)
    with pytest.raises(FieldErrors) as err:
        services.credit_splits_set(
            by=org.lead_a1,
            opportunity_id=opp.pk,
            splits=[{"user_id": org.rep_a1.pk, "percent": 100}, {"user_id": org.rep_a1b.pk, "percent": 100}],
        )
    assert "splits" in err.value.errors
    rows = services.credit_splits_set(
        by=org.lead_a1,
        opportunity_id=opp.pk,
        splits=[{"user_id": org.rep_a1.pk, "percent": "60"}, {"user_id": org.rep_a1b.pk, "percent": "40"}],
    )
    assert [(r.user_id, r.is_primary) for r in rows] == [(org.rep_a1.pk, True), (org.rep_a1b.pk, False)]


def test_a_rep_cannot_credit_someone_outside_their_reach(org):
    from salesloop.testing.factories import OpportunityFactory

    opp = OpportunityFactory(account__owner=org.rep_a1)
    with pytest.raises(FieldErrors) as err:
        services.credit_splits_set(
            by=org.rep_a1,
            opportunity_id=opp.pk,
            splits=[{"user_id": org.rep_a1.pk, "percent": 50}, {"user_id": org.rep_b1.pk, "percent": 50}],
        )
    assert "splits.1.user_id" in err.value.errors
