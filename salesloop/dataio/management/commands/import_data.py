"""``manage.py import_data <entity> <file> --as <username> [--dry-run]``: the API's import.

Also ``--template FILE`` (an empty file to fill in) and ``--columns`` (what each column means).
Exit code 0 when the file was valid (and, unless ``--dry-run``, imported), 1 otherwise.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from salesloop.dataio.entities import ENTITIES
from salesloop.dataio.services import ENGINES, import_file
from salesloop.dataio.templates import columns_markdown, template_file
from salesloop.org.models import User


class Command(BaseCommand):
    help = (
        "Import accounts, contacts, leads, opportunities, activities or orders from CSV or .xlsx."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("entity", choices=sorted(ENTITIES))
        parser.add_argument("file", nargs="?", help="CSV (UTF-8 or GBK) or .xlsx file to import.")
        parser.add_argument(
            "--as", dest="username", help="Import as this user (their permissions apply)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row; write nothing."
        )
        parser.add_argument("--encoding", help="Force the CSV encoding (default: UTF-8, else GBK).")
        parser.add_argument(
            "--template", metavar="FILE", help="Write an empty import file (.csv or .xlsx)."
        )
        parser.add_argument(
            "--headers", choices=["en", "zh"], default="en", help="Template header language."
        )
        parser.add_argument(
            "--columns", action="store_true", help="Print the columns of the entity."
        )
        parser.add_argument(
            "--engine",
            choices=sorted(ENGINES),
            default="bulk",
            help=(
                "bulk (default) or services: row by row through the API's services "
                "(slow; for checking)."
            ),
        )

    def handle(self, *args, **options) -> None:
        spec = ENTITIES[options["entity"]]
        if options["columns"]:
            with translation.override("en"):
                self.stdout.write(columns_markdown(spec))
            return
        if options["template"]:
            path = Path(options["template"])
            fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
            content, _type, _name = template_file(spec, fmt=fmt, headers=options["headers"])
            path.write_bytes(content)
            self.stdout.write(f"Wrote {path} ({len(spec.columns)} columns documented).")
            return
        if not options["file"]:
            raise CommandError("Give the file to import (or --template FILE, or --columns).")
        if not options["username"]:
            raise CommandError("Say who imports: --as <username> (their permissions apply).")
        user = (
            User.objects.select_related("team")
            .filter(username=options["username"], is_active=True)
            .first()
        )
        if user is None:
            raise CommandError(f"No active user {options['username']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        limit = int(settings.IMPORT_MAX_BYTES)
        with path.open("rb") as handle:
            content = handle.read(limit + 1)
        with translation.override(user.language or settings.LANGUAGE_CODE):
            report = import_file(
                user=user,
                entity=spec.name,
                content=content,
                file_name=path.name,
                dry_run=options["dry_run"],
                via="cli",
                encoding=options["encoding"],
                engine=options["engine"],
            )
            self._print(report)
            if not report.ok:
                raise CommandError(report.message or _("The import failed."), returncode=1)

    def _print(self, report) -> None:
        for note in report.notes:
            self.stdout.write(note)
        if report.errors:
            rows = [(str(e.row or ""), e.column or "", e.message) for e in report.errors]
            widths = [
                max(len(r[i]) for r in [(_("Row"), _("Column"), ""), *rows]) for i in range(2)
            ]
            self.stdout.write(
                f"{_('Row'):<{widths[0]}}  {_('Column'):<{widths[1]}}  {_('Problem')}"
            )
            for row, column, message in rows:
                self.stdout.write(f"{row:<{widths[0]}}  {column:<{widths[1]}}  {message}")
        if report.ok:
            self.stdout.write(self.style.SUCCESS(report.message))
