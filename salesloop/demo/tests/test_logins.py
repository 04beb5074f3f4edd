"""``demo_logins`` prints the logins that work, per role, with the one demo password."""

import io

import pytest
from django.core.management import call_command

from salesloop.demo.profile import DEMO_PASSWORD, SIZES
from salesloop.demo.selectors import demo_logins
from salesloop.org.models import Role, User

DEMO_SIZE = SIZES["XS"]
pytestmark = pytest.mark.django_db


def test_demo_logins_lists_every_role_with_the_demo_password(built):
    out = io.StringIO()

    call_command("demo_logins", stdout=out)

    text = out.getvalue()
    for username in (
        "admin",
        "director",
        "finance",
        "legal",
        "aftersales",
        "marketing",
        "rep001",
        "lead_east1a",
        "manager_east",
        "manager_east1",
    ):
        assert username in text
    assert DEMO_PASSWORD in text
    assert str(Role.GROUP_LEAD.label) in text
    assert "华东一部一组" in text  # the rep's team is named


def test_a_user_who_changed_their_password_is_not_listed(built):
    user = User.objects.get(username="rep001")
    user.set_password("another-secret-42")
    user.save()

    usernames = [login.username for login in demo_logins()]

    assert "rep001" not in usernames
    assert "rep002" in usernames


def test_logins_come_leaders_first_then_reps_then_support(built):
    roles = [login.role for login in demo_logins()]

    assert roles.index(Role.DIRECTOR) < roles.index(Role.MANAGER) < roles.index(Role.GROUP_LEAD)
    assert roles.index(Role.GROUP_LEAD) < roles.index(Role.REP) < roles.index(Role.FINANCE)


def test_with_many_reps_one_per_group_is_shown_unless_all_is_asked(built, monkeypatch):
    from salesloop.demo.management.commands import demo_logins as command

    monkeypatch.setattr(command, "REP_LIMIT", 2)
    short, full = io.StringIO(), io.StringIO()

    call_command("demo_logins", stdout=short)
    call_command("demo_logins", "--all", stdout=full)

    groups = DEMO_SIZE.regions * DEMO_SIZE.teams_per_region * DEMO_SIZE.groups_per_team
    shown_reps = sum(1 for line in short.getvalue().splitlines() if line.startswith("rep"))
    assert shown_reps == groups
    assert f"{DEMO_SIZE.reps - groups}" in short.getvalue().splitlines()[-1]
    full_reps = sum(1 for line in full.getvalue().splitlines() if line.startswith("rep"))
    assert full_reps == DEMO_SIZE.reps
