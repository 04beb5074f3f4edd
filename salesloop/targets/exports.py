"""Meeting packs as files: ``.xlsx`` (openpyxl, one sheet per section) and PDF (fpdf2).

The PDF embeds a subset of a CJK font so Chinese names and labels print on any reader: Droid
Sans Fallback from the Debian package ``fonts-droid-fallback`` (installed by ``make install``),
or the file named by the ``SALESLOOP_PDF_FONT`` environment variable.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from salesloop.targets.packs import Pack

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
]


class FontMissing(RuntimeError):
    pass


def pdf_font_path() -> Path:
    configured = os.environ.get("SALESLOOP_PDF_FONT")
    for candidate in [configured, *FONT_CANDIDATES]:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(_("No CJK font for PDF export: install fonts-droid-fallback (make install)."))


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Sheet"
    base, i = name, 2
    while name in used:
        name = f"{base[:25]}~{i}"
        i += 1
    used.add(name)
    return name


def pack_xlsx(pack: Pack) -> bytes:
    wb = Workbook()
    summary = wb.active
    summary.title = _sheet_name(_("Summary"), set())
    used = {summary.title}
    summary.append([pack.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([_("Period"), pack.period.label()])
    summary.append([_("Generated"), timezone.localtime(pack.generated_at).strftime("%Y-%m-%d %H:%M")])
    for section in pack.sections:
        ws = wb.create_sheet(_sheet_name(section.title, used))
        ws.append([section.title])
        ws["A1"].font = Font(bold=True, size=12)
        if section.note:
            ws.append([section.note])
        ws.append(section.columns)
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
        for row in section.rows:
            ws.append([str(v) for v in row])
        for i, _col in enumerate(section.columns, start=1):
            width = max([len(str(section.columns[i - 1]))] + [len(str(r[i - 1])) for r in section.rows] + [6])
            ws.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
        for row in ws.iter_rows(min_row=header_row + 1):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pack_pdf(pack: Pack) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", "", str(pdf_font_path()))
    pdf.set_title(pack.title)
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.multi_cell(0, 8, pack.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    stamp = timezone.localtime(pack.generated_at).strftime("%Y-%m-%d %H:%M")
    pdf.multi_cell(
        0, 5, f"{_('Period')}: {pack.period.label()} · {_('Generated')}: {stamp}", new_x="LMARGIN", new_y="NEXT"
    )
    for section in pack.sections:
        pdf.ln(3)
        pdf.set_font("cjk", size=11)
        pdf.multi_cell(0, 6, section.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=7.5)
        if section.note:
            pdf.multi_cell(0, 4.5, section.note, new_x="LMARGIN", new_y="NEXT")
        if not section.rows:
            continue
        with pdf.table(
            headings_style=FontFace(emphasis=None, fill_color=(230, 236, 245)),
            line_height=4.5,
            text_align="LEFT",
            first_row_as_headings=True,
        ) as table:
            table.row([str(c) for c in section.columns])
            for r in section.rows:
                table.row([str(v) for v in r])
    return bytes(pdf.output())
