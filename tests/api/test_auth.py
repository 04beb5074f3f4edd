"""Authentication: bearer tokens for programs, the session cookie (with CSRF) for the browser."""

from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from salesloop.org.models import ApiToken
from salesloop.testing.factories import AccountFactory

PASSWORD = "pass-1234-word"  # salesloop.testing.factories.UserFactory


def _token_request(username: str, password: str):
    return Client().post(
        "/api/auth/token", {"username": username, "password": password}, content_type="application/json"
    )


def test_a_password_is_exchanged_for_a_token_that_then_authenticates(org):
    response = _token_request("rep_a1", PASSWORD)

    assert response.status_code == 201
    token = response.json()["token"]
    me = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == "rep_a1"
    stored = ApiToken.objects.get(user=org.rep_a1)
    assert stored.key_hash != token and stored.key_hash == ApiToken.hash_key(token), "only the hash is stored"


def test_a_wrong_password_gets_401_and_no_token(org):
    response = _token_request("rep_a1", "not-the-password")

    assert response.status_code == 401
    assert response.json()["message"]
    assert not ApiToken.objects.exists()


def test_an_unknown_user_gets_the_same_401_as_a_wrong_password(org):
    unknown = _token_request("nobody", PASSWORD)
    wrong = _token_request("rep_a1", "not-the-password")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_an_inactive_user_gets_no_token_and_their_old_tokens_stop_working(org):
    _token, key = ApiToken.issue(user=org.rep_a1, name="old")
    org.rep_a1.is_active = False
    org.rep_a1.save()

    assert _token_request("rep_a1", PASSWORD).status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/me").status_code == 401


def test_a_revoked_token_gets_401_on_reads_and_writes(org):
    token, key = ApiToken.issue(user=org.rep_a1, name="laptop")
    # enforce_csrf_checks: a real client is not exempted from CSRF the way Django's test client is.
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/me").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(revoked=True)

    assert client.get("/api/me").status_code == 401
    write = client.post("/api/accounts", {"name": "新客户"}, content_type="application/json")
    assert write.status_code == 401, write.content
    assert write.json()["message"]


def test_a_request_without_credentials_or_with_a_made_up_token_gets_401(org):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer made-up"}, {"HTTP_AUTHORIZATION": "Basic cmVwOnBhc3M="}):
        client = Client(enforce_csrf_checks=True, **headers)
        assert client.get("/api/accounts").status_code == 401
        assert client.post("/api/accounts", {"name": "x"}, content_type="application/json").status_code == 401


def test_a_token_write_needs_no_csrf_token(org):
    _token, key = ApiToken.issue(user=org.rep_a1, name="script")
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")

    response = client.post("/api/accounts", {"name": "脚本客户"}, content_type="application/json")

    assert response.status_code == 201


def test_the_browser_session_reads_without_csrf_but_writes_only_with_it(org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.rep_a1)
    assert browser.get("/api/me").status_code == 200

    refused = browser.post("/api/accounts", {"name": "跨站客户"}, content_type="application/json")
    assert refused.status_code == 403

    secret = get_random_string(32)
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    accepted = browser.post(
        "/api/accounts", {"name": "表单客户"}, content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )
    assert accepted.status_code == 201, accepted.content


def test_the_browser_session_needs_csrf_for_patch_and_delete_too(org):
    account = AccountFactory(owner=org.rep_a1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.rep_a1)

    patch = browser.patch(
        f"/api/accounts/{account.pk}", {"city": "苏州市", "version": 1}, content_type="application/json"
    )
    delete = browser.delete(f"/api/accounts/{account.pk}")

    assert (patch.status_code, delete.status_code) == (403, 403)
    account.refresh_from_db()
    assert account.city == "杭州市"


def test_token_endpoint_locks_after_repeated_failures_and_answers_429(org, client, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    for _ in range(3):
        bad = client.post(
            "/api/auth/token", {"username": "rep_a1", "password": "wrong"}, content_type="application/json"
        )
        assert bad.status_code == 401
    locked = client.post(
        "/api/auth/token", {"username": "rep_a1", "password": "pass-1234-word"}, content_type="application/json"
    )
    assert locked.status_code == 429
    # The message names the wait in seconds, in whichever language is active (zh-hans by default).
    assert str(settings.LOGIN_THROTTLE_WINDOW_SECONDS) in locked.json()["message"]
