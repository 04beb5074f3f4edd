"""Search-as-you-type choices are as restricted as pages; every page renders in both languages."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from salesloop.sales.models import Invoice
from salesloop.testing.factories import AccountFactory, ContactFactory, InvoiceFactory, OrderFactory
from salesloop.web.tests.records_helpers import KEYS, REP_EDITABLE, make


def test_lookup_offers_only_records_the_user_may_read(client, org):
    AccountFactory(owner=org.rep_a1, name="查找甲")
    AccountFactory(owner=org.rep_b1, name="查找乙")
    client.force_login(org.rep_a1)

    html = client.get(
        reverse("lookup", args=["account"]), {"q": "查找"}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "查找甲" in html and "查找乙" not in html
    assert html.lstrip().startswith("<option")


def test_contact_lookup_names_the_account(client, org):
    ContactFactory(account=AccountFactory(owner=org.rep_a1, name="港机"), name="赵工")
    client.force_login(org.rep_a1)

    html = client.get(
        reverse("lookup", args=["contact"]), {"q": "赵", "optional": "1"}
    ).content.decode()

    assert "赵工 · 港机" in html and '<option value="">' in html


def test_unknown_lookup_kind_is_404(client, org):
    client.force_login(org.rep_a1)

    assert client.get(reverse("lookup", args=["user"])).status_code == 404


def test_form_renders_only_the_chosen_record_not_every_account(client, org):
    for i in range(40):
        AccountFactory(owner=org.rep_a1, name=f"很多客户{i}")
    deal = make("opportunity", org.rep_a1)
    client.force_login(org.rep_a1)

    html = client.get(reverse("opportunity_edit", args=[deal.pk])).content.decode()

    assert "很多客户" not in html
    assert f'<option value="{deal.account_id}" selected>' in html


def test_a_record_found_by_lookup_but_not_readable_is_still_refused_on_save(client, org):
    foreign = AccountFactory(owner=org.rep_b1)
    client.force_login(org.rep_a1)

    response = client.post(reverse("contact_create"), {"account": foreign.pk, "name": "越界"})

    assert response.status_code == 422 and "account" in response.context["form"].errors


def test_finance_edits_an_invoice_with_versioning_and_audit(client, org):
    invoice = InvoiceFactory(order=OrderFactory(account=AccountFactory(owner=org.rep_a1)))
    client.force_login(org.finance)
    url = reverse("invoice_edit", args=[invoice.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}

    response = client.post(url, data | {"amount": "12345.67"})

    assert response.status_code == 302
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.amount == Decimal("12345.67") and invoice.version == 2
    assert (
        client.get(reverse("invoice_detail", args=[invoice.pk])).context["history"][0].source
        == "web"
    )
    client.force_login(org.rep_a1)
    assert client.get(url).status_code == 403  # the rep reads the invoice but finance keeps it


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_record_page_renders_in_both_languages(client, org, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(org.admin)
    marker = f'<html lang="{language}">'
    for key in KEYS:
        record = make(key, org.rep_a1)
        urls = [
            reverse(f"{key}_list"),
            reverse(f"{key}_detail", args=[record.pk]),
            reverse(f"{key}_create"),
        ]
        if key in REP_EDITABLE or key == "invoice":
            urls.append(reverse(f"{key}_edit", args=[record.pk]))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert marker in response.content.decode(), url
