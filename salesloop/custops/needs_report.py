"""The weekly customer-needs report (《客户需求白皮书》, seed 000 §三.3) and its exports.

For one ISO week (Monday–Sunday, organisation time zone) and the needs the reader may see:

* top needs by count — tags by the number of needs captured this week (and distinct accounts);
* top needs by revenue — tags by the window revenue (``AccountRfm.monetary``) of the distinct
  accounts that voiced them this week: what the customers asking for it are worth to us;
* new this week — tags never captured before this week;
* quotes — the customers' own words, the latest three per tag;
* by kind and competitor mentions.

Exports: ``.xlsx`` (openpyxl) and PDF (fpdf2 with a CJK font, ``settings.PDF_CJK_FONT`` or the
Droid Sans Fallback that ``make install`` provides).
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salesloop.custops.models import AccountRfm, CustomerNeed, NeedKind, NeedTag
from salesloop.org import access
from salesloop.org.models import OrgSettings, User

TOP = 10
QUOTES_PER_TAG = 3
DEFAULT_FONT = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"


@dataclass
class TagRow:
    tag: str
    needs: int
    accounts: int
    revenue: Decimal
    is_new: bool
    quotes: list[dict] = field(default_factory=list)


@dataclass
class NeedsReport:
    week: str
    start: dt.date
    end: dt.date  # exclusive
    currency: str
    total_needs: int
    total_accounts: int
    by_kind: list[tuple[str, str, int]]
    top_by_count: list[TagRow]
    top_by_revenue: list[TagRow]
    new_tags: list[TagRow]
    competitors: list[tuple[str, int]]
    needs: list[CustomerNeed]


def parse_week(week: str | None) -> tuple[str, dt.date]:
    """``2025-W27`` (or a date in the week) → (ISO week label, its Monday); default: this week."""
    if not week:
        day = timezone.localdate()
    elif "W" in week.upper():
        year, number = week.upper().split("-W")
        day = dt.date.fromisocalendar(int(year), int(number), 1)
    else:
        day = dt.date.fromisoformat(week)
    monday = day - dt.timedelta(days=day.weekday())
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}", monday


def needs_report(*, user: User, week: str | None = None) -> NeedsReport:
    label, start = parse_week(week)
    end = start + dt.timedelta(days=7)
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    hi = timezone.make_aware(dt.datetime.combine(end, dt.time.min))
    visible = access.restrict(CustomerNeed.objects.all(), user, "read")
    week_needs = visible.filter(captured_at__gte=lo, captured_at__lt=hi)
    needs = list(
        week_needs.select_related("account", "captured_by").order_by("-captured_at", "-id")
    )

    tag_rows = NeedTag.objects.filter(need__in=week_needs.values("pk"))
    counts = {
        r["tag"]: r
        for r in tag_rows.values("tag").annotate(
            needs=Count("need_id"), accounts=Count("need__account_id", distinct=True)
        )
    }
    first_seen = dict(
        NeedTag.objects.filter(need__in=visible.values("pk"), tag__in=list(counts))
        .values("tag")
        .annotate(first=Min("need__captured_at"))
        .values_list("tag", "first")
    )
    pairs = set(tag_rows.values_list("tag", "need__account_id"))
    revenue_of = dict(
        AccountRfm.objects.filter(account_id__in={a for _t, a in pairs}).values_list(
            "account_id", "monetary"
        )
    )
    revenue: dict[str, Decimal] = {}
    for tag, account_id in pairs:
        revenue[tag] = revenue.get(tag, Decimal(0)) + (revenue_of.get(account_id) or Decimal(0))
    quotes: dict[str, list[dict]] = {}
    for need in needs:
        for tag in need.tags:
            if tag in counts and len(quotes.setdefault(tag, [])) < QUOTES_PER_TAG:
                quotes[tag].append(
                    {
                        "account": need.account.name,
                        "kind": need.get_kind_display(),
                        "summary": need.summary,
                        "quote": need.quote,
                        "date": timezone.localtime(need.captured_at).date().isoformat(),
                    }
                )
    rows = [
        TagRow(
            tag=tag,
            needs=r["needs"],
            accounts=r["accounts"],
            revenue=revenue.get(tag, Decimal(0)),
            is_new=first_seen.get(tag) is not None and first_seen[tag] >= lo,
            quotes=quotes.get(tag, []),
        )
        for tag, r in counts.items()
    ]
    kinds = dict(week_needs.values("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    competitors = list(
        week_needs.exclude(competitor="")
        .values("competitor")
        .annotate(n=Count("pk"))
        .order_by("-n", "competitor")
        .values_list("competitor", "n")
    )
    return NeedsReport(
        week=label,
        start=start,
        end=end,
        currency=OrgSettings.current().currency,
        total_needs=len(needs),
        total_accounts=len({n.account_id for n in needs}),
        by_kind=[(k, str(lbl), kinds.get(k, 0)) for k, lbl in NeedKind.choices],
        top_by_count=sorted(rows, key=lambda r: (-r.needs, -r.accounts, r.tag))[:TOP],
        top_by_revenue=sorted(rows, key=lambda r: (-r.revenue, -r.needs, r.tag))[:TOP],
        new_tags=sorted((r for r in rows if r.is_new), key=lambda r: (-r.needs, r.tag)),
        competitors=competitors,
        needs=needs,
    )


def report_title(report: NeedsReport) -> str:
    return _("Customer needs white paper, week %(week)s") % {"week": report.week}


# Exports -----------------------------------------------------------------------------------------


def to_xlsx(report: NeedsReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    bold = Font(bold=True)
    sheet.append([report_title(report)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            _("Week"),
            f"{report.start.isoformat()} – {(report.end - dt.timedelta(days=1)).isoformat()}",
        ]
    )
    sheet.append([_("Needs captured"), report.total_needs])
    sheet.append([_("Accounts"), report.total_accounts])
    sheet.append([])
    sheet.append([_("Kind"), _("Needs")])
    for _code, label, n in report.by_kind:
        sheet.append([label, n])

    def tag_sheet(title: str, rows: list[TagRow]) -> None:
        ws = book.create_sheet(title[:31])
        ws.append(
            [
                _("Tag"),
                _("Needs"),
                _("Accounts"),
                _("Revenue (%(cur)s)") % {"cur": report.currency},
                _("New this week"),
                _("Quotes"),
            ]
        )
        for cell in ws[1]:
            cell.font = bold
        for r in rows:
            ws.append(
                [
                    r.tag,
                    r.needs,
                    r.accounts,
                    r.revenue,
                    _("yes") if r.is_new else "",
                    "\n".join(f"{q['account']}: {q['quote'] or q['summary']}" for q in r.quotes),
                ]
            )
        ws.column_dimensions["A"].width = 24
        ws.column_dimensions["F"].width = 80

    tag_sheet(_("Top by count"), report.top_by_count)
    tag_sheet(_("Top by revenue"), report.top_by_revenue)
    tag_sheet(_("New this week"), report.new_tags)
    detail = book.create_sheet(_("All needs")[:31])
    detail.append(
        [
            _("Captured"),
            _("Account"),
            _("Kind"),
            _("Summary"),
            _("Customer's words"),
            _("Competitor"),
            _("Tags"),
            _("Captured by"),
        ]
    )
    for cell in detail[1]:
        cell.font = bold
    for need in report.needs:
        detail.append(
            [
                timezone.localtime(need.captured_at).replace(tzinfo=None),
                need.account.name,
                need.get_kind_display(),
                need.summary,
                need.quote,
                need.competitor,
                ", ".join(need.tags),
                str(need.captured_by) if need.captured_by_id else "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def font_path() -> str:
    path = (
        getattr(settings, "PDF_CJK_FONT", "") or os.environ.get("PDF_CJK_FONT", "") or DEFAULT_FONT
    )
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No CJK font at {path}: run `make install` (fonts-droid-fallback) or set PDF_CJK_FONT."
        )
    return path


def to_pdf(report: NeedsReport) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", "", font_path())
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, size: int = 10, gap: float = 1.5) -> None:
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line(report_title(report), 16, 3)
    line(
        _("%(start)s – %(end)s · %(needs)s needs from %(accounts)s accounts")
        % {
            "start": report.start.isoformat(),
            "end": (report.end - dt.timedelta(days=1)).isoformat(),
            "needs": report.total_needs,
            "accounts": report.total_accounts,
        },
        10,
        4,
    )
    line(" · ".join(f"{label} {n}" for _c, label, n in report.by_kind), 9, 4)

    def section(title: str, rows: list[TagRow], with_quotes: bool) -> None:
        line(title, 13, 2)
        if not rows:
            line(_("Nothing this week."), 9, 3)
            return
        for i, r in enumerate(rows, 1):
            flag = f" [{_('new')}]" if r.is_new else ""
            line(
                _(
                    "%(i)s. %(tag)s%(flag)s — %(needs)s needs, %(accounts)s accounts, "
                    "revenue %(revenue)s %(cur)s"
                )
                % {
                    "i": i,
                    "tag": r.tag,
                    "flag": flag,
                    "needs": r.needs,
                    "accounts": r.accounts,
                    "revenue": f"{r.revenue:,.2f}",
                    "cur": report.currency,
                },
                10,
                1,
            )
            if with_quotes:
                for q in r.quotes:
                    line(
                        f"    “{q['quote'] or q['summary']}” — {q['account']} ({q['date']})", 8, 0.5
                    )
        pdf.ln(3)

    section(_("Top needs by count"), report.top_by_count, True)
    section(_("Top needs by revenue"), report.top_by_revenue, False)
    section(_("New this week"), report.new_tags, True)
    line(_("Competitor mentions"), 13, 2)
    line(
        ", ".join(f"{name} ({n})" for name, n in report.competitors) or _("None this week."), 10, 2
    )
    return bytes(pdf.output())


def needs_matching(qs, q: str):
    """Free-text filter on summary, words, competitor and tags (for the needs list)."""
    if not q:
        return qs
    return qs.filter(
        Q(summary__icontains=q)
        | Q(quote__icontains=q)
        | Q(competitor__icontains=q)
        | Q(tag_rows__tag__icontains=q)
    ).distinct()
