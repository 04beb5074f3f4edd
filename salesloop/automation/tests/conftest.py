import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The test organisation's people get passwords; a fast hasher keeps set-up from dominating."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _only_the_automations_own_seeds(db, monkeypatch):
    """Other apps plug their own rules and jobs into the engine (customer operations, forecasting,
    scoring do); they are tested there. Here the week and the counts are those of the automation's
    own seeds."""
    from salesloop.automation import jobs
    from salesloop.automation.defaults import DEFAULT_JOBS, DEFAULT_RULES
    from salesloop.automation.models import Rule, ScheduledJob

    monkeypatch.setattr(jobs, "APP_SCHEDULES", [])

    Rule.objects.exclude(code__in=[r["code"] for r in DEFAULT_RULES]).update(is_active=False)
    ScheduledJob.objects.exclude(name__in=[j[0] for j in DEFAULT_JOBS]).update(is_active=False)
