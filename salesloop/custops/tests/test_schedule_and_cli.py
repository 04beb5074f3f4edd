"""The daily recompute is a scheduled job of the automation scheduler, and a CLI command."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from salesloop.automation.jobs import JOBS
from salesloop.automation.models import ScheduledJob
from salesloop.custops.models import AccountRfm, ScoringRun
from salesloop.custops.tests.factories import orders
from salesloop.testing.factories import AccountFactory


def test_the_recompute_is_scheduled_daily_and_its_job_scores_the_slots_day(org):
    job = ScheduledJob.objects.get(name="custops_recompute")
    account = AccountFactory(owner=org.rep_a1)
    orders(account, (dt.date(2025, 3, 1), "60000.00"))
    slot = timezone.make_aware(dt.datetime(2025, 3, 10, 5, 30))

    result = JOBS["custops_recompute"](now=slot, slot=slot)

    assert (job.kind, job.at_time) == ("daily", dt.time(5, 30))
    assert result["accounts"] == 1
    assert ScoringRun.objects.get(pk=result["run"]).as_of == dt.date(2025, 3, 10)
    assert AccountRfm.objects.get(account=account).recency_days == 9


@pytest.mark.django_db
def test_the_command_reports_the_run_and_refuses_a_bad_date():
    out = StringIO()

    call_command("custops_recompute", "--as-of", "2025-06-30", stdout=out)

    assert "2025-06-30: 0 accounts" in out.getvalue()
    with pytest.raises(CommandError, match="not a date"):
        call_command("custops_recompute", "--as-of", "2025-02-30")
