"""``manage.py export_data <entity> --as <username> --format csv|xlsx -o FILE``: the API's export.

Same columns, filters (``--filter owner_id=7``), sort and visibility as
``GET /api/<entity>/export``; the file can be edited and imported again with ``import_data``.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import ValidationError

from salesloop.core.errors import FieldErrors
from salesloop.dataio.export import FORMATS, export_bytes, export_table
from salesloop.org import access
from salesloop.org.models import User


def _resources() -> dict:
    from salesloop.api_registry import ALL_RESOURCES  # the API's own declarations

    return {res.path: res for res in ALL_RESOURCES}


class Command(BaseCommand):
    help = (
        "Export a list (accounts, contacts, leads, opportunities, activities, orders, ...) "
        "to CSV or .xlsx."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "entity", help="The API list to export, e.g. accounts, opportunities, orders."
        )
        parser.add_argument(
            "--as", dest="username", required=True, help="Export what this user may see."
        )
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("-o", "--output", required=True, help="File to write.")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A filter of the list endpoint, e.g. owner_id=7 (repeatable).",
        )
        parser.add_argument("--sort", help="Sort keys as in the API, e.g. -created_at.")

    def handle(self, *args, **options) -> None:
        resources = _resources()
        resource = resources.get(options["entity"])
        if resource is None:
            raise CommandError(
                f"Unknown list {options['entity']!r}; choose from {', '.join(sorted(resources))}."
            )
        user = (
            User.objects.select_related("team")
            .filter(username=options["username"], is_active=True)
            .first()
        )
        if user is None:
            raise CommandError(f"No active user {options['username']!r}.")
        if not access.can_read_model(user, resource.model):
            raise CommandError(f"{user.username} may not read {resource.path}.")
        filters = {}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter {item!r}: write NAME=VALUE.")
            filters[name.strip()] = value.strip()
        try:
            header, rows = export_table(
                resource=resource, user=user, filters=filters, sort=options["sort"]
            )
            content = export_bytes(
                name=resource.export_name, fmt=options["format"], header=header, rows=rows
            )
        except ValidationError as exc:
            raise CommandError(
                f"Bad filter: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
            ) from exc
        except FieldErrors as exc:
            raise CommandError("; ".join(m for ms in exc.errors.values() for m in ms)) from exc
        Path(options["output"]).write_bytes(content)
        self.stdout.write(f"Wrote {options['output']} ({len(content)} bytes).")
