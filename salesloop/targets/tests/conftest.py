import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The org fixture creates a dozen users; PBKDF2 would spend seconds hashing test passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
