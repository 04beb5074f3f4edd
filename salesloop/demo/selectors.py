"""Reads for the demo: is there data already, and which demo logins work."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password
from django.db.models import Model

from salesloop.customers.models import Account, Lead
from salesloop.demo.models import DemoDataset
from salesloop.demo.profile import DEMO_PASSWORD
from salesloop.org.models import Role, Team, User
from salesloop.pipeline.models import Opportunity
from salesloop.sales.models import Order, Product

#: Any row in these means the database is in use and ``--if-empty`` leaves it alone.
OCCUPYING: tuple[type[Model], ...] = (User, Team, Account, Lead, Opportunity, Order, Product)

#: The order logins are listed in: the sales line top-down, then support, then admin.
ROLE_ORDER = (
    Role.DIRECTOR,
    Role.MANAGER,
    Role.GROUP_LEAD,
    Role.REP,
    Role.FINANCE,
    Role.LEGAL,
    Role.AFTER_SALES,
    Role.MARKETING,
    Role.ADMIN,
)


def occupied_by() -> list[str]:
    """Labels of the models that already hold rows (empty list: the database is empty)."""
    return [m._meta.label for m in OCCUPYING if m._default_manager.exists()]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    role_label: str
    team: str


def latest_dataset() -> DemoDataset | None:
    return DemoDataset.objects.order_by("-built_at", "-id").first()


def demo_logins() -> list[DemoLogin]:
    """Active users whose password is still the demo password, leaders first.

    The demo hashes the password once and gives every user the same hash, so this checks each
    distinct hash once instead of running PBKDF2 per user; a user who changed their password
    is (rightly) no longer listed.
    """
    users = list(User.objects.filter(is_active=True).select_related("team"))
    verdict: dict[str, bool] = {}
    rank = {role: i for i, role in enumerate(ROLE_ORDER)}
    logins = []
    for user in users:
        if user.password not in verdict:
            verdict[user.password] = check_password(DEMO_PASSWORD, user.password)
        if verdict[user.password]:
            logins.append(user)
    logins.sort(key=lambda u: (rank.get(u.role, len(rank)), u.username))
    return [
        DemoLogin(
            u.username, str(u), u.role, str(Role(u.role).label), u.team.name if u.team else ""
        )
        for u in logins
    ]
