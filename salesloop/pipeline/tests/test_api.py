from decimal import Decimal

from salesloop.pipeline.models import StageChange
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage


def test_creating_a_deal_starts_in_the_first_stage_and_logs_it(org, api_as):
    account = AccountFactory(owner=org.rep_a1)
    client = api_as(org.rep_a1)

    response = client.post_json("/api/opportunities", {"name": "ERP 升级", "account_id": account.pk, "amount": "250000.00"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["stage_code"] == "lead"
    assert body["owner_id"] == org.rep_a1.pk
    assert body["amount"] == "250000.00"
    assert StageChange.objects.filter(opportunity_id=body["id"], from_stage=None).count() == 1


def test_stage_move_is_logged_with_from_and_to(org, api_as):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    client = api_as(org.rep_a1)

    response = client.patch_json(f"/api/opportunities/{deal.pk}", {"stage_id": stage("proposal").pk, "version": deal.version})

    assert response.status_code == 200, response.content
    change = StageChange.objects.get(opportunity=deal)
    assert (change.from_stage.code, change.to_stage.code) == ("qualified", "proposal")
    assert change.amount == Decimal("100000.00")


def test_stale_stage_move_gets_409_and_keeps_newer_value(org, api_as):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    client = api_as(org.rep_a1)
    first = client.patch_json(f"/api/opportunities/{deal.pk}", {"stage_id": stage("proposal").pk, "version": 1})
    assert first.status_code == 200

    stale = client.patch_json(f"/api/opportunities/{deal.pk}", {"stage_id": stage("lost").pk, "version": 1})

    assert stale.status_code == 409
    assert stale.json()["current"]["stage_code"] == "proposal"
    assert stale.json()["current"]["version"] == 2
    deal.refresh_from_db()
    assert deal.stage.code == "proposal"


def test_lost_deal_without_reason_is_refused_with_a_field_error(org, api_as):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))

    response = api_as(org.rep_a1).patch_json(f"/api/opportunities/{deal.pk}", {"stage_id": stage("lost").pk, "version": 1})

    assert response.status_code == 422
    assert "loss_reason_id" in response.json()["errors"]
