"""Create and edit forms for business records.

The forms only parse and present input. Whether a record is valid, whom it may belong to and
whether the edited version is still current is decided by the same services the API calls
(``core.records``, ``pipeline.services``, ``sales.services``), and their field errors are put
back on these forms; so the page and the API can never disagree about a rule.
"""

from typing import Any

from django import forms
from django.db.models import ForeignKey, Model, QuerySet
from django.forms.models import ModelChoiceField
from django.utils.translation import gettext_lazy as _

from salesloop.activities.models import Activity, Task
from salesloop.customers.models import Account, Contact, Lead
from salesloop.org import access
from salesloop.org.models import User
from salesloop.pipeline.models import LossReason, Opportunity, Stage
from salesloop.sales.models import Contract, Invoice, Order, Payment, Product
from salesloop.web import lookups

#: FK fields naming a person who will own or do the record (choices: whom the writer may name).
PERSON_FIELDS = {"owner", "assignee"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def assignable_users(user: User, model: type[Model]) -> QuerySet[User]:
    """People ``user`` may make the owner of a ``model`` record (``org.access`` write scope)."""
    scope = access.scope_for(user, model, "write")
    qs = User.objects.filter(is_active=True)
    if scope == access.Scope.ALL:
        return qs
    if scope == access.Scope.SUBTREE:
        return qs.filter(pk__in=access.subtree_user_ids(user))
    if scope == access.Scope.OWN:
        return qs.filter(pk=user.pk)
    return qs.none()


class RecordForm(forms.ModelForm):
    """A ModelForm whose choices are limited to what the writer may see, and whose record-level
    validation is left to the service (see the module docstring)."""

    #: Private fields (``access.can_see_private_notes``), dropped for roles that may not see them.
    private_fields: tuple[str, ...] = ()

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        model = self._meta.model
        if not access.can_see_private_notes(user):
            for name in self.private_fields:
                self.fields.pop(name, None)
        for name, form_field in self.fields.items():
            if not isinstance(form_field, ModelChoiceField):
                continue
            model_field = model._meta.get_field(name)
            target = model_field.related_model
            if name in PERSON_FIELDS:
                form_field.queryset = assignable_users(user, model)
            elif target._meta.label_lower in access.POLICY:
                form_field.queryset = access.restrict(target._default_manager.all(), user, "read")
            if target is Stage:
                form_field.queryset = form_field.queryset.filter(is_active=True)
            lookup_key = lookups.key_for(target)
            if lookup_key is not None:
                form_field.widget = lookups.LookupSelect(lookup_key, attrs=form_field.widget.attrs)
                form_field.widget.is_required = form_field.required
                form_field.widget.choices = form_field.choices
        for form_field in self.fields.values():
            css = "form-select" if isinstance(form_field.widget, forms.Select) else "form-control"
            if isinstance(form_field.widget, forms.CheckboxInput):
                css = "form-check-input"
            form_field.widget.attrs.setdefault("class", css)

    def _post_clean(self) -> None:
        """Skip ModelForm's model validation: the service validates (one rule, one place)."""

    def service_data(self) -> dict[str, Any]:
        """``cleaned_data`` in the shape the services take: foreign keys as ``<name>_id``."""
        model = self._meta.model
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name == "version":
                continue
            model_field = model._meta.get_field(name)
            if isinstance(model_field, ForeignKey):
                data[model_field.attname] = value.pk if value is not None else None
            else:
                data[name] = value
        return data


class VersionMixin(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TagsField(forms.CharField):
    """Tags typed as a comma-separated list, stored as a JSON list of strings."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        parts = [p.strip() for p in text.replace("，", ",").split(",")]
        return [p for p in parts if p]


class AccountForm(RecordForm):
    private_fields = ("notes",)
    tags = TagsField(label=_("tags"), required=False, help_text=_("Separate with commas."))

    class Meta:
        model = Account
        fields = [
            "name",
            "owner",
            "industry",
            "region",
            "province",
            "city",
            "size",
            "key_account_tier",
            "source_channel",
            "decision_style",
            "tags",
            "phone",
            "website",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ContactForm(RecordForm):
    class Meta:
        model = Contact
        fields = ["account", "name", "title", "is_decision_maker", "birthday", "phone", "email"]
        widgets = {"birthday": DateInput()}


class LeadForm(RecordForm):
    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "contact_name",
            "phone",
            "email",
            "source",
            "campaign",
            "budget",
            "currency",
            "industry",
            "province",
            "city",
            "status",
            "owner",
        ]


class OpportunityForm(RecordForm):
    class Meta:
        model = Opportunity
        fields = [
            "name",
            "account",
            "owner",
            "amount",
            "currency",
            "stage",
            "expected_close_date",
            "probability",
            "decision_maker",
            "decision_date",
            "competitors",
            "next_step",
            "loss_reason",
            "loss_note",
        ]
        widgets = {"expected_close_date": DateInput(), "decision_date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].required = False  # empty: the first active stage (as in the API)
        self.fields["loss_reason"].queryset = LossReason.objects.all()


class ActivityForm(RecordForm):
    private_fields = ("notes",)

    class Meta:
        model = Activity
        fields = [
            "kind",
            "subject",
            "occurred_at",
            "outcome",
            "account",
            "opportunity",
            "owner",
            "notes",
        ]
        widgets = {"occurred_at": DateTimeInput(), "notes": forms.Textarea(attrs={"rows": 3})}


class TaskForm(RecordForm):
    class Meta:
        model = Task
        fields = [
            "title",
            "kind",
            "due_at",
            "status",
            "assignee",
            "account",
            "opportunity",
            "notes",
        ]
        widgets = {"due_at": DateTimeInput(), "notes": forms.Textarea(attrs={"rows": 3})}


class OrderForm(RecordForm):
    class Meta:
        model = Order
        fields = ["number", "account", "owner", "opportunity", "order_date", "status", "currency"]
        widgets = {"order_date": DateInput()}


class OrderLineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("product"),
        queryset=Product.objects.filter(is_active=True),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    quantity = forms.DecimalField(
        label=_("quantity"),
        max_digits=12,
        decimal_places=2,
        min_value=0.01,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    unit_price = forms.DecimalField(
        label=_("unit price"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Empty: the list price."),
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    discount_pct = forms.DecimalField(
        label=_("discount %"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )

    def service_line(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product_id": data["product"].pk,
            "quantity": data["quantity"],
            "unit_price": data.get("unit_price"),
            "discount_pct": data.get("discount_pct") or 0,
        }


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, extra=3, min_num=1, validate_min=True, max_num=200
)


class InvoiceForm(RecordForm):
    class Meta:
        model = Invoice
        fields = [
            "number",
            "account",
            "order",
            "issue_date",
            "due_date",
            "amount",
            "currency",
            "status",
        ]
        widgets = {"issue_date": DateInput(), "due_date": DateInput()}


class PaymentForm(RecordForm):
    class Meta:
        model = Payment
        fields = ["invoice", "amount", "paid_at", "method", "reference"]
        widgets = {"paid_at": DateTimeInput()}


class ContractForm(RecordForm):
    class Meta:
        model = Contract
        fields = [
            "number",
            "title",
            "account",
            "opportunity",
            "owner",
            "start_date",
            "end_date",
            "value",
            "currency",
            "status",
        ]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}


def with_version(form_class: type[RecordForm]) -> type[RecordForm]:
    """The edit variant of ``form_class``: carries the version the user read (hidden)."""
    return type(
        f"{form_class.__name__}Edit",
        (form_class,),
        {"version": VersionMixin.base_fields["version"]},
    )
