"""What the UI shows for each kind of record, declared once next to the API resource it reuses.

A :class:`RecordUI` names the API ``Resource`` (filters, sort keys, related rows to join), the
list columns, the detail fields, the form, and the service calls that create and update the
record, the same calls the REST API makes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from salesloop.activities.api import ACTIVITIES, TASKS
from salesloop.core import records
from salesloop.core.api_resources import Resource
from salesloop.customers.api import ACCOUNTS, CONTACTS, LEADS
from salesloop.org.models import User
from salesloop.pipeline import services as pipeline_services
from salesloop.pipeline.api import OPPORTUNITIES
from salesloop.pipeline.models import Stage
from salesloop.sales import services as sales_services
from salesloop.sales.api import CONTRACTS, INVOICES, ORDERS, PAYMENTS
from salesloop.web import forms

SOURCE = "web"


@dataclass(frozen=True)
class Column:
    name: str
    sort: str = ""  # the resource's sort key for this column; "" when it cannot be sorted
    link: bool = False  # link to the row's own detail page
    phone: bool = False  # also shown on a phone-width screen (the rest from 768 px up)


def _generic_create(model: type[Model]) -> Callable[..., Model]:
    def create(*, user: User, data: dict[str, Any]) -> Model:
        return records.record_create(model=model, user=user, data=data, source=SOURCE)

    return create


def _generic_update(model: type[Model]) -> Callable[..., Model]:
    def update(pk: int, *, user: User, data: dict[str, Any], version: int | None) -> Model:
        instance = records.get_for_write(model, pk, user)
        obj, _changes = records.record_update(
            instance=instance, user=user, data=data, version=version, source=SOURCE
        )
        return obj

    return update


def _opportunity_create(*, user: User, data: dict[str, Any]) -> Model:
    return pipeline_services.opportunity_create(user=user, data=data, source=SOURCE)


def _opportunity_update(pk: int, *, user: User, data: dict[str, Any], version: int | None) -> Model:
    return pipeline_services.opportunity_update(
        opportunity_id=pk, user=user, data=data, version=version, source=SOURCE
    )


def _order_create(*, user: User, data: dict[str, Any]) -> Model:
    return sales_services.order_create(user=user, data=data, source=SOURCE)


def _order_update(pk: int, *, user: User, data: dict[str, Any], version: int | None) -> Model:
    return sales_services.order_update(
        order_id=pk, user=user, data=data, version=version, source=SOURCE
    )


def _payment_create(*, user: User, data: dict[str, Any]) -> Model:
    return sales_services.payment_create(user=user, data=data, source=SOURCE)


def _stage_choices() -> list[tuple[str, str]]:
    return [(s.code, s.name) for s in Stage.objects.filter(is_active=True)]


@dataclass
class RecordUI:
    key: str  # URL names are ``<key>_list``, ``<key>_detail``, ``<key>_create``, ``<key>_edit``
    resource: Resource
    columns: list[Column]
    detail_fields: list[str]
    form_class: type[forms.RecordForm] | None
    title: Any
    title_plural: Any
    create: Callable[..., Model] | None = None
    update: Callable[..., Model] | None = None
    select_related: list[str] = field(default_factory=list)
    filter_choices: dict[str, Callable[[], list[tuple[str, str]]]] = field(default_factory=dict)
    #: Filters honoured and shown only when a link set them (e.g. a stage id from the board).
    chip_filters: frozenset[str] = frozenset()

    @property
    def model(self) -> type[Model]:
        return self.resource.model

    @property
    def related(self) -> list[str]:
        return sorted({*self.resource.related, *self.select_related})


UIS: dict[str, RecordUI] = {}


def _register(ui: RecordUI) -> RecordUI:
    model = ui.model
    if ui.form_class is not None:
        ui.create = ui.create or _generic_create(model)
        if ui.update is None and ui.resource.allow_update:
            ui.update = _generic_update(model)
    UIS[ui.key] = ui
    return ui


ACCOUNT = _register(
    RecordUI(
        key="account",
        resource=ACCOUNTS,
        title=_("Account"),
        title_plural=_("Accounts"),
        columns=[
            Column("name", "name", link=True, phone=True),
            Column("industry", "industry"),
            Column("province", "province"),
            Column("city"),
            Column("key_account_tier", phone=True),
            Column("owner"),
            Column("updated_at", "updated_at"),
        ],
        detail_fields=[
            "industry",
            "region",
            "province",
            "city",
            "size",
            "owner",
            "key_account_tier",
            "source_channel",
            "decision_style",
            "tags",
            "phone",
            "website",
            "external_id",
            "created_at",
            "updated_at",
        ],
        form_class=forms.AccountForm,
    )
)

CONTACT = _register(
    RecordUI(
        key="contact",
        resource=CONTACTS,
        title=_("Contact"),
        title_plural=_("Contacts"),
        columns=[
            Column("name", "name", link=True, phone=True),
            Column("account", phone=True),
            Column("title"),
            Column("is_decision_maker"),
            Column("phone"),
            Column("email"),
            Column("birthday", "birthday"),
        ],
        detail_fields=[
            "account",
            "title",
            "is_decision_maker",
            "birthday",
            "phone",
            "email",
            "created_at",
        ],
        form_class=forms.ContactForm,
    )
)

def _lead_create(*, user: User, data: dict[str, Any]) -> Model:
    """Issue #7: a lead entered without an owner is routed by the assignment rules."""
    from salesloop.intel.services import lead_create

    return lead_create(user=user, data=data, source=SOURCE)


