"""The shell: login (with throttling), logout, language, navigation by role, search, alerts."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from salesloop.activities.models import TaskStatus
from salesloop.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_anonymous_visitor_is_sent_to_the_login_page(client, db):
    response = client.get(reverse("account_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_with_csrf_token_and_local_assets(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "csrfmiddlewaretoken" in body
    assert "/static/bootstrap/css/bootstrap.min.css" in body
    assert "/static/htmx/htmx.min.js" in body
    assert "http://" not in body.replace("http://testserver", "") and "https://" not in body


@pytest.mark.parametrize(
    "path",
    [
        "bootstrap/css/bootstrap.min.css",
        "bootstrap/js/bootstrap.bundle.min.js",
        "htmx/htmx.min.js",
        "plotly/plotly.min.js",
        "web/app.css",
        "web/app.js",
    ],
)
def test_static_assets_are_found_in_installed_packages(path):
    from django.contrib.staticfiles import finders

    assert finders.find(path), path


def test_login_puts_the_saved_language_in_session_and_cookie(client, org):
    org.rep_a1.language = "en"
    org.rep_a1.save()

    response = client.post(reverse("login"), {"username": "rep_a1", "password": "pass-1234-word"})

    assert response.status_code == 302
    assert client.session["user_language"] == "en"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_wrong_password_shows_a_clear_error_without_logging_in(client, org):
    response = client.post(reverse("login"), {"username": "rep_a1", "password": "wrong"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors


@pytest.mark.django_db
def test_repeated_failures_lock_the_username_for_that_address_even_with_the_right_password(
    client, org, settings
):
    settings.LOGIN_THROTTLE_FAILURES = 3
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 600
    for _ in range(3):
        client.post(reverse("login"), {"username": "rep_a1", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "rep_a1", "password": "pass-1234-word"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert [e.code for e in response.context["form"].errors.as_data()["__all__"]] == ["locked"]
    other_address = client.post(
        reverse("login"),
        {"username": "rep_a1", "password": "pass-1234-word"},
        REMOTE_ADDR="10.9.9.9",
    )
    assert other_address.status_code == 302


def test_a_success_before_the_limit_resets_the_failure_count(client, org, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    for _ in range(2):
        client.post(reverse("login"), {"username": "rep_a1", "password": "wrong"})
    assert (
        client.post(
            reverse("login"), {"username": "rep_a1", "password": "pass-1234-word"}
        ).status_code
        == 302
    )
    client.post(reverse("logout"))
    for _ in range(2):
        client.post(reverse("login"), {"username": "rep_a1", "password": "wrong"})

    assert (
        client.post(
            reverse("login"), {"username": "rep_a1", "password": "pass-1234-word"}
        ).status_code
        == 302
    )


def test_logout_needs_a_post_and_ends_the_session(client, org):
    client.force_login(org.rep_a1)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code in (200, 302)
    assert "_auth_user_id" not in client.session


def test_forms_refuse_a_post_without_csrf_token(org):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(org.rep_a1)

    response = csrf_client.post(reverse("account_create"), {"name": "X", "owner": org.rep_a1.pk})

    assert response.status_code == 403


def test_session_expires_after_the_idle_timeout_and_is_renewed_on_each_request(client, org):
    client.force_login(org.rep_a1)

    response = client.get(reverse("account_list"))

    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE


def test_language_switch_saves_the_users_choice_and_renders_in_that_language(client, org):
    client.force_login(org.rep_a1)

    response = client.post(
        reverse("language_set"), {"language": "en", "next": reverse("account_list")}
    )

    assert response.status_code == 302
    org.rep_a1.refresh_from_db()
    assert org.rep_a1.language == "en"
    assert client.session["user_language"] == "en"
    page = client.get(reverse("account_list"))
    assert page.context["LANGUAGE_CODE"] == "en"
    assert '<html lang="en">' in page.content.decode()


def test_unknown_language_is_refused_with_400(client, org):
    client.force_login(org.rep_a1)

    response = client.post(reverse("language_set"), {"language": "xx"})

    assert response.status_code == 400
    org.rep_a1.refresh_from_db()
    assert org.rep_a1.language == ""


def test_password_change_needs_the_old_password(client, org):
    client.force_login(org.rep_a1)
    url = reverse("password_change")

    wrong = client.post(
        url,
        {
            "old_password": "nope",
            "new_password1": "Tz9!longer-pass",
            "new_password2": "Tz9!longer-pass",
        },
    )
    right = client.post(
        url,
        {
            "old_password": "pass-1234-word",
            "new_password1": "Tz9!longer-pass",
            "new_password2": "Tz9!longer-pass",
        },
    )

    assert wrong.status_code == 200 and wrong.context["form"].errors["old_password"]
    assert right.status_code == 302
    org.rep_a1.refresh_from_db()
    assert org.rep_a1.check_password("Tz9!longer-pass")


def _nav_keys(response) -> set[str]:
    return (
        {link.key for section in response.context["sections"] for link in section.links}
        if "sections" in response.context
        else set()
    )


def _nav_html(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("account_list")).content.decode()


def test_rep_navigation_offers_their_own_book_and_no_team_views(client, org):
    html = _nav_html(client, org.rep_a1)

    assert 'data-nav="account_list"' in html and 'data-nav="task_list"' in html
    assert "account_list:mine" not in html
    assert 'data-nav="invoice_list"' in html  # under "Records": their own accounts' invoices


def test_lead_navigation_offers_mine_and_team_views(client, org):
    html = _nav_html(client, org.lead_a1)

    assert 'data-nav="opportunity_list:mine"' in html
    assert f"owner_id={org.lead_a1.pk}" in html
    assert 'data-nav="opportunity_list"' in html


def test_finance_navigation_starts_from_money_and_omits_what_finance_cannot_read(client, org):
    html = _nav_html(client, org.finance)

    for key in ("invoice_list", "payment_list", "order_list"):
        assert f'data-nav="{key}"' in html
    assert 'data-nav="activity_list"' not in html
    assert 'data-nav="contact_list"' not in html


def test_legal_navigation_has_contracts(client, org):
    html = _nav_html(client, org.legal)

    assert 'data-nav="contract_list"' in html
    assert 'data-nav="lead_list"' not in html


def test_global_search_finds_by_name_phone_and_email_only_in_the_visible_book(client, org):
    mine = AccountFactory(owner=org.rep_a1, name="华东精密机械")
    theirs = AccountFactory(owner=org.rep_b1, name="华东精密电子")
    contact = ContactFactory(
        account=mine, name="王经理", phone="13900001111", email="wang@example.com"
    )
    ContactFactory(account=theirs, name="李经理", phone="13900002222", email="li@example.com")
    lead = LeadFactory(owner=org.rep_a1, name="展会线索", email="lead@example.com")
    deal = OpportunityFactory(account=mine, name="精密产线改造")
    client.force_login(org.rep_a1)

    by_name = client.get(reverse("search"), {"q": "华东精密"}, HTTP_HX_REQUEST="true")
    by_phone = client.get(reverse("search"), {"q": "1390000"}, HTTP_HX_REQUEST="true")
    by_mail = client.get(reverse("search"), {"q": "example.com"}, HTTP_HX_REQUEST="true")

    assert by_name.status_code == 200
    assert (
        "华东精密机械" in by_name.content.decode()
        and "华东精密电子" not in by_name.content.decode()
    )
    assert reverse("opportunity_detail", args=[deal.pk]) in by_name.content.decode()
    assert "王经理" in by_phone.content.decode() and "李经理" not in by_phone.content.decode()
    assert reverse("contact_detail", args=[contact.pk]) in by_mail.content.decode()
    assert reverse("lead_detail", args=[lead.pk]) in by_mail.content.decode()
    assert "li@example.com" not in by_mail.content.decode()
    assert "<html" not in by_name.content.decode()  # a fragment for the dropdown


def test_search_without_htmx_is_a_full_page_and_short_queries_find_nothing(client, org):
    AccountFactory(owner=org.rep_a1, name="A公司")
    client.force_login(org.rep_a1)

    response = client.get(reverse("search"), {"q": "A"})

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert response.context["groups"] == []


def test_search_query_count_does_not_grow_with_matches(client, org, django_assert_max_num_queries):
    for i in range(30):
        ContactFactory(
            account=AccountFactory(owner=org.rep_a1, name=f"搜索客户{i}"), name=f"搜索联系人{i}"
        )
    client.force_login(org.rep_a1)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("search"), {"q": "搜索"}, HTTP_HX_REQUEST="true")
    assert response.content.decode().count("搜索联系人") == 8  # the limit per group, all rendered


def test_header_counts_the_users_overdue_and_due_today_tasks_only(client, org):
    now = timezone.now()
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=0, microsecond=0)
    TaskFactory(assignee=org.rep_a1, due_at=now - dt.timedelta(days=2), title="逾期任务")
    TaskFactory(assignee=org.rep_a1, due_at=now - dt.timedelta(hours=1), title="刚过期")
    if end_of_today > now + dt.timedelta(minutes=1):
        TaskFactory(assignee=org.rep_a1, due_at=end_of_today, title="今天到期")
    TaskFactory(assignee=org.rep_a1, due_at=now + dt.timedelta(days=3), title="以后")
    TaskFactory(assignee=org.rep_a1, due_at=now - dt.timedelta(days=1), status=TaskStatus.DONE)
    TaskFactory(assignee=org.rep_a1b, due_at=now - dt.timedelta(days=1))
    client.force_login(org.rep_a1)

    page = client.get(reverse("account_list"))
    dropdown = client.get(reverse("task_alerts"), HTTP_HX_REQUEST="true")

    due_today = 1 if end_of_today > now + dt.timedelta(minutes=1) else 0
    assert f'data-testid="alerts-count">{2 + due_today}<' in page.content.decode()
    html = dropdown.content.decode()
    assert '<span class="badge bg-danger">2</span>' in html
    assert "逾期任务" in html and "刚过期" in html and "以后" not in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_shell_renders_in_both_languages(client, org, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(org.manager_a)

    response = client.get(reverse("opportunity_list"))

    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()
