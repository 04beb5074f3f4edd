"""Same seed, same data; --if-empty and --reset do what they say; bad input is a clear error."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from salesloop.activities.models import Activity
from salesloop.customers.models import Account, Contact, Lead
from salesloop.demo.models import DemoDataset
from salesloop.demo.profile import SIZES
from salesloop.demo.services import DemoRefused, demo_build
from salesloop.demo.tests.conftest import AS_OF
from salesloop.org.models import OrgSettings, User
from salesloop.pipeline.models import Opportunity, Stage, StageChange
from salesloop.sales.models import Contract, Invoice, Order, Payment
from salesloop.testing.factories import UserFactory

XS = SIZES["XS"]
pytestmark = pytest.mark.django_db


def fingerprint(*, with_ids: bool = False) -> str:
    """A hash of aggregates and of every deal, activity and account.

    Ids of users and products come from the database's sequences, which a rolled-back test does
    not rewind, so rows are hashed in id order by their content; ``with_ids`` adds the ids that
    the generator itself assigns (and the keys between its rows).
    """
    parts = [
        [
            (m._meta.label, m.objects.count())
            for m in (
                Account,
                Contact,
                Lead,
                Opportunity,
                StageChange,
                Activity,
                Order,
                Invoice,
                Payment,
                Contract,
                User,
            )
        ],
        Order.objects.aggregate(Sum("total"), Sum("margin")),
        Payment.objects.aggregate(Sum("amount")),
        list(
            Opportunity.objects.values_list("stage__code")
            .annotate(n=Count("id"))
            .order_by("stage__code")
        ),
        list(
            Opportunity.objects.order_by("id").values_list(
                "name", "amount", "created_at", "closed_at", "owner__username"
            )
        ),
        list(
            Activity.objects.order_by("id").values_list("kind", "subject", "occurred_at", "outcome")
        ),
        list(
            Account.objects.order_by("id").values_list(
                "name", "city", "key_account_tier", "owner__username"
            )
        ),
        list(
            User.objects.order_by("username").values_list(
                "username", "display_name", "role", "team__name"
            )
        ),
    ]
    if with_ids:
        parts += [
            list(Contact.objects.order_by("id").values_list("id", "account_id")),
            list(
                StageChange.objects.order_by("id").values_list(
                    "id", "opportunity_id", "to_stage_id"
                )
            ),
            list(
                Activity.objects.order_by("id").values_list(
                    "id", "account_id", "opportunity_id", "lead_id"
                )
            ),
            list(
                Order.objects.order_by("id").values_list(
                    "id", "number", "account_id", "opportunity_id"
                )
            ),
            list(Payment.objects.order_by("id").values_list("id", "invoice_id", "account_id")),
        ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_same_seed_gives_identical_data():
    demo_build(size=XS, seed=42, as_of=AS_OF)
    first = fingerprint()

    demo_build(size=XS, seed=42, as_of=AS_OF, reset=True)

    assert fingerprint() == first


def test_worker_processes_build_exactly_what_one_process_builds():
    demo_build(size=XS, seed=5, as_of=AS_OF, workers=1)
    one_process = fingerprint(with_ids=True)

    report = demo_build(size=XS, seed=5, as_of=AS_OF, workers=2, reset=True)

    assert report.workers == 2
    assert fingerprint(with_ids=True) == one_process


def test_another_seed_gives_other_data():
    demo_build(size=XS, seed=1, as_of=AS_OF)
    first = fingerprint()

    demo_build(size=XS, seed=2, as_of=AS_OF, reset=True)

    assert fingerprint() != first


def test_if_empty_leaves_a_database_in_use_alone():
    UserFactory(username="someone")
    out = io.StringIO()

    call_command("demo", "--size", "XS", "--if-empty", stdout=out, stderr=io.StringIO())

    assert Account.objects.count() == 0
    assert User.objects.count() == 1
    assert "--if-empty" in out.getvalue()


def test_if_empty_loads_an_empty_database_once():
    call_command("demo", "--size", "XS", "--if-empty", "--as-of", AS_OF.isoformat(), verbosity=0)
    accounts = Account.objects.count()

    call_command("demo", "--size", "XS", "--if-empty", "--as-of", AS_OF.isoformat(), verbosity=0)

    assert accounts == XS.accounts == Account.objects.count()
    assert DemoDataset.objects.count() == 1


def test_loading_over_existing_data_without_reset_is_refused_and_changes_nothing():
    UserFactory(username="someone")

    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", "--size", "XS", verbosity=0)

    assert list(User.objects.values_list("username", flat=True)) == ["someone"]
    assert not Account.objects.exists()


def test_reset_replaces_the_organisation_and_keeps_the_configuration():
    UserFactory(username="someone")
    settings_row = OrgSettings.current()
    stages = list(Stage.objects.order_by("order").values_list("code", flat=True))

    demo_build(size=XS, seed=0, as_of=AS_OF, reset=True)

    assert not User.objects.filter(username="someone").exists()
    assert OrgSettings.objects.get().pk == settings_row.pk
    assert list(Stage.objects.order_by("order").values_list("code", flat=True)) == stages
    assert Account.objects.count() == XS.accounts


def test_a_missing_stage_is_refused_before_anything_is_written():
    Stage.objects.filter(code="negotiation").update(code="talks")

    with pytest.raises(DemoRefused, match="negotiation"):
        demo_build(size=XS, seed=0, as_of=AS_OF)

    assert not User.objects.exists()


def test_a_malformed_as_of_date_is_a_clear_command_error():
    with pytest.raises(CommandError, match="--as-of"):
        call_command("demo", "--size", "XS", "--as-of", "30/06/2025", verbosity=0)


def test_report_json_has_phases_and_row_counts(tmp_path):
    target = tmp_path / "report.json"

    call_command(
        "demo",
        "--size",
        "XS",
        "--as-of",
        AS_OF.isoformat(),
        "--report-json",
        str(target),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    import json

    report = json.loads(target.read_text())
    assert report["rows"]["customers.Account"] == XS.accounts
    assert "generate and write" in report["phases"]


def test_demo_logins_without_demo_data_says_how_to_get_some():
    out = io.StringIO()

    call_command("demo_logins", stdout=out)

    assert "manage.py demo" in out.getvalue()
