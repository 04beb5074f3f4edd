"""Builds the standard REST endpoints of a business record from one declaration.

A :class:`Resource` names the model, the fields clients may write, the filters and sort keys;
:func:`build_router` turns it into list (filtered, sorted, paginated), export (CSV/XLSX with the
same filters), detail, create, patch (versioned: stale → 409), delete and history endpoints.
Visibility comes from ``org.access.restrict``; writes go through the app's services.
"""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import FilterSchema, Query, Router, Schema, Status
from ninja.filter_schema import FilterLookup
from pydantic import Field, create_model

from salesloop.audit.selectors import history_for
from salesloop.audit.services import is_audited
from salesloop.core import records
from salesloop.core.errors import FieldErrors, Forbidden
from salesloop.core.schemas import BIGINT_MAX, ConflictOut, ErrorOut, bounded, model_schema
from salesloop.dataio.export import FORMATS, export_response
from salesloop.org import access

MAX_PAGE_SIZE = 200

CreateFn = Callable[..., Model]
UpdateFn = Callable[..., Model]


@dataclass
class Resource:
    path: str
    model: type[Model]
    read_fields: list[str]
    write_fields: list[str]
    filters: dict[str, tuple[Any, str | list[str]]]
    sort_fields: list[str]
    default_sort: str = "-id"
    related: list[str] = field(default_factory=list)
    prefetch: list[str] = field(default_factory=list)
    out_extra: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    create_extra: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    optional_on_create: frozenset[str] = frozenset()
    create: CreateFn | None = None
    update: UpdateFn | None = None
    allow_create: bool = True
    allow_update: bool = True
    allow_delete: bool = True
    private_fields: tuple[str, ...] = ()
    export_name: str = ""
    tag: str = ""

    def __post_init__(self) -> None:
        cls = self.model.__name__
        self.Out = model_schema(self.model, self.read_fields, mode="out", name=f"{cls}Out", extra=self.out_extra)
        self.In = model_schema(
            self.model,
            self.write_fields,
            mode="create",
            name=f"{cls}In",
            extra=self.create_extra,
            optional=self.optional_on_create,
        )
        self.Patch = model_schema(
            self.model,
            self.write_fields,
            mode="patch",
            name=f"{cls}Patch",
            extra=self._version_spec(),
        )
        self.Page = create_model(
            f"{cls}Page",
            __base__=Schema,
            count=(int, ...),
            page=(int, ...),
            page_size=(int, ...),
            items=(list[self.Out], ...),
        )
        specs = {
            name: (Annotated[bounded(typ) | None, FilterLookup(lookup)], None)
            for name, (typ, lookup) in self.filters.items()
        }
        self.Filters = create_model(f"{cls}Filters", __base__=FilterSchema, **specs)
        self.export_name = self.export_name or self.path
        self.tag = self.tag or self.path

    def _version_spec(self) -> dict[str, tuple[Any, Any]]:
        """Versioned records need the version the client read; reference data has none to send."""
        if not any(f.name == "version" for f in self.model._meta.concrete_fields):
            return {}
        return {"version": (int, Field(..., description="The version you read; a stale one gets 409."))}

    # Reads ---------------------------------------------------------------------------------

    def base_queryset(self, request: HttpRequest) -> QuerySet:
        qs = self.model._default_manager.all()
        if self.related:
            qs = qs.select_related(*self.related)
        if self.prefetch:
            qs = qs.prefetch_related(*self.prefetch)
        return access.restrict(qs, request.auth, "read")

    def visible(self, request: HttpRequest, record_id: int) -> Model:
        """The record if the caller may read it, else 404 (also for ids no database can hold)."""
        if not 0 < record_id <= BIGINT_MAX:
            raise Http404
        return get_object_or_404(self.base_queryset(request), pk=record_id)

    def ordered(self, qs: QuerySet, sort: str | None) -> QuerySet:
        keys = [k.strip() for k in (sort or self.default_sort).split(",") if k.strip()]
        bad = [k for k in keys if k.lstrip("-") not in self.sort_fields]
        if bad:
            raise FieldErrors(
                {
                    "sort": [
                        _("Cannot sort by %(keys)s; choose from %(allowed)s.")
                        % {"keys": ", ".join(bad), "allowed": ", ".join(self.sort_fields)}
                    ]
                }
            )
        return qs.order_by(*keys, "-id" if "id" not in {k.lstrip("-") for k in keys} else keys[0])

    def redact(self, request: HttpRequest, objs: list[Model]) -> list[Model]:
        if self.private_fields and not access.can_see_private_notes(request.auth):
            for obj in objs:
                for name in self.private_fields:
                    setattr(obj, name, None)
        return objs

    def export_rows(self, qs: QuerySet, *, hide_private: bool = False):
        names = list(self.Out.model_fields)
        for obj in qs.iterator(chunk_size=2000):
            if hide_private:
                # Set before reading: the deferred column is then never loaded (one query per row).
                for name in self.private_fields:
                    setattr(obj, name, None)
            data = self.Out.from_orm(obj).model_dump()
            yield [data[n] for n in names]


