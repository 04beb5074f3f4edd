"""List pages driven by the API's own resource declarations.

One filter definition per model serves the UI and the API (the NetBox habit): the filter widgets
on a list page are built from ``Resource.filters`` and the query string is validated by the same
``Resource.Filters`` schema the REST list endpoint uses; sorting goes through ``Resource.ordered``
(same allowed keys, same 4xx on a bad key). So a list page and ``GET /api/<path>?...`` with the
same query string return the same rows, and the page's export button simply links to
``/api/<path>/export`` with that query string.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pydantic
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import ForeignKey, Model, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesloop.core.api_resources import Resource
from salesloop.core.errors import FieldErrors
from salesloop.org import access
from salesloop.org.models import Team, User

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200

#: Labels of filters that are not a single model field.
FILTER_LABELS = {
    "q": _("Search"),
    "stage": _("Stage"),
    "team_id": _("Team"),
    "budget_min": _("Budget at least"),
    "amount_min": _("Amount at least"),
    "created_after": _("Created after"),
    "unassigned": _("Unassigned"),
    "close_from": _("Closing from"),
    "close_to": _("Closing until"),
    "is_open": _("Open"),
    "since": _("From"),
    "until": _("Until"),
    "due_before": _("Due before"),
    "due_after": _("Due from"),
    "date_from": _("From"),
    "date_to": _("Until"),
    "ends_before": _("Ends by"),
}

#: Filters that select one parent record by id: set by links ("all deals of this account"),
#: shown as a removable chip rather than a drop-down of thousands of rows.
PARENT_FILTERS = {"account_id", "opportunity_id", "lead_id", "invoice_id"}


@dataclass
class FilterWidget:
    name: str
    label: str
    kind: str  # text | select | date | datetime | number | chip
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _model_field(model: type[Model], lookup: str):
    """The model field a lookup like ``owner__team_id`` or ``budget__gte`` ends on (or None)."""
    current: Any = model
    found = None
    for part in lookup.split("__"):
        try:
            found = current._meta.get_field(part)
        except (FieldDoesNotExist, AttributeError):
            if part.endswith("_id"):
                try:
                    found = current._meta.get_field(part[:-3])
                except FieldDoesNotExist:
                    return found
            else:
                return found
        if found.is_relation and found.related_model is not None:
            current = found.related_model
    return found


def _user_options(user: User, model: type[Model]) -> list[tuple[str, str]]:
    """People whose rows ``user`` can see in ``model``'s list: self, the subtree, or everyone."""
    scope = access.scope_for(user, model, "read")
    qs = User.objects.filter(is_active=True).only(
        "id", "username", "display_name", "first_name", "last_name"
    )
    if scope == access.Scope.OWN:
        qs = qs.filter(pk=user.pk)
    elif scope == access.Scope.SUBTREE:
        qs = qs.filter(pk__in=access.subtree_user_ids(user))
    elif scope == access.Scope.NONE:
        qs = qs.none()
    return [(str(u.pk), str(u)) for u in qs]


def _team_options(user: User, model: type[Model]) -> list[tuple[str, str]]:
    """Teams whose people's rows ``user`` can see in ``model``'s list (indented by depth)."""
    scope = access.scope_for(user, model, "read")
    qs = Team.objects.only("id", "name", "path")
    if scope in (access.Scope.OWN, access.Scope.NONE):
        return []
    if scope == access.Scope.SUBTREE:
        qs = qs.filter(path__startswith=user.team.path)
    return [(str(t.pk), "· " * max(t.path.count("/") - 2, 0) + t.name) for t in qs]


def _bool_options() -> list[tuple[str, str]]:
    return [("true", str(_("Yes"))), ("false", str(_("No")))]


