"""The Django admin: who gets in, every model's pages, and the audit trail of changes made there."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from salesloop.audit.models import AuditAction, AuditEntry
from salesloop.customers.models import Account
from salesloop.org import access
from salesloop.org.models import ApiToken, OrgSettings, Role, Team, TeamKind
from salesloop.pipeline.models import Opportunity, StageChange
from salesloop.sales.models import Invoice, Payment
from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    PaymentFactory,
    ProductFactory,
    TaskFactory,
    UserFactory,
    stage,
)

MANAGED_APPS = {"org", "customers", "pipeline", "activities", "sales", "audit"}
AUDITED = {"account", "opportunity", "order", "payment", "invoice", "contract"}


@pytest.fixture
def root(db):
    return UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def browser(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


def _url(obj_or_model, view: str, *args) -> str:
    meta = obj_or_model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def form_data(response) -> dict[str, Any]:
    """The POST body the change form would send as rendered (main form and inline formsets)."""
    data: dict[str, Any] = {}

    def add(form) -> None:
        for name, field in form.fields.items():
            key, value = form.add_prefix(name), form[name].value()
            if isinstance(field, forms.SplitDateTimeField):
                if value:
                    value = value if isinstance(value, dt.datetime) else field.to_python(value)
                    data[f"{key}_0"], data[f"{key}_1"] = value.date().isoformat(), value.strftime("%H:%M:%S")
            elif isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


# Who gets in --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "staff", "superuser", "allowed"),
    [
        (Role.ADMIN, True, False, True),
        (Role.FINANCE, True, False, True),
        (Role.REP, True, True, True),
        (Role.ADMIN, False, False, False),
        (Role.REP, True, False, False),
        (Role.MANAGER, True, False, False),
        (Role.DIRECTOR, True, False, False),
    ],
    ids=[
        "admin-staff",
        "finance-staff",
        "superuser",
        "admin-not-staff",
        "rep-staff",
        "manager-staff",
        "director-staff",
    ],
)
def test_only_staff_outside_the_book_scoped_sales_line_get_into_the_admin(db, role, staff, superuser, allowed):
    person = UserFactory(username=f"p-{role}-{staff}-{superuser}", role=role, is_staff=staff, is_superuser=superuser)
    client = Client()
    client.force_login(person)

    response = client.get(reverse("admin:index"))

    assert response.status_code == (200 if allowed else 302)


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    response = Client().get(_url(Account, "changelist"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


# Every page renders -------------------------------------------------------------------------


def _registered():
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in MANAGED_APPS),
        key=lambda m: m._meta.label,
    )


def test_every_model_of_the_core_apps_is_in_the_admin():
    from django.apps import apps

    models = {m for app in MANAGED_APPS for m in apps.get_app_config(app).get_models()}
    inline_only = {"sales.orderline"}
    assert {m._meta.label_lower for m in models} - {m._meta.label_lower for m in _registered()} == inline_only


def _one_of_each(org) -> None:
    account = AccountFactory(owner=org.rep_a1)
    ContactFactory(account=account)
    LeadFactory(owner=org.rep_a1)
    OpportunityFactory(account=account)
    ActivityFactory(account=account)
    TaskFactory(assignee=org.rep_a1)
    order = OrderFactory(account=account)
    PaymentFactory(invoice=InvoiceFactory(order=order, account=account), account=account)
    ContractFactory(account=account)
    ProductFactory()
    deal = Opportunity.objects.first()
    StageChange.objects.create(opportunity=deal, to_stage=deal.stage, changed_at=timezone.now(), amount=deal.amount)
    ApiToken.issue(user=org.rep_a1, name="admin page")
    OrgSettings.current()


@pytest.mark.parametrize("model", _registered(), ids=lambda m: m._meta.label)
def test_every_admin_page_renders(org, browser, model):
    _one_of_each(org)
    AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Account), object_id=1, object_repr="x", action="create"
    )
    model_admin = admin.site._registry[model]
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model._meta.label} to open"

    assert browser.get(_url(model, "changelist")).status_code == 200
    assert browser.get(_url(model, "changelist"), {"q": "客户"}).status_code == 200
    assert browser.get(_url(model, "change", obj.pk)).status_code == 200
    if model_admin.has_add_permission(type("R", (), {"user": browser_user(browser)})()):
        assert browser.get(_url(model, "add")).status_code == 200


def browser_user(client: Client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="root")


def test_big_foreign_keys_are_never_rendered_as_a_full_select(org, browser):
    for _ in range(30):
        AccountFactory(owner=org.rep_a1)
    deal = OpportunityFactory(account=Account.objects.first())

    page = browser.get(_url(deal, "change", deal.pk)).content.decode()

    assert page.count("<option") < 40, "accounts and people must be autocompleted, not listed"


def test_a_changelist_costs_the_same_queries_for_10_rows_as_for_50(org, browser):
    for _ in range(10):
        OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    browser.get(_url(Opportunity, "changelist"))
    with CaptureQueriesContext(connection) as few:
        browser.get(_url(Opportunity, "changelist"))
    for _ in range(40):
        OpportunityFactory(account=AccountFactory(owner=org.rep_b1))

    with CaptureQueriesContext(connection) as many:
        response = browser.get(_url(Opportunity, "changelist"))

    assert response.status_code == 200
    assert len(many) == len(few)


# Audit trail --------------------------------------------------------------------------------


def test_adding_an_account_in_the_admin_writes_a_create_entry(org, browser, root):
    page = browser.get(_url(Account, "add"))
    data = {**form_data(page), "name": "后台新增客户", "owner": org.rep_a1.pk, "tags": "[]"}

    response = browser.post(_url(Account, "add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    account = Account.objects.get(name="后台新增客户")
    entry = AuditEntry.objects.get(object_id=account.pk, content_type__model="account")
    assert (entry.action, entry.source, entry.actor) == (AuditAction.CREATE, "admin", root)
    assert entry.changes["name"] == [None, "后台新增客户"]
    assert entry.changes["owner_id"] == [None, org.rep_a1.pk]


def test_changing_an_account_in_the_admin_writes_before_and_after_and_bumps_the_version(org, browser, root):
    account = AccountFactory(owner=org.rep_a1, city="杭州市")
    page = browser.get(_url(account, "change", account.pk))

    response = browser.post(_url(account, "change", account.pk), {**form_data(page), "city": "宁波市"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.city, account.version) == ("宁波市", 2)
    entry = AuditEntry.objects.get(object_id=account.pk, action=AuditAction.UPDATE)
    assert entry.changes == {"city": ["杭州市", "宁波市"]}
    assert (entry.source, entry.actor) == ("admin", root)


def test_an_admin_save_over_a_newer_version_is_refused(org, browser, api_as):
    account = AccountFactory(owner=org.rep_a1, city="杭州市")
    page = browser.get(_url(account, "change", account.pk))
    api_edit = api_as(org.rep_a1).patch_json(f"/api/accounts/{account.pk}", {"city": "温州市", "version": 1})
    assert api_edit.status_code == 200

    response = browser.post(_url(account, "change", account.pk), {**form_data(page), "phone": "0571-1"})

    assert response.status_code == 200, "the form comes back with an error"
    assert response.context["adminform"].form.non_field_errors()
    account.refresh_from_db()
    assert (account.city, account.phone, account.version) == ("温州市", "", 2)


def test_an_api_client_holding_the_version_from_before_an_admin_edit_gets_409(org, browser, api_as):
    account = AccountFactory(owner=org.rep_a1)
    page = browser.get(_url(account, "change", account.pk))
    browser.post(_url(account, "change", account.pk), {**form_data(page), "city": "宁波市"})

    response = api_as(org.rep_a1).patch_json(f"/api/accounts/{account.pk}", {"city": "温州市", "version": 1})

    assert response.status_code == 409
    assert response.json()["current"]["city"] == "宁波市"


def test_deleting_in_the_admin_writes_a_delete_entry_with_the_last_values(org, browser, root):
    contract = ContractFactory(account=AccountFactory(owner=org.rep_a1), title="年度合同")

    response = browser.post(_url(contract, "delete", contract.pk), {"post": "yes"})

    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_id=contract.pk, content_type__model="contract")
    assert (entry.action, entry.source, entry.actor) == (AuditAction.DELETE, "admin", root)
    assert entry.changes["title"] == ["年度合同", None]


def test_the_bulk_delete_action_audits_each_record(org, browser):
    accounts = [AccountFactory(owner=org.rep_a1) for _ in range(3)]

    response = browser.post(
        _url(Account, "changelist"),
        {"action": "delete_selected", "_selected_action": [a.pk for a in accounts], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Account.objects.exists()
    deleted = set(AuditEntry.objects.filter(action=AuditAction.DELETE).values_list("object_id", flat=True))
    assert deleted == {a.pk for a in accounts}


def test_a_change_page_shows_the_records_history_and_links_to_its_full_log(org, browser, api_as):
    account = AccountFactory(owner=org.rep_a1, city="杭州市")
    other = AccountFactory(owner=org.rep_a1)
    api_as(org.rep_a1).patch_json(f"/api/accounts/{account.pk}", {"city": "宁波市", "version": 1})
    api_as(org.rep_a1).patch_json(f"/api/accounts/{other.pk}", {"city": "温州市", "version": 1})

    page = browser.get(_url(account, "change", account.pk)).content.decode()

    assert "city: 杭州市 → 宁波市" in page
    assert "温州市" not in page
    content_type = ContentType.objects.get_for_model(Account)
    query = f"content_type__id__exact={content_type.pk}&object_id__exact={account.pk}"
    log_url = f"{_url(AuditEntry, 'changelist')}?{query}"
    assert log_url.replace("&", "&amp;") in page
    log = browser.get(log_url)
    assert log.status_code == 200
    assert [e.object_id for e in log.context["cl"].result_list] == [account.pk]


def test_the_audit_log_cannot_be_edited_or_deleted_in_the_admin(org, browser):
    entry = AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Account), object_id=1, object_repr="x", action="create"
    )

    assert browser.post(_url(entry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_stage_move_in_the_admin_is_logged_and_closes_the_deal(org, browser):
    deal = OpportunityFactory(account=AccountFactory(owner=org.rep_a1))
    page = browser.get(_url(deal, "change", deal.pk))

    response = browser.post(_url(deal, "change", deal.pk), {**form_data(page), "stage": stage("won").pk})

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    deal.refresh_from_db()
    assert deal.stage.code == "won" and deal.closed_at is not None
    move = StageChange.objects.get(opportunity=deal)
    assert (move.from_stage.code, move.to_stage.code) == ("qualified", "won")
    entry = AuditEntry.objects.get(object_id=deal.pk, action=AuditAction.UPDATE, content_type__model="opportunity")
    assert entry.changes["stage_id"] == [stage("qualified").pk, stage("won").pk]


def test_correcting_a_payment_in_the_admin_resettles_its_invoice(org, browser):
    account = AccountFactory(owner=org.rep_a1)
    invoice = InvoiceFactory(
        account=account, order=None, amount=Decimal("1000.00"), paid_amount=Decimal("1000.00"), status="paid"
    )
    payment = PaymentFactory(invoice=invoice, account=account, amount=Decimal("1000.00"))
    page = browser.get(_url(payment, "change", payment.pk))

    response = browser.post(_url(payment, "change", payment.pk), {**form_data(page), "amount": "600.00"})

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    invoice.refresh_from_db()
    assert (invoice.paid_amount, invoice.status) == (Decimal("600.00"), "open")
    changes = AuditEntry.objects.get(object_id=invoice.pk, content_type__model="invoice").changes
    assert changes == {"paid_amount": ["1000.00", "600.00"], "status": ["paid", "open"]}


def test_a_payment_corrected_above_the_invoice_balance_is_refused_in_the_admin(org, browser):
    account = AccountFactory(owner=org.rep_a1)
    invoice = InvoiceFactory(account=account, order=None, amount=Decimal("1000.00"))
    PaymentFactory(invoice=invoice, account=account, amount=Decimal("700.00"))
    payment = PaymentFactory(invoice=invoice, account=account, amount=Decimal("100.00"))
    page = browser.get(_url(payment, "change", payment.pk))

    response = browser.post(_url(payment, "change", payment.pk), {**form_data(page), "amount": "300.01"})

    assert response.status_code == 200
    assert "amount" in response.context["adminform"].form.errors
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("100.00")


def test_deleting_a_payment_in_the_admin_reopens_its_invoice(org, browser):
    account = AccountFactory(owner=org.rep_a1)
    invoice = InvoiceFactory(
        account=account, order=None, amount=Decimal("100.00"), paid_amount=Decimal("100.00"), status="paid"
    )
    payment = PaymentFactory(invoice=invoice, account=account, amount=Decimal("100.00"))

    browser.post(_url(payment, "delete", payment.pk), {"post": "yes"})

    invoice = Invoice.objects.get(pk=invoice.pk)
    assert (invoice.paid_amount, invoice.status) == (Decimal("0.00"), "open")


def test_moving_a_team_in_the_admin_moves_its_subtree_and_what_leaders_see(org, browser):
    account = AccountFactory(owner=org.rep_b1)
    page = browser.get(_url(org.group_b1, "change", org.group_b1.pk))

    response = browser.post(_url(org.group_b1, "change", org.group_b1.pk), {**form_data(page), "parent": org.team_a.pk})

    assert response.status_code == 302
    org.group_b1.refresh_from_db()
    assert org.group_b1.path == f"{org.team_a.path}{org.group_b1.pk}/"
    manager_a = type(org.manager_a).objects.select_related("team").get(pk=org.manager_a.pk)
    assert access.restrict(Account.objects.all(), manager_a).filter(pk=account.pk).exists()


def test_a_team_cannot_be_moved_under_its_own_subtree(org, browser):
    page = browser.get(_url(org.team_a, "change", org.team_a.pk))

    response = browser.post(_url(org.team_a, "change", org.team_a.pk), {**form_data(page), "parent": org.group_a1.pk})

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert Team.objects.get(pk=org.team_a.pk).parent_id == org.region.pk


def test_moving_a_team_through_the_api_moves_its_subtree_too(org, api_as):
    sub = Team.objects.create(name="Sub B", kind=TeamKind.GROUP, parent=org.group_b1)

    response = api_as(org.admin).patch_json(f"/api/teams/{org.team_b.pk}", {"parent_id": org.team_a.pk})

    assert response.status_code == 200, response.content
    sub.refresh_from_db()
    assert sub.path == f"{org.team_a.path}{org.team_b.pk}/{org.group_b1.pk}/{sub.pk}/"
    cycle = api_as(org.admin).patch_json(f"/api/teams/{org.team_a.pk}", {"parent_id": sub.pk})
    assert cycle.status_code == 422
    assert "parent_id" in cycle.json()["errors"]
