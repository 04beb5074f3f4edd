"""Detail pages: the customer 360, a deal's stage history and audit, private notes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from salesloop.pipeline import services as pipeline_services
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    OpportunityFactory,
    OrderFactory,
    PaymentFactory,
    TaskFactory,
    stage,
)
from salesloop.web.tests.records_helpers import KEYS, make


def _customer(org):
    account = AccountFactory(owner=org.rep_a1, name="宁波港机", notes="老板喜欢喝茶")
    now = timezone.now()
    ContactFactory(account=account, name="陈总", is_decision_maker=True)
    open_deal = pipeline_services.opportunity_create(
        user=org.rep_a1,
        data={"name": "岸桥改造", "account_id": account.pk, "amount": Decimal("500000")},
    )
    won = OpportunityFactory(account=account, name="备件年框", stage=stage("won"), closed_at=now)
    ActivityFactory(
        account=account,
        subject="首次拜访",
        occurred_at=now - dt.timedelta(days=3),
        notes="谈到预算",
    )
    ActivityFactory(account=account, subject="方案电话", occurred_at=now + dt.timedelta(minutes=5))
    order = OrderFactory(account=account, number="SO-360")
    invoice = InvoiceFactory(order=order, number="INV-360")
    PaymentFactory(invoice=invoice, amount=Decimal("1000.00"))
    ContractFactory(account=account, number="HT-360")
    TaskFactory(assignee=org.rep_a1, account=account, title="送样")
    return account, open_deal, won


def test_account_page_is_a_customer_360(client, org):
    account, open_deal, won = _customer(org)
    client.force_login(org.rep_a1)

    response = client.get(reverse("account_detail", args=[account.pk]))

    assert response.status_code == 200
    c360 = response.context["c360"]
    assert [d.pk for d in c360.open_deals] == [open_deal.pk]
    assert [d.pk for d in c360.closed_deals] == [won.pk]
    html = response.content.decode()
    for text in (
        "陈总",
        "岸桥改造",
        "备件年框",
        "SO-360",
        "INV-360",
        "HT-360",
        "送样",
        "老板喜欢喝茶",
        "谈到预算",
    ):
        assert text in html, text


def test_timeline_merges_activities_and_stage_changes_newest_first(client, org):
    account, open_deal, _won = _customer(org)
    client.force_login(org.rep_a1)

    timeline = client.get(reverse("account_detail", args=[account.pk])).context["c360"].timeline

    kinds = [e.kind for e in timeline]
    assert "activity" in kinds and "stage" in kinds
    times = [e.at for e in timeline]
    assert times == sorted(times, reverse=True)
    assert timeline[0].obj.subject == "方案电话"  # the newest entry
    assert any(e.kind == "stage" and e.obj.opportunity_id == open_deal.pk for e in timeline)


def test_finance_sees_the_money_but_not_private_notes_contacts_or_activities(client, org):
    account, _open, _won = _customer(org)
    client.force_login(org.finance)

    response = client.get(reverse("account_detail", args=[account.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "INV-360" in html and "SO-360" in html
    assert "老板喜欢喝茶" not in html and "谈到预算" not in html
    assert "陈总" not in html and "首次拜访" not in html
    assert 'data-testid="edit"' not in html


def test_after_sales_sees_contacts_but_no_private_notes(client, org):
    account, _open, _won = _customer(org)
    client.force_login(org.after_sales)

    html = client.get(reverse("account_detail", args=[account.pk])).content.decode()

    assert "陈总" in html and "老板喜欢喝茶" not in html


def test_account_page_shows_its_audit_history(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    edit = client.get(reverse("account_edit", args=[account.pk])).context["form"]
    data = {name: edit[name].value() or "" for name in edit.fields}
    data |= {"name": "改名后的客户", "tags": ""}
    assert client.post(reverse("account_edit", args=[account.pk]), data).status_code == 302

    response = client.get(reverse("account_detail", args=[account.pk]))

    history = response.context["history"]
    assert history[0].action == "update" and history[0].changes["name"][1] == "改名后的客户"
    assert 'data-testid="audit-history"' in response.content.decode()


def test_deal_page_shows_stage_history_and_audit(client, org):
    account = AccountFactory(owner=org.rep_a1)
    deal = pipeline_services.opportunity_create(
        user=org.rep_a1, data={"name": "二期", "account_id": account.pk, "amount": Decimal("1000")}
    )
    pipeline_services.opportunity_move_stage(
        opportunity_id=deal.pk, stage_id=stage("proposal").pk, version=1, user=org.rep_a1
    )
    client.force_login(org.rep_a1)

    response = client.get(reverse("opportunity_detail", args=[deal.pk]))

    moves = [
        (c.from_stage.code if c.from_stage else None, c.to_stage.code)
        for c in response.context["stage_history"]
    ]
    assert moves == [(None, "lead"), ("lead", "proposal")]
    assert [e.action for e in response.context["history"]] == ["update", "create"]
    assert 'data-testid="stage-history"' in response.content.decode()


@pytest.mark.parametrize("key", KEYS)
def test_every_detail_page_renders_with_a_bounded_number_of_queries(
    client, org, key, django_assert_max_num_queries
):
    record = make(key, org.rep_a1)
    client.force_login(org.rep_a1)

    with django_assert_max_num_queries(20):
        response = client.get(reverse(f"{key}_detail", args=[record.pk]))

    assert response.status_code == 200


def test_account_360_query_count_does_not_grow_with_related_rows(
    client, org, django_assert_max_num_queries
):
    account, _open, _won = _customer(org)
    client.force_login(org.rep_a1)
    url = reverse("account_detail", args=[account.pk])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for i in range(10):
        ContactFactory(account=account)
        ActivityFactory(account=account, subject=f"拜访{i}")
        OpportunityFactory(account=account)
        PaymentFactory(invoice=InvoiceFactory(order=OrderFactory(account=account)))

    with CaptureQueriesContext(connection) as after:
        client.get(url)

    assert len(after.captured_queries) == len(before.captured_queries)


def test_a_huge_id_is_a_404_not_a_500(client, org):
    client.force_login(org.rep_a1)

    assert client.get(f"/accounts/{2**70}/").status_code == 404
    assert client.get(f"/accounts/{2**70}/edit/").status_code == 404


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_account_360_renders_in_both_languages(client, org, language, settings):
    account, _open, _won = _customer(org)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(org.rep_a1)

    response = client.get(reverse("account_detail", args=[account.pk]))

    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()
