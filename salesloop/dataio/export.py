"""Exporting any list to CSV or ``.xlsx``; the same columns the API returns.

An export is also an import file: every column it writes is understood by the importer
(``entities.py``), so "export, edit in Excel, import" updates the records in place.

Spreadsheet safety: text that Excel would run as a formula (``=HYPERLINK(...)``, ``@SUM``,
``+cmd|``) is written to ``.xlsx`` as a plain string cell, and to CSV with a leading apostrophe
(the usual CSV-injection guard, which the importer removes again); characters ``.xlsx`` cannot
hold (control characters pasted into notes) are dropped instead of failing the download.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: First characters that make Excel treat a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: write local (organisation) time.
        return timezone.localtime(value).replace(tzinfo=None)
    if (
        isinstance(value, list)
        and any(isinstance(v, dict) for v in value)
        or isinstance(value, dict)
    ):
        # Nested rows (an order's lines) as JSON: readable, and not ambiguous like "a,b".
        return json.dumps(value, ensure_ascii=False, default=_json_default, separators=(",", ":"))
    if isinstance(value, list):
        return ",".join(map(str, value))
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value)
    value = _cell(value)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM so that Excel opens UTF-8 Chinese text correctly
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row])


def _xlsx_bytes(name: str, header: list[str], rows: Iterable[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=name[:31])
    sheet.append(header)
    for row in rows:
        out = []
        for value in row:
            value = _cell(value)
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"  # text stays text, even "=..." (never a formula)
                out.append(cell)
            else:
                out.append(value)
        sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_bytes(*, name: str, fmt: str, header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """The whole file in memory (the CLI writes it to disk)."""
    if fmt == "csv":
        return "".join(_csv_rows(header, rows)).encode("utf-8")
    return _xlsx_bytes(name, header, rows)


def export_response(
    *, name: str, fmt: str, header: list[str], rows: Iterable[list[Any]]
) -> HttpResponse:
    """A download of ``rows``; CSV streams (constant memory), XLSX uses openpyxl's write-only
    mode."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_rows(header, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
        return response
    response = HttpResponse(_xlsx_bytes(name, header, rows), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.xlsx"'
    return response


def export_table(
    *, resource: Any, user: Any, filters: dict[str, Any], sort: str | None
) -> tuple[list[str], Iterator]:
    """Header and rows of ``resource``'s list as ``user`` sees it, filtered like the API's export.

    Why a request object: the resource's queryset is scoped by ``request.auth`` (the same
    ``access.restrict`` call the API makes); the CLI builds one for the user it acts as.
    ``test_export.py`` checks that this gives the API's export byte for byte.
    """
    from salesloop.org import access

    request = HttpRequest()
    request.auth = user
    request.user = user
    qs = resource.ordered(resource.Filters(**filters).filter(resource.base_queryset(request)), sort)
    hide = bool(resource.private_fields) and not access.can_see_private_notes(user)
    if hide:
        qs = qs.defer(*resource.private_fields)
    header = list(resource.Out.model_fields)
    rows: Iterator = resource.export_rows(qs)
    if hide:
        hidden = {header.index(n) for n in resource.private_fields if n in header}
        rows = ([None if i in hidden else v for i, v in enumerate(r)] for r in rows)
    return header, rows
