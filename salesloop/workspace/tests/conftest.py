import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """``org`` makes 14 users; a fast hasher keeps these tests about behaviour, not PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