def _payload(schema_obj: Schema) -> dict[str, Any]:
    return schema_obj.model_dump(exclude_unset=True)


def build_router(res: Resource) -> Router:
    router = Router(tags=[res.tag])
    model_name = res.model.__name__.lower()

    @router.get("", response=res.Page, operation_id=f"{res.path}_list", summary=f"List {res.path}")
    def list_records(
        request: HttpRequest,
        filters: res.Filters = Query(...),  # type: ignore[valid-type]
        sort: str | None = None,
        page: int = Query(1, ge=1),
        page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
    ):
        qs = res.ordered(filters.filter(res.base_queryset(request)), sort)
        count = qs.count()
        start = (page - 1) * page_size
        items = res.redact(request, list(qs[start : start + page_size]))
        return {"count": count, "page": page, "page_size": page_size, "items": items}

    @router.get("/export", operation_id=f"{res.path}_export", summary=f"Export {res.path} as CSV or XLSX")
    def export_records(
        request: HttpRequest,
        filters: res.Filters = Query(...),  # type: ignore[valid-type]
        sort: str | None = None,
        format: str = Query("csv", pattern="^(csv|xlsx)$"),  # noqa: A002
    ):
        qs = res.ordered(filters.filter(res.base_queryset(request)), sort)
        hide_private = bool(res.private_fields) and not access.can_see_private_notes(request.auth)
        if hide_private:
            qs = qs.defer(*res.private_fields)
        header = list(res.Out.model_fields)
        rows = res.export_rows(qs, hide_private=hide_private)
        assert format in FORMATS
        return export_response(name=res.export_name, fmt=format, header=header, rows=rows)

    @router.get("/{int:record_id}", response=res.Out, operation_id=f"{res.path}_get", summary=f"Get one {model_name}")
    def get_record(request: HttpRequest, record_id: int):
        obj = res.visible(request, record_id)
        return res.redact(request, [obj])[0]

    if res.allow_create:

        @router.post(
            "",
            response={201: res.Out, 403: ErrorOut, 422: ErrorOut},
            operation_id=f"{res.path}_create",
            summary=f"Create a {model_name}",
        )
        def create_record(request: HttpRequest, payload: res.In):  # type: ignore[valid-type]
            data = _payload(payload)
            if res.create is not None:
                obj = res.create(user=request.auth, data=data)
            else:
                obj = records.record_create(model=res.model, user=request.auth, data=data)
            return Status(201, res.redact(request, [get_object_or_404(res.base_queryset(request), pk=obj.pk)])[0])

    if res.allow_update:

        @router.patch(
            "/{int:record_id}",
            response={200: res.Out, 403: ErrorOut, 409: ConflictOut, 422: ErrorOut},
            operation_id=f"{res.path}_update",
            summary=f"Change a {model_name} (send the version you read)",
        )
        def update_record(request: HttpRequest, record_id: int, payload: res.Patch):  # type: ignore[valid-type]
            data = _payload(payload)
            version = data.pop("version", None)
            res.visible(request, record_id)
            with transaction.atomic(), _readable_not_writable():
                if res.update is not None:
                    obj = res.update(record_id, user=request.auth, data=data, version=version)
                else:
                    instance = records.get_for_write(res.model, record_id, request.auth)
                    obj, _changes = records.record_update(
                        instance=instance, user=request.auth, data=data, version=version
                    )
            return Status(200, res.redact(request, [get_object_or_404(res.base_queryset(request), pk=obj.pk)])[0])

    if res.allow_delete:

        @router.delete(
            "/{int:record_id}",
            response={204: None, 403: ErrorOut, 409: ConflictOut},
            operation_id=f"{res.path}_delete",
            summary=f"Delete a {model_name}",
        )
        def delete_record(request: HttpRequest, record_id: int, version: int | None = None):
            res.visible(request, record_id)
            with transaction.atomic(), _readable_not_writable():
                instance = records.get_for_write(res.model, record_id, request.auth)
                records.record_delete(instance=instance, user=request.auth, version=version)
            return Status(204, None)

    if is_audited(res.model):

        @router.get(
            "/{int:record_id}/history",
            response=list[HistoryOut],
            operation_id=f"{res.path}_history",
            summary=f"Audit history of a {model_name}",
        )
        def record_history(request: HttpRequest, record_id: int):
            obj = res.visible(request, record_id)
            entries = list(history_for(obj)[:500])
            if res.private_fields and not access.can_see_private_notes(request.auth):
                # The log holds old and new values: a private note must not be read through it.
                for entry in entries:
                    for name in set(res.private_fields) & set(entry.changes):
                        entry.changes[name] = [None, None]
            return entries

    return router


@contextmanager
def _readable_not_writable():
    """The caller checked the record is readable; missing from the writable set means 403."""
    try:
        yield
    except ObjectDoesNotExist as exc:
        raise Forbidden(_("You may read this record but not change it.")) from exc


class HistoryOut(Schema):
    id: int
    action: str
    at: Any
    actor_id: int | None
    actor_name: str | None = Field(None, alias="actor.username")
    changes: dict[str, Any]
    source: str
