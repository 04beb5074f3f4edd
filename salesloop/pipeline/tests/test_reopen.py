"""Reopening a lost deal clears its loss reason; the reason stays in the audit history."""

from salesloop.audit.models import AuditEntry
from salesloop.pipeline.models import LossReason
from salesloop.testing.factories import AccountFactory, OpportunityFactory, stage


def _lost_deal(org):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1), owner=org.rep_a1)
    deal.stage = stage("lost")
    deal.loss_reason = LossReason.objects.order_by("pk").first()
    deal.loss_note = "价格太高"
    deal.save()
    return deal


def test_moving_a_lost_deal_back_to_an_open_stage_clears_the_loss_reason(org, api_as):
    deal = _lost_deal(org)
    reason_id = deal.loss_reason_id

    response = api_as(org.rep_a1).patch_json(
        f"/api/opportunities/{deal.pk}", {"stage_id": stage("negotiation").pk, "version": deal.version}
    )

    assert response.status_code == 200, response.content
    assert (response.json()["loss_reason_id"], response.json()["loss_note"]) == (None, "")
    entry = AuditEntry.objects.filter(object_id=str(deal.pk)).order_by("-id").first()
    assert entry.changes["loss_reason_id"][0] == reason_id


def test_losing_a_deal_keeps_the_reason_given_with_the_move(org, api_as):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1), owner=org.rep_a1)
    reason = LossReason.objects.order_by("pk").first()

    response = api_as(org.rep_a1).patch_json(
        f"/api/opportunities/{deal.pk}",
        {"stage_id": stage("lost").pk, "loss_reason_id": reason.pk, "version": deal.version},
    )

    assert response.status_code == 200, response.content
    assert response.json()["loss_reason_id"] == reason.pk
