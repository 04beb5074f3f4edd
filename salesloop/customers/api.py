"""API declarations for accounts, contacts and leads."""

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from salesloop.core.api_resources import Resource
from salesloop.customers.models import Account, Contact, Lead
from salesloop.intel.services import lead_create

_OWNER_NAME = {"owner_name": (str | None, Field(None, alias="owner.username"))}

ACCOUNTS = Resource(
    path="accounts",
    model=Account,
    read_fields=[
        "name", "external_id", "industry", "region", "province", "city", "size", "owner",
        "key_account_tier", "source_channel", "decision_style", "tags", "phone", "website", "notes",
        "version", "created_at", "updated_at",
    ],
    write_fields=[
        "name", "external_id", "industry", "region", "province", "city", "size", "owner",
        "key_account_tier", "source_channel", "decision_style", "tags", "phone", "website", "notes",
    ],
    filters={
        "q": (str, ["name__icontains", "phone__icontains", "external_id__iexact"]),
        "owner_id": (int, "owner_id"),
        "industry": (str, "industry"),
        "province": (str, "province"),
        "city": (str, "city"),
        "key_account_tier": (str, "key_account_tier"),
        "source_channel": (str, "source_channel"),
        "team_id": (int, "owner__team_id"),
    },
    sort_fields=["id", "name", "created_at", "updated_at", "industry", "province"],
    default_sort="name",
    related=["owner"],
    out_extra=_OWNER_NAME,
    private_fields=("notes",),
)

CONTACTS = Resource(
    path="contacts",
    model=Contact,
    read_fields=[
        "account", "external_id", "name", "title", "is_decision_maker", "birthday", "phone", "email",
        "version", "created_at", "updated_at",
    ],
    write_fields=["account", "external_id", "name", "title", "is_decision_maker", "birthday", "phone", "email"],
    filters={
        "q": (str, ["name__icontains", "phone__icontains", "email__icontains"]),
        "account_id": (int, "account_id"),
        "is_decision_maker": (bool, "is_decision_maker"),
    },
    sort_fields=["id", "name", "created_at", "birthday"],
    default_sort="name",
    related=["account"],
    out_extra={"account_name": (str | None, Field(None, alias="account.name"))},
)

LEADS = Resource(
    path="leads",
    model=Lead,
    read_fields=[
        "name", "external_id", "company", "contact_name", "phone", "email", "source", "campaign", "budget",
        "currency", "industry", "province", "city", "status", "owner", "account", "first_touch_at",
        "version", "created_at", "updated_at",
    ],
    write_fields=[
        "name", "external_id", "company", "contact_name", "phone", "email", "source", "campaign", "budget",
        "currency", "industry", "province", "city", "status", "owner", "account", "first_touch_at",
    ],
    filters={
        "q": (str, ["name__icontains", "company__icontains", "phone__icontains", "email__icontains"]),
        "owner_id": (int, "owner_id"),
        "status": (str, "status"),
        "source": (str, "source"),
        "industry": (str, "industry"),
        "budget_min": (Decimal, "budget__gte"),
        "created_after": (datetime, "created_at__gte"),
        "unassigned": (bool, "owner__isnull"),
    },
    sort_fields=["id", "name", "created_at", "budget", "status"],
    default_sort="-created_at",
    related=["owner"],
    out_extra=_OWNER_NAME,
    # Issue #7: a lead created without an owner is routed by the assignment rules.
    create=lead_create,
)

RESOURCES = [ACCOUNTS, CONTACTS, LEADS]
