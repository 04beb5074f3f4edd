"""Nobody is newly given a record after they have left; what they already hold stays editable."""

from salesloop.testing.factories import AccountFactory, OpportunityFactory


def _leave(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def test_a_manager_cannot_give_a_new_deal_to_a_rep_who_has_left(org, api_as):
    account = AccountFactory(owner=org.rep_a1)
    _leave(org.rep_a1b)

    response = api_as(org.manager_a).post_json(
        "/api/opportunities",
        {"name": "交接商机", "account_id": account.pk, "amount": "1000.00", "owner_id": org.rep_a1b.pk},
    )

    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == ["owner"]


def test_moving_a_deal_to_a_leaver_is_refused_and_loses_nothing(org, api_as):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1), owner=org.rep_a1)
    _leave(org.rep_a1b)

    response = api_as(org.manager_a).patch_json(
        f"/api/opportunities/{deal.pk}", {"owner_id": org.rep_a1b.pk, "version": deal.version}
    )

    assert response.status_code == 422, response.content
    deal.refresh_from_db()
    assert (deal.owner_id, deal.version) == (org.rep_a1.pk, 1)


def test_a_leavers_existing_deal_can_still_be_edited_until_their_book_is_moved(org, api_as):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1b), owner=org.rep_a1b)
    _leave(org.rep_a1b)

    response = api_as(org.manager_a).patch_json(
        f"/api/opportunities/{deal.pk}", {"next_step": "交接给新销售", "version": deal.version}
    )

    assert response.status_code == 200, response.content
