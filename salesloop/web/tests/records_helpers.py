"""Builders shared by the record-page tests: one record of each kind, owned by a given rep."""

from salesloop.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    PaymentFactory,
    TaskFactory,
)

KEYS = [
    "account",
    "contact",
    "lead",
    "opportunity",
    "activity",
    "task",
    "order",
    "invoice",
    "payment",
    "contract",
]

#: Keys a rep may edit through the UI (invoices are finance's; payments are never edited).
REP_EDITABLE = [
    "account",
    "contact",
    "lead",
    "opportunity",
    "activity",
    "task",
    "order",
    "contract",
]


def make(key: str, owner, **kwargs):
    account = kwargs.pop("account", None) or AccountFactory(owner=owner)
    if key == "account":
        return account
    if key == "contact":
        return ContactFactory(account=account, **kwargs)
    if key == "lead":
        return LeadFactory(owner=owner, **kwargs)
    if key == "opportunity":
        return OpportunityFactory(account=account, **kwargs)
    if key == "activity":
        return ActivityFactory(account=account, **kwargs)
    if key == "task":
        return TaskFactory(assignee=owner, account=account, **kwargs)
    if key == "order":
        return OrderFactory(account=account, **kwargs)
    if key == "invoice":
        return InvoiceFactory(order=OrderFactory(account=account), **kwargs)
    if key == "payment":
        return PaymentFactory(invoice=InvoiceFactory(order=OrderFactory(account=account)), **kwargs)
    if key == "contract":
        return ContractFactory(account=account, **kwargs)
    raise KeyError(key)
