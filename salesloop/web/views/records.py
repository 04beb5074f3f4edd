"""List, detail, create and edit pages for records (thin: see ``registry`` and ``listing``).

Every object a page or fragment shows is fetched through ``org.access.restrict``: a record the
user may not read is a 404, one they may read but not change is a 403 on its edit page.
Writes go through the services the API uses, inside one transaction, so permissions, versioning
(409 with the current values) and the audit trail are identical.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from salesloop.audit.selectors import history_for
from salesloop.audit.services import is_audited
from salesloop.core.errors import Conflict, FieldErrors, Forbidden
from salesloop.org import access
from salesloop.web import display, forms, listing, selectors_records
from salesloop.web.registry import UIS, RecordUI


def _ui(key: str) -> RecordUI:
    return UIS[key]


def readable(ui: RecordUI, user) -> QuerySet:
    qs = ui.model._default_manager.all()
    if ui.related:
        qs = qs.select_related(*ui.related)
    return access.restrict(qs, user, "read")


#: Largest primary key a 64-bit column holds; a bigger id in the URL is a 404, not a database error.
MAX_PK = 2**63 - 1


def get_readable(ui: RecordUI, user, pk: int) -> Model:
    """The record if ``user`` may read it; 404 otherwise (an id probe learns nothing)."""
    if not 0 < pk <= MAX_PK:
        raise Http404
    return get_object_or_404(readable(ui, user), pk=pk)


def can_write(ui: RecordUI, user, obj: Model) -> bool:
    return (
        access.restrict(ui.model._default_manager.all(), user, "write").filter(pk=obj.pk).exists()
    )


def _redact(ui: RecordUI, user, objs: list[Model]) -> list[Model]:
    """Private notes are blanked for roles that may not see them, before anything renders."""
    if ui.resource.private_fields and not access.can_see_private_notes(user):
        for obj in objs:
            for name in ui.resource.private_fields:
                setattr(obj, name, None)
    return objs


# Lists -------------------------------------------------------------------------------------


@require_GET
@login_required
def record_list(request: HttpRequest, key: str) -> HttpResponse:
    ui = _ui(key)
    result = listing.list_records(
        res=ui.resource,
        user=request.user,
        params=request.GET,
        queryset=readable(ui, request.user),
        extra_choices=ui.filter_choices,
        chip_filters=ui.chip_filters,
    )
    objs = _redact(ui, request.user, list(result.page.object_list))
    rows = [
        (
            obj,
            [
                (
                    display.field_cell(obj, c.name, link=c.link),
                    "" if c.phone else "d-none d-md-table-cell",
                )
                for c in ui.columns
            ],
        )
        for obj in objs
    ]
    columns = [
        {
            "name": c.name,
            "label": display.field_label(ui.model, c.name),
            "sort": c.sort if c.sort in ui.resource.sort_fields else "",
            "css": "" if c.phone else "d-none d-md-table-cell",
        }
        for c in ui.columns
    ]
    context = {
        "ui": ui,
        "result": result,
        "rows": rows,
        "columns": columns,
        "page_sizes": listing.PAGE_SIZES,
        "can_create": ui.create is not None and access.can_write_model(request.user, ui.model),
        "export_url": _api_root() + f"{ui.resource.path}/export",
        "list_url": reverse(f"{ui.key}_list"),
    }
    status = 400 if result.errors else 200
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, "web/records/_list_results.html", context, status=status)
    return render(request, "web/records/list.html", context, status=status)


def _api_root() -> str:
    """``/api/`` wherever the API is mounted (endpoint names are not unique; the schema's is)."""
    return reverse("api:openapi-json").removesuffix("openapi.json")


# Detail ------------------------------------------------------------------------------------


@require_GET
@login_required
def record_detail(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ui = _ui(key)
    obj = _redact(ui, request.user, [get_readable(ui, request.user, pk)])[0]
    context: dict[str, Any] = {
        "ui": ui,
        "obj": obj,
        "fields": _detail_fields(ui, request.user, obj),
        "can_edit": ui.update is not None and can_write(ui, request.user, obj),
        "history": list(history_for(obj)[:100]) if is_audited(ui.model) else None,
        "show_private": access.can_see_private_notes(request.user),
    }
    template = f"web/records/{key}_detail.html"
    if key == "account":
        context["c360"] = selectors_records.account_360(account=obj, user=request.user)
    elif key == "opportunity":
        context["stage_history"] = selectors_records.stage_history(
            opportunity=obj, user=request.user
        )
        context["activities"] = selectors_records.related_activities(
            user=request.user, opportunity=obj
        )
    elif key == "order":
        context["lines"] = list(obj.lines.select_related("product"))
    else:
        template = "web/records/detail.html"
    return render(request, template, context)


def _detail_fields(ui: RecordUI, user, obj: Model) -> list[tuple[str, display.Cell]]:
    names = [
        n
        for n in ui.detail_fields
        if n not in ui.resource.private_fields or access.can_see_private_notes(user)
    ]
    return [(display.field_label(ui.model, n), display.field_cell(obj, n)) for n in names]


# Create and edit ---------------------------------------------------------------------------


def _apply_service_errors(form, exc: FieldErrors, formset=None) -> None:
    """Put a service's ``{"field_id": [...]}`` errors on the matching form fields."""
    for key, msgs in exc.errors.items():
        name = key[:-3] if key.endswith("_id") and key[:-3] in form.fields else key
        if key.startswith("lines.") and formset is not None:
            parts = key.split(".")
            index, field = int(parts[1]), parts[2].removesuffix("_id")
            if index < len(formset.forms) and field in formset.forms[index].fields:
                for msg in msgs:
                    formset.forms[index].add_error(field, msg)
                continue
        if name in form.fields:
            for msg in msgs:
                form.add_error(name, msg)
        else:
            for msg in msgs:
                form.add_error(None, msg if name == "__all__" else f"{name}: {msg}")


def _initial_from_query(ui: RecordUI, request: HttpRequest) -> dict[str, Any]:
    """``/opportunities/new/?account=5`` pre-fills the account (still checked on save)."""
    form_fields = ui.form_class._meta.fields if ui.form_class else []
    initial = {name: request.GET[name] for name in form_fields if request.GET.get(name)}
    for person in forms.PERSON_FIELDS:
        if person in form_fields and person not in initial:
            initial[person] = request.user.pk
    return initial


@require_http_methods(["GET", "POST"])
@login_required
def record_create(request: HttpRequest, key: str) -> HttpResponse:
    ui = _ui(key)
    if ui.create is None or not access.can_write_model(request.user, ui.model):
        raise Http404
    form_class = ui.form_class
    with_lines = key == "order"
    if request.method == "POST":
        form = form_class(request.POST, user=request.user)
        formset = forms.OrderLineFormSet(request.POST, prefix="lines") if with_lines else None
        if form.is_valid() and (formset is None or formset.is_valid()):
            data = form.service_data()
            if formset is not None:
                data["lines"] = [
                    f.service_line() for f in formset.forms if f.has_changed() and f.cleaned_data
                ]
            try:
                obj = ui.create(user=request.user, data=data)
            except FieldErrors as exc:
                _apply_service_errors(form, exc, formset)
            except Forbidden as exc:
                form.add_error(None, str(exc) or _("You may not do this."))
                return _form_page(request, ui, form, formset, obj=None, status=403)
            except IntegrityError:
                form.add_error(
                    None,
                    _("This conflicts with existing data (a duplicate number or a broken link)."),
                )
            else:
                messages.success(
                    request, _("%(kind)s “%(name)s” created.") % {"kind": ui.title, "name": obj}
                )
                return redirect(reverse(f"{key}_detail", args=[obj.pk]))
        return _form_page(request, ui, form, formset, obj=None, status=422)
    form = form_class(user=request.user, initial=_initial_from_query(ui, request))
    formset = forms.OrderLineFormSet(prefix="lines") if with_lines else None
    return _form_page(request, ui, form, formset, obj=None)


@require_http_methods(["GET", "POST"])
@login_required
def record_edit(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ui = _ui(key)
    if ui.update is None:
        raise Http404
    obj = get_readable(ui, request.user, pk)
    if not can_write(ui, request.user, obj):
        return render(request, "web/forbidden.html", {"obj": obj, "ui": ui}, status=403)
    form_class = forms.with_version(ui.form_class)
    if request.method == "GET":
        form = form_class(instance=obj, user=request.user, initial={"version": obj.version})
        return _form_page(request, ui, form, None, obj=obj)

    form = form_class(request.POST, instance=obj, user=request.user)
    if not form.is_valid():
        return _form_page(request, ui, form, None, obj=obj, status=422)
    try:
        with transaction.atomic():
            ui.update(
                pk,
                user=request.user,
                data=form.service_data(),
                version=form.cleaned_data["version"],
            )
    except Conflict as exc:
        return _conflict_page(request, ui, form, exc.current)
    except FieldErrors as exc:
        _apply_service_errors(form, exc)
        return _form_page(request, ui, form, None, obj=obj, status=422)
    except (Forbidden, ObjectDoesNotExist) as exc:
        message = (
            str(exc)
            if isinstance(exc, Forbidden) and str(exc)
            else _("You may not change this record.")
        )
        form.add_error(None, message)
        return _form_page(request, ui, form, None, obj=obj, status=403)
    except IntegrityError:
        form.add_error(
            None, _("This conflicts with existing data (a duplicate number or a broken link).")
        )
        return _form_page(request, ui, form, None, obj=obj, status=409)
    messages.success(request, _("Saved."))
    return redirect(reverse(f"{key}_detail", args=[pk]))


def _conflict_page(request: HttpRequest, ui: RecordUI, form, current: Model) -> HttpResponse:
    """Someone saved first: show their values next to the user's, keep the user's input, and
    carry the new version so that saving again is a deliberate overwrite."""
    current = _redact(ui, request.user, [current])[0]
    data = request.POST.copy()
    data["version"] = str(current.version)
    retry = type(form)(data, instance=current, user=request.user)
    retry.is_valid()
    differences = []
    for name in form.fields:
        if name == "version":
            continue
        field = ui.model._meta.get_field(name)
        theirs = display.field_cell(current, name).text
        bound = retry[name]
        mine_value = (
            retry.cleaned_data.get(name) if hasattr(retry, "cleaned_data") else bound.value()
        )
        if field.is_relation:
            mine_text = display.plain(mine_value) if mine_value is not None else display.EMPTY
            changed = getattr(current, field.attname) != (
                mine_value.pk if mine_value is not None else None
            )
        else:
            mine_text = display.plain(mine_value)
            changed = getattr(current, name) != mine_value
        if changed:
            differences.append({"label": bound.label, "theirs": theirs, "mine": mine_text})
    return _form_page(
        request, ui, retry, None, obj=current, status=409, conflict={"differences": differences}
    )


def _form_page(
    request, ui: RecordUI, form, formset, *, obj, status: int = 200, conflict=None
) -> HttpResponse:
    context = {"ui": ui, "form": form, "formset": formset, "obj": obj, "conflict": conflict}
    return render(request, "web/records/form.html", context, status=status)
