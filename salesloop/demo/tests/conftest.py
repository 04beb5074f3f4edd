"""One demo build shared by a test module: building takes seconds, reading it takes milliseconds."""

import datetime as dt

import pytest
from django.db import transaction

#: A fixed "today" so every run of the tests sees the same data.
AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, request):
    """Build the module's ``DEMO_SIZE`` once, inside a transaction rolled back afterwards."""
    from salesloop.demo.services import demo_build

    size = request.module.DEMO_SIZE
    with django_db_blocker.unblock(), transaction.atomic():
        report = demo_build(size=size, seed=getattr(request.module, "DEMO_SEED", 0), as_of=AS_OF)
        yield report
        transaction.set_rollback(True)
