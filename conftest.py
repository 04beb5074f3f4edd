"""Fixtures shared by every test: an organisation with one person per role, and API clients."""

import pytest
from django.test import Client

from salesloop.org.models import ApiToken, User
from salesloop.testing.org import Org, build_org


def pytest_configure(config):
    """Tests hash passwords with MD5: PBKDF2's deliberate slowness is not what they test."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    """Every transactional test must roll back by serialization.

    A plain transactional test flushes the database and lets ``post_migrate`` re-create the
    content types under new ids; a later serialized test (the browser tests) then cannot restore
    the migrations' reference data and errors on PostgreSQL, depending on how xdist spreads the
    tests. Refuse the mix at collection time instead of finding it in CI.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(f"{item.nodeid}: transactional tests need serialized_rollback=True")


@pytest.fixture
def org(db) -> Org:
    return build_org()


class ApiClient(Client):
    """A Django test client that speaks JSON to /api with a bearer token."""

    def __init__(self, user: User, **kwargs):
        _token, key = ApiToken.issue(user=user, name="test")
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {key}", **kwargs)
        self.user = user

    def post_json(self, path, data):
        return self.post(path, data=data, content_type="application/json")

    def patch_json(self, path, data):
        return self.patch(path, data=data, content_type="application/json")


@pytest.fixture
def api_as(db):
    """``api_as(user)`` → a JSON client authenticated as ``user`` with a token."""
    return ApiClient


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (login throttles and lookups live there)."""
    from django.core.cache import cache

    cache.clear()
    yield
