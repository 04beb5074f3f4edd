"""Import templates and column documentation, generated from ``entities.py`` (never by hand)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from openpyxl import Workbook

from salesloop.dataio import cells
from salesloop.dataio.entities import LINE_MODEL, Column, EntitySpec

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
#: Filled by the import itself when left empty, so not "required" in a file.
_DEFAULTED = {"owner", "performed_by", "stage"}
_REF_FORMATS = {
    "username": "login name",
    "pk": "id",
    "external_id": "external ID",
    "name": "exact name",
    "code": "code or name",
    "sku": "SKU",
}


def _field(spec: EntitySpec, column: Column) -> models.Field | None:
    if column.role in ("id", "version", "ignored"):
        return None
    model = LINE_MODEL if column.role == "line" else spec.model
    return model._meta.get_field(column.field or column.key)


def requirement(spec: EntitySpec, column: Column) -> str:
    """``required``, ``one of <columns>`` (a required reference), or ``optional``."""
    fld = _field(spec, column)
    if fld is None:
        return _("optional")
    if column.role == "line":
        return _("required") if column.field in ("product", "quantity") else _("optional")
    if fld.name in _DEFAULTED:
        return _("optional")
    if fld.is_relation:
        if fld.null:
            return _("optional")
        group = [c.key for c in spec.columns if c.field == fld.name]
        return (
            _("one of %(columns)s") % {"columns": " / ".join(group)}
            if len(group) > 1
            else _("required")
        )
    if not fld.blank and not fld.has_default():
        return _("required")
    return _("optional")


def value_format(spec: EntitySpec, column: Column) -> str:
    if column.role == "ignored":
        return _("ignored")
    if column.role in ("id", "version"):
        return _("whole number")
    if column.ref is not None:
        return _REF_FORMATS[column.ref.by]
    fld = _field(spec, column)
    if fld.choices:
        return _("one of: %(choices)s") % {"choices": cells.choices_text(fld)}
    if isinstance(fld, models.BooleanField):
        return _("yes/no")
    if isinstance(fld, models.DecimalField):
        return _("number, up to %(places)s decimals") % {"places": fld.decimal_places}
    if isinstance(fld, models.DateTimeField):
        return _("date and time, e.g. 2025-03-31 14:30")
    if isinstance(fld, models.DateField):
        return _("date, e.g. 2025-03-31")
    if isinstance(fld, models.JSONField):
        return _("list, comma-separated")
    if isinstance(fld, models.EmailField):
        return _("e-mail address")
    return (
        _("text, up to %(max)s characters") % {"max": fld.max_length}
        if fld.max_length
        else _("text")
    )


def column_docs(spec: EntitySpec) -> list[dict[str, Any]]:
    return [
        {
            "column": column.key,
            "chinese": column.zh,
            "also": [a for a in column.aliases],
            "required": requirement(spec, column),
            "format": value_format(spec, column),
            "description": str(column.help),
        }
        for column in spec.columns
    ]


def template_columns(spec: EntitySpec) -> list[Column]:
    """The columns a template offers: everything importable (not the export-only ones)."""
    return [c for c in spec.columns if c.role != "ignored"]


def template_file(spec: EntitySpec, *, fmt: str, headers: str = "en") -> tuple[bytes, str, str]:
    """(content, content type, file name) of an empty file with the entity's header row; the
    ``.xlsx`` has a second sheet documenting each column."""
    columns = template_columns(spec)
    header = [c.zh if headers == "zh" else c.key for c in columns]
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow(header)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), CSV_TYPE, f"{spec.name}-template.csv"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=spec.name)
    sheet.append(header)
    docs = workbook.create_sheet(title=_("columns")[:31])
    docs.append([_("Column"), _("Chinese header"), _("Required"), _("Format"), _("Description")])
    for doc in column_docs(spec):
        if doc["column"] not in {c.key for c in columns}:
            continue
        docs.append(
            [doc["column"], doc["chinese"], doc["required"], doc["format"], doc["description"]]
        )
    if spec.notes:
        docs.append([])
        docs.append([str(spec.notes)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), XLSX_TYPE, f"{spec.name}-template.xlsx"


def columns_markdown(spec: EntitySpec) -> str:
    """The column table of ``spec`` in Markdown (README and ``import_data --columns``)."""
    lines = [
        f"### {spec.name}",
        "",
        "| Column | 中文 | Required | Format | Description |",
        "|---|---|---|---|---|",
    ]
    for doc in column_docs(spec):
        name = doc["column"] + (f" (also {', '.join(doc['also'])})" if doc["also"] else "")
        lines.append(
            f"| {name} | {doc['chinese']} | {doc['required']} | {doc['format']} "
            f"| {doc['description']} |"
        )
    if spec.notes:
        lines += ["", str(spec.notes)]
    return "\n".join(lines) + "\n"
