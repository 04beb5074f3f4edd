"""Create and edit pages write through the API's services: same rules, versioning and audit."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from salesloop.audit.models import AuditEntry
from salesloop.customers.models import Account
from salesloop.pipeline.models import LossReason, Opportunity, StageChange
from salesloop.sales.models import Invoice, InvoiceStatus, Order, Payment
from salesloop.testing.factories import (
    AccountFactory,
    InvoiceFactory,
    OpportunityFactory,
    OrderFactory,
    ProductFactory,
    stage,
)


def _form_values(response) -> dict:
    """The values an edit form was rendered with, as a browser would post them back."""
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        if isinstance(value, list):
            value = ", ".join(value)
        data[name] = value
    return data


def test_rep_creates_an_account_owned_by_them_and_the_audit_says_web(client, org):
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("account_create"),
        {"name": "杭州新材料", "owner": org.rep_a1.pk, "industry": "制造业", "tags": "重点, 华东"},
    )

    account = Account.objects.get(name="杭州新材料")
    assert response.status_code == 302 and response["Location"] == reverse(
        "account_detail", args=[account.pk]
    )
    assert account.owner == org.rep_a1 and account.tags == ["重点", "华东"]
    entry = AuditEntry.objects.get(object_id=account.pk, action="create")
    assert entry.source == "web" and entry.actor == org.rep_a1


def test_rep_cannot_give_a_new_account_to_someone_else(client, org):
    client.force_login(org.rep_a1)

    response = client.post(reverse("account_create"), {"name": "越权客户", "owner": org.rep_b1.pk})

    assert response.status_code == 422
    assert "owner" in response.context["form"].errors
    assert not Account.objects.filter(name="越权客户").exists()


def test_invalid_input_is_shown_inline_next_to_the_field(client, org):
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("account_create"), {"name": "", "owner": org.rep_a1.pk, "size": "galactic"}
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field-error="name"' in html and 'data-field-error="size"' in html
    assert "is-invalid" in html


def test_create_form_prefills_the_account_from_the_link(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.get(reverse("opportunity_create"), {"account": account.pk})

    assert response.context["form"]["account"].value() == str(account.pk)
    assert response.context["form"]["owner"].value() == org.rep_a1.pk


def test_a_deal_created_from_the_page_starts_in_the_first_stage_with_its_change_logged(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("opportunity_create"),
        {
            "name": "MES 项目",
            "account": account.pk,
            "owner": org.rep_a1.pk,
            "amount": "380000.00",
            "currency": "CNY",
        },
    )

    deal = Opportunity.objects.get(name="MES 项目")
    assert response.status_code == 302
    assert deal.stage.code == "lead" and deal.amount == Decimal("380000.00")
    assert StageChange.objects.filter(opportunity=deal, from_stage=None).count() == 1


def test_someone_elses_account_cannot_be_chosen_for_a_deal(client, org):
    foreign = AccountFactory(owner=org.rep_b1)
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("opportunity_create"),
        {
            "name": "偷单",
            "account": foreign.pk,
            "owner": org.rep_a1.pk,
            "amount": "1",
            "currency": "CNY",
        },
    )

    assert response.status_code == 422
    assert "account" in response.context["form"].errors
    assert not Opportunity.objects.filter(name="偷单").exists()


def test_stage_change_from_the_edit_page_is_logged_and_bumps_the_version(client, org):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    client.force_login(org.rep_a1)
    url = reverse("opportunity_edit", args=[deal.pk])
    data = _form_values(client.get(url))
    data["stage"] = stage("proposal").pk

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert deal.stage.code == "proposal" and deal.version == 2
    change = StageChange.objects.get(opportunity=deal)
    assert (change.from_stage.code, change.to_stage.code) == ("qualified", "proposal")
    assert AuditEntry.objects.filter(object_id=deal.pk, action="update", source="web").exists()


def test_lost_without_a_reason_is_refused_on_the_loss_reason_field(client, org):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    client.force_login(org.rep_a1)
    url = reverse("opportunity_edit", args=[deal.pk])
    data = _form_values(client.get(url))
    data["stage"] = stage("lost").pk

    response = client.post(url, data)

    assert response.status_code == 422
    assert "loss_reason" in response.context["form"].errors
    deal.refresh_from_db()
    assert deal.stage.code == "qualified" and deal.version == 1


def test_lost_with_a_reason_closes_the_deal(client, org):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    reason = LossReason.objects.first() or LossReason.objects.create(code="price", name="价格")
    client.force_login(org.rep_a1)
    url = reverse("opportunity_edit", args=[deal.pk])
    data = _form_values(client.get(url)) | {"stage": stage("lost").pk, "loss_reason": reason.pk}

    assert client.post(url, data).status_code == 302
    deal.refresh_from_db()
    assert deal.closed_at is not None


def test_stale_edit_gets_409_shows_both_values_and_keeps_the_newer_one(client, org):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1), next_step="初访")
    client.force_login(org.rep_a1)
    url = reverse("opportunity_edit", args=[deal.pk])
    stale_form = _form_values(client.get(url))
    # Meanwhile the manager saves a change.
    client.force_login(org.manager_a)
    first = _form_values(client.get(url)) | {"next_step": "经理定的下一步"}
    assert client.post(url, first).status_code == 302

    client.force_login(org.rep_a1)
    response = client.post(url, stale_form | {"next_step": "我的下一步"})

    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="conflict"' in html
    assert "经理定的下一步" in html  # their value, shown
    assert 'value="我的下一步"' in html  # mine, still in the form
    assert 'name="version" value="2"' in html  # saving again is a deliberate overwrite
    deal.refresh_from_db()
    assert deal.next_step == "经理定的下一步" and deal.version == 2


def test_saving_again_after_a_conflict_applies_the_users_change(client, org):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    client.force_login(org.rep_a1)
    url = reverse("opportunity_edit", args=[deal.pk])
    stale_form = _form_values(client.get(url))
    Opportunity.objects.filter(pk=deal.pk).update(version=2, next_step="别人改的")
    conflict = client.post(url, stale_form | {"next_step": "我的"})
    assert conflict.status_code == 409

    retry = client.post(url, _form_values(conflict))

    assert retry.status_code == 302
    deal.refresh_from_db()
    assert deal.next_step == "我的" and deal.version == 3


def test_order_created_with_lines_gets_totals_from_the_lines(client, org):
    account = AccountFactory(owner=org.rep_a1)
    widget = ProductFactory(list_price=Decimal("1000.00"), cost=Decimal("600.00"))
    gadget = ProductFactory(
        list_price=Decimal("250.00"), minimum_price=Decimal("150.00"), cost=Decimal("100.00")
    )
    client.force_login(org.rep_a1)
    data = {
        "number": "SO-WEB-1",
        "account": account.pk,
        "owner": org.rep_a1.pk,
        "order_date": "2025-03-01",
        "status": "confirmed",
        "currency": "CNY",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-product": widget.pk,
        "lines-0-quantity": "2",
        "lines-0-discount_pct": "10",
        "lines-1-product": gadget.pk,
        "lines-1-quantity": "4",
        "lines-1-unit_price": "200.00",
    }

    response = client.post(reverse("order_create"), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get(number="SO-WEB-1")
    assert order.total == Decimal("2600.00")  # 2×1000×0.9 + 4×200
    assert order.cost_total == Decimal("1600.00") and order.margin == Decimal("1000.00")
    assert order.lines.count() == 2


def test_order_without_lines_is_refused(client, org):
    account = AccountFactory(owner=org.rep_a1)
    client.force_login(org.rep_a1)
    data = {
        "number": "SO-WEB-2",
        "account": account.pk,
        "owner": org.rep_a1.pk,
        "order_date": "2025-03-01",
        "status": "confirmed",
        "currency": "CNY",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "200",
    }

    response = client.post(reverse("order_create"), data)

    assert response.status_code == 422
    assert not Order.objects.filter(number="SO-WEB-2").exists()


def test_finance_records_a_payment_that_settles_the_invoice(client, org):
    invoice = InvoiceFactory(
        order=OrderFactory(account=AccountFactory(owner=org.rep_a1)), amount=Decimal("500.00")
    )
    client.force_login(org.finance)

    response = client.post(
        reverse("payment_create"),
        {
            "invoice": invoice.pk,
            "amount": "500.00",
            "paid_at": "2025-03-02T10:00",
            "method": "bank_transfer",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_amount == Decimal("500.00")
    payment = Payment.objects.get(invoice=invoice)
    assert payment.account_id == invoice.account_id
    assert timezone.localtime(payment.paid_at).hour == 10  # typed as local time


def test_overpayment_is_refused_on_the_amount_field_and_nothing_is_saved(client, org):
    invoice = InvoiceFactory(
        order=OrderFactory(account=AccountFactory(owner=org.rep_a1)), amount=Decimal("500.00")
    )
    client.force_login(org.finance)

    response = client.post(
        reverse("payment_create"),
        {
            "invoice": invoice.pk,
            "amount": "800.00",
            "paid_at": "2025-03-02T10:00",
            "method": "bank_transfer",
        },
    )

    assert response.status_code == 422
    assert "amount" in response.context["form"].errors
    assert not Payment.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).paid_amount == Decimal("0")


def test_task_created_for_today_is_assigned_to_the_writer_by_default(client, org):
    client.force_login(org.rep_a1)
    due = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reverse("task_create"),
        {
            "title": "回访",
            "kind": "follow_up",
            "due_at": due,
            "status": "open",
            "assignee": org.rep_a1.pk,
        },
    )

    assert response.status_code == 302
    assert org.rep_a1.tasks.filter(title="回访").exists()


def test_manager_may_hand_a_task_to_a_rep_in_the_team_but_not_outside(client, org):
    client.force_login(org.manager_a)
    due = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    base = {"title": "辅导", "kind": "coaching", "due_at": due, "status": "open"}

    inside = client.post(reverse("task_create"), base | {"assignee": org.rep_a2.pk})
    outside = client.post(
        reverse("task_create"), base | {"title": "越权", "assignee": org.rep_b1.pk}
    )

    assert inside.status_code == 302
    assert outside.status_code == 422 and "assignee" in outside.context["form"].errors