def build_widgets(
    res: Resource,
    user: User,
    params: QueryDict,
    errors: dict[str, list[str]],
    extra_choices: dict,
    chip_filters: frozenset[str] = frozenset(),
) -> list[FilterWidget]:
    widgets = []
    for name, (typ, lookup) in res.filters.items():
        value = params.get(name, "")
        err = errors.get(name, [])
        single = lookup if isinstance(lookup, str) else None
        model_field = _model_field(res.model, single) if single else None
        label = FILTER_LABELS.get(name) or (model_field.verbose_name if model_field else name)
        widget = FilterWidget(
            name=name, label=str(label).capitalize(), kind="text", value=value, errors=err
        )
        if name in extra_choices:
            widget.kind, widget.options = "select", extra_choices[name]()
        elif name in PARENT_FILTERS or name in chip_filters:
            if not value:
                continue
            widget.kind = "chip"
        elif typ is bool:
            widget.kind, widget.options = "select", _bool_options()
        elif name == "team_id":
            widget.kind, widget.options = "select", _team_options(user, res.model)
            if not widget.options and not value:
                continue
        elif isinstance(model_field, ForeignKey) and model_field.related_model is User:
            widget.kind, widget.options = "select", _user_options(user, res.model)
            if len(widget.options) <= 1 and not value:
                continue  # a rep's own book: an owner filter with one choice is noise
        elif model_field is not None and getattr(model_field, "choices", None):
            widget.kind = "select"
            widget.options = [(str(k), str(v)) for k, v in model_field.choices if k != ""]
        elif typ is date:
            widget.kind = "date"
        elif typ is datetime:
            widget.kind = "datetime"
        elif typ in (int, Decimal):
            widget.kind = "number"
        widgets.append(widget)
    return widgets


@dataclass
class ListResult:
    page: Page
    widgets: list[FilterWidget]
    errors: dict[str, list[str]]
    sort: str
    page_size: int
    query_string: str  # filters + sort, for the export links
    page_range: list = field(default_factory=list)


def parse_filters(res: Resource, params: QueryDict) -> tuple[Any, dict[str, list[str]]]:
    """Validate the query string with the API's filter schema; bad values become field errors."""
    raw = {name: params.get(name) for name in res.filters if params.get(name, "") != ""}
    errors: dict[str, list[str]] = {}
    try:
        filters = res.Filters(**raw)
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            loc = str(err["loc"][0]) if err.get("loc") else "__all__"
            errors.setdefault(loc, []).append(str(_("Enter a valid value.")))
        good = {k: v for k, v in raw.items() if k not in errors}
        filters = res.Filters(**good)
    # A datetime typed without an offset means the organisation's local time.
    aware = {
        k: timezone.make_aware(v)
        for k, v in filters.model_dump().items()
        if isinstance(v, datetime) and timezone.is_naive(v)
    }
    if aware:
        filters = filters.model_copy(update=aware)
    return filters, errors


def list_records(
    *,
    res: Resource,
    user: User,
    params: QueryDict,
    queryset: QuerySet,
    extra_choices: dict | None = None,
    chip_filters: frozenset[str] = frozenset(),
) -> ListResult:
    """Filter, sort and page ``queryset`` (already restricted) the way the REST list does."""
    filters, errors = parse_filters(res, params)
    qs = filters.filter(queryset)
    sort = params.get("sort", "") or res.default_sort
    try:
        qs = res.ordered(qs, sort)
    except FieldErrors as exc:
        errors = {**errors, **exc.errors}
        sort = res.default_sort
        qs = res.ordered(qs, sort)
    try:
        page_size = min(max(int(params.get("page_size", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
    except ValueError:
        page_size = DEFAULT_PAGE_SIZE
    page = Paginator(qs, page_size).get_page(params.get("page"))
    kept = QueryDict(mutable=True)
    for name in [*res.filters, "sort"]:
        if params.get(name):
            kept[name] = params[name]
    return ListResult(
        page=page,
        widgets=build_widgets(res, user, params, errors, extra_choices or {}, chip_filters),
        errors=errors,
        sort=sort,
        page_size=page_size,
        query_string=kept.urlencode(),
        page_range=list(
            page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        ),
    )
