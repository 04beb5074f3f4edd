import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The test organisation's people get passwords; a fast hasher keeps set-up from dominating."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
