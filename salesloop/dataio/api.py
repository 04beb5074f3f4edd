"""Import endpoints under ``/api/import``: upload a file, download a template, read the columns.

Exports live with each list (``GET /api/<resource>/export``, see ``dataio.export``).
"""

from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from salesloop.dataio.entities import ENTITIES
from salesloop.dataio.models import ImportRun
from salesloop.dataio.services import import_file
from salesloop.dataio.templates import column_docs, template_file

router = Router(tags=["import"])

EntityName = Literal["accounts", "contacts", "leads", "opportunities", "activities", "orders"]
assert set(EntityName.__args__) == set(ENTITIES)  # type: ignore[attr-defined]


class ImportErrorOut(Schema):
    row: int | None
    column: str | None
    field: str | None
    message: str


class ImportReportOut(Schema):
    entity: str
    dry_run: bool
    ok: bool
    message: str
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[ImportErrorOut]
    notes: list[str]
    run_id: int | None


class ColumnOut(Schema):
    column: str
    chinese: str
    also: list[str]
    required: str
    format: str
    description: str


class EntityOut(Schema):
    name: str
    label: str
    notes: str
    columns: list[ColumnOut]


class ImportRunOut(Schema):
    id: int
    entity: str
    file_name: str
    dry_run: bool
    outcome: str
    rows: int
    created: int
    updated: int
    unchanged: int
    error_count: int
    created_at: str
    duration_ms: int

    @staticmethod
    def resolve_created_at(obj: ImportRun) -> str:
        return obj.created_at.isoformat()


@router.get(
    "/entities",
    response=list[EntityOut],
    operation_id="import_entities",
    summary="Importable entities",
)
def import_entities(request: HttpRequest):
    """Each importable entity with its columns: header, Chinese header, required, format."""
    return [
        {
            "name": spec.name,
            "label": str(spec.label),
            "notes": str(spec.notes),
            "columns": column_docs(spec),
        }
        for spec in ENTITIES.values()
    ]


@router.get(
    "/templates/{entity}",
    operation_id="import_template",
    summary="Download an empty import file for an entity",
)
def import_template(
    request: HttpRequest,
    entity: EntityName,
    format: Literal["csv", "xlsx"] = "xlsx",  # noqa: A002
    headers: Literal["en", "zh"] = "en",
):
    """The header row to fill in (English field names or, with ``headers=zh``, Chinese); the
    ``.xlsx`` has a second sheet describing each column."""
    content, content_type, name = template_file(ENTITIES[entity], fmt=format, headers=headers)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/runs", response=list[ImportRunOut], operation_id="import_runs", summary="My recent imports"
)
def import_runs(request: HttpRequest, limit: int = Query(50, ge=1, le=200)):
    """The caller's own import runs, newest first (administrators see everyone's in the admin)."""
    return list(ImportRun.objects.filter(user=request.auth)[:limit])


# Declared last: "/{entity}" would otherwise also match "/entities" and "/runs".
@router.post(
    "/{entity}",
    response={
        200: ImportReportOut,
        403: ImportReportOut,
        409: ImportReportOut,
        413: ImportReportOut,
        422: ImportReportOut,
    },
    operation_id="import_upload",
    summary="Import a CSV or .xlsx file (dry run or all-or-nothing)",
)
def import_upload(
    request: HttpRequest, entity: EntityName, file: UploadedFile = File(...), dry_run: bool = False
):
    """Upload ``file`` (multipart). 200 with counts when every row is valid (and, unless
    ``dry_run``, written); 422 with every bad row's ``row``/``column``/``message`` otherwise, and
    nothing written. Matching rows (same ``external_id``, order ``number`` or exported ``id``) are
    updated, so importing the same file twice creates no duplicates."""
    limit = int(settings.IMPORT_MAX_BYTES)
    content = file.read(limit + 1)  # one byte over the limit is enough to refuse it
    report = import_file(
        user=request.auth,
        entity=entity,
        content=content,
        file_name=file.name or "",
        dry_run=dry_run,
        via="api",
    )
    return Status(report.status, report.as_dict())
