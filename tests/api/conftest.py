"""Settings for the API tests."""

import pytest
from django.test import override_settings


@pytest.fixture(autouse=True, scope="module")
def fast_password_hashing():
    """The default hasher takes ~0.3 s per password by design; test organisations make dozens."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def fresh_cache():
    """Failed logins are counted in the cache (``org.login_throttle``); without a clean slate,
    the wrong passwords sent by one test would lock a user out in the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