LEAD = _register(
    RecordUI(
        key="lead",
        create=_lead_create,
        resource=LEADS,
        title=_("Lead"),
        title_plural=_("Leads"),
        columns=[
            Column("name", "name", link=True, phone=True),
            Column("company"),
            Column("contact_name"),
            Column("phone"),
            Column("source"),
            Column("status", "status", phone=True),
            Column("budget", "budget"),
            Column("owner"),
            Column("created_at", "created_at"),
        ],
        detail_fields=[
            "company",
            "contact_name",
            "phone",
            "email",
            "source",
            "campaign",
            "budget",
            "industry",
            "province",
            "city",
            "status",
            "owner",
            "account",
            "first_touch_at",
            "created_at",
        ],
        form_class=forms.LeadForm,
        select_related=["account"],
    )
)

OPPORTUNITY = _register(
    RecordUI(
        key="opportunity",
        resource=OPPORTUNITIES,
        title=_("Deal"),
        title_plural=_("Deals"),
        columns=[
            Column("name", "name", link=True, phone=True),
            Column("account"),
            Column("stage", "stage__order", phone=True),
            Column("amount", "amount", phone=True),
            Column("expected_close_date", "expected_close_date"),
            Column("owner"),
            Column("updated_at", "updated_at"),
        ],
        detail_fields=[
            "account",
            "owner",
            "stage",
            "amount",
            "expected_close_date",
            "probability",
            "decision_maker",
            "decision_date",
            "competitors",
            "next_step",
            "loss_reason",
            "loss_note",
            "lead",
            "stage_entered_at",
            "closed_at",
            "created_at",
        ],
        form_class=forms.OpportunityForm,
        create=_opportunity_create,
        update=_opportunity_update,
        filter_choices={"stage": _stage_choices},
        chip_filters=frozenset({"stage_id"}),
    )
)

ACTIVITY = _register(
    RecordUI(
        key="activity",
        resource=ACTIVITIES,
        title=_("Activity"),
        title_plural=_("Activities"),
        columns=[
            Column("occurred_at", "occurred_at", link=True, phone=True),
            Column("kind", "kind", phone=True),
            Column("subject", phone=True),
            Column("account"),
            Column("outcome"),
            Column("owner"),
        ],
        detail_fields=[
            "kind",
            "occurred_at",
            "outcome",
            "account",
            "opportunity",
            "lead",
            "owner",
            "performed_by",
        ],
        form_class=forms.ActivityForm,
    )
)

TASK = _register(
    RecordUI(
        key="task",
        resource=TASKS,
        title=_("Task"),
        title_plural=_("Tasks"),
        columns=[
            Column("title", link=True, phone=True),
            Column("kind"),
            Column("due_at", "due_at", phone=True),
            Column("status", "status"),
            Column("assignee"),
            Column("account"),
        ],
        detail_fields=[
            "kind",
            "due_at",
            "status",
            "assignee",
            "source",
            "account",
            "opportunity",
            "lead",
            "notes",
            "completed_at",
        ],
        form_class=forms.TaskForm,
    )
)

ORDER = _register(
    RecordUI(
        key="order",
        resource=ORDERS,
        title=_("Order"),
        title_plural=_("Orders"),
        columns=[
            Column("number", "number", link=True, phone=True),
            Column("account"),
            Column("order_date", "order_date"),
            Column("status"),
            Column("total", "total", phone=True),
            Column("margin", "margin"),
            Column("owner"),
        ],
        detail_fields=[
            "account",
            "owner",
            "opportunity",
            "order_date",
            "status",
            "total",
            "cost_total",
            "margin",
        ],
        form_class=forms.OrderForm,
        create=_order_create,
        update=_order_update,
    )
)

INVOICE = _register(
    RecordUI(
        key="invoice",
        resource=INVOICES,
        title=_("Invoice"),
        title_plural=_("Invoices"),
        columns=[
            Column("number", link=True, phone=True),
            Column("account"),
            Column("issue_date", "issue_date"),
            Column("due_date", "due_date", phone=True),
            Column("amount", "amount", phone=True),
            Column("paid_amount"),
            Column("status"),
        ],
        detail_fields=[
            "account",
            "order",
            "issue_date",
            "due_date",
            "amount",
            "paid_amount",
            "status",
        ],
        form_class=forms.InvoiceForm,
    )
)

PAYMENT = _register(
    RecordUI(
        key="payment",
        resource=PAYMENTS,
        title=_("Payment"),
        title_plural=_("Payments"),
        columns=[
            Column("paid_at", "paid_at", link=True, phone=True),
            Column("invoice"),
            Column("account"),
            Column("amount", "amount", phone=True),
            Column("method"),
            Column("reference"),
        ],
        detail_fields=[
            "invoice",
            "account",
            "amount",
            "paid_at",
            "method",
            "reference",
            "created_at",
        ],
        form_class=forms.PaymentForm,
        create=_payment_create,
        select_related=["invoice"],
    )
)

CONTRACT = _register(
    RecordUI(
        key="contract",
        resource=CONTRACTS,
        title=_("Contract"),
        title_plural=_("Contracts"),
        columns=[
            Column("number", link=True, phone=True),
            Column("title"),
            Column("account"),
            Column("start_date", "start_date"),
            Column("end_date", "end_date", phone=True),
            Column("value", "value"),
            Column("status"),
            Column("owner"),
        ],
        detail_fields=[
            "title",
            "account",
            "opportunity",
            "owner",
            "start_date",
            "end_date",
            "value",
            "status",
        ],
        form_class=forms.ContractForm,
        select_related=["owner"],
    )
)
