"""Reading an uploaded spreadsheet into a header and numbered rows, whatever wrote it.

What real files look like: Excel on a Chinese Windows saves "CSV" in GBK (code page 936), Excel
elsewhere and most tools write UTF-8, often with a byte-order mark; Excel's "Unicode text" is
UTF-16 with tabs. ``.xlsx`` is read with openpyxl in read-only mode (streams the sheet, constant
memory). The kind of file is decided from its bytes, not its name, so a renamed file is still
read correctly and a picture called ``data.csv`` is refused with a clear message.

Row numbers are the numbers Excel shows: the header is row 1, and a quoted cell spanning lines
in a CSV is still one row. Blank rows are skipped but keep their number.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

#: Encodings tried, in order, for a CSV without a byte-order mark. GB18030 is the superset of
#: GBK/GB2312 that Chinese Excel writes; it is tried second because valid UTF-8 text is
#: almost never also meaningful GB18030, while the reverse is common.
CSV_ENCODINGS = ("utf-8", "gb18030")

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc


def max_rows() -> int:
    """Rows beyond this are refused (split the file); an operational limit, set in settings."""
    return int(getattr(settings, "IMPORT_MAX_ROWS", 100_000))


class FileRejected(Exception):
    """The file as a whole cannot be read; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Table:
    """A sheet: the header cells and the data rows as ``(row number, cells)``."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]
    file_format: str
    encoding: str = ""
    #: Cell values keep their spreadsheet type (``xlsx``: numbers, dates; ``csv``: text).
    typed: bool = False
    notes: list[str] = field(default_factory=list)


def _is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_table(content: bytes, *, file_name: str = "", encoding: str | None = None) -> Table:
    """Parse ``content`` (the whole file) into a :class:`Table` or raise :class:`FileRejected`."""
    limit = int(settings.IMPORT_MAX_BYTES)
    if len(content) > limit:
        raise FileRejected(
            _("The file is larger than the limit of %(limit)s bytes. Split it into smaller files.")
            % {"limit": limit},
            status=413,
        )
    if not content.removeprefix(b"\xef\xbb\xbf").strip():
        raise FileRejected(_("The file is empty."))
    if content.startswith(_XLSX_MAGIC):
        table = _read_xlsx(content)
    elif content.startswith(_OLE_MAGIC):
        raise FileRejected(
            _("This is an old Excel (.xls) file. Save it as .xlsx or CSV (UTF-8) and import that.")
        )
    else:
        table = _read_csv(content, encoding=encoding)
    if not table.header or all(not h for h in table.header):
        raise FileRejected(_("The first row must name the columns; it is empty."))
    if not table.rows:
        raise FileRejected(_("The file has a header row but no data rows."))
    return table


# CSV ----------------------------------------------------------------------------------------


def _decode(content: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return content.decode(encoding), encoding
        except LookupError as exc:
            raise FileRejected(_("Unknown encoding %(name)s.") % {"name": encoding}) from exc
        except UnicodeDecodeError as exc:
            raise FileRejected(
                _("The file is not valid %(name)s text (byte %(pos)s).")
                % {"name": encoding, "pos": exc.start}
            ) from exc
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileRejected(
                _("The file says it is UTF-8 but byte %(pos)s is not valid UTF-8.")
                % {"pos": exc.start + 3}
            ) from exc
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileRejected(_("The file says it is UTF-16 but is not valid UTF-16.")) from exc
    for name in CSV_ENCODINGS:
        try:
            return content.decode(name), name
        except UnicodeDecodeError:
            continue
    raise FileRejected(
        _(
            "The file is neither a spreadsheet (.xlsx) nor text in UTF-8 or GBK. "
            "Save it from Excel as .xlsx or as CSV (UTF-8)."
        )
    )


def _delimiter(first_line: str) -> str:
    """Comma unless the header line clearly uses tabs or semicolons (Excel "Unicode text", EU)."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(content: bytes, *, encoding: str | None) -> Table:
    text, used = _decode(content, encoding)
    if "\x00" in text:
        raise FileRejected(
            _(
                "The file contains binary data; it is not a CSV file. "
                "Import .xlsx or CSV files only."
            )
        )
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=_delimiter(first_line)
    )
    header: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    limit = max_rows()
    try:
        for number, cells in enumerate(reader, start=1):
            if header is None:
                header = [c.strip() for c in cells]
                continue
            if _is_blank(cells):
                continue
            if len(rows) >= limit:
                raise FileRejected(
                    _("The file has more than %(limit)s data rows; split it into smaller files.")
                    % {"limit": limit}
                )
            rows.append((number, cells))
    except csv.Error as exc:
        raise FileRejected(
            _("The CSV file cannot be read near line %(line)s: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    return Table(header=header or [], rows=rows, file_format="csv", encoding=used)


# XLSX ---------------------------------------------------------------------------------------


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date | bool | int | float) or value is None:
        return value
    return str(value)  # rich text, errors ("#N/A") and the like are read as what they show


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FileRejected(
            _("The file looks like a zip archive but is not a readable .xlsx workbook.")
        ) from exc
    try:
        if not workbook.worksheets:
            raise FileRejected(_("The workbook has no sheets."))
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        limit = max_rows()
        iterator: Iterator = sheet.iter_rows(values_only=True)
        for number, values in enumerate(iterator, start=1):
            cells = [_xlsx_cell(v) for v in values]
            if header is None:
                header = ["" if v is None else str(v).strip() for v in cells]
                while header and not header[-1]:
                    header.pop()
                continue
            if _is_blank(cells):
                continue
            if len(rows) >= limit:
                raise FileRejected(
                    _("The file has more than %(limit)s data rows; split it into smaller files.")
                    % {"limit": limit}
                )
            rows.append((number, cells))
    finally:
        workbook.close()
    notes = []
    if len(workbook.sheetnames) > 1:
        notes.append(
            _("Only the first sheet (%(name)s) was read.") % {"name": workbook.sheetnames[0]}
        )
    return Table(header=header or [], rows=rows, file_format="xlsx", typed=True, notes=notes)
