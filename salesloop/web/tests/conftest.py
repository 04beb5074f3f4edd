import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The org fixture makes 14 users; PBKDF2 at production strength would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
