"""Importing a file: one function for the API and the CLI, all-or-nothing, logged in ``ImportRun``.

What an import does (README "Import"):

* Every row is read and checked before anything is written; the report lists every bad row with
  its row number (header = row 1, as Excel shows it), column and reason.
* ``dry_run``: the whole import is carried out inside a transaction that is then rolled back,
  so a dry run reports exactly what the real run would (counts and errors) and writes nothing.
* A real run writes everything or nothing: one bad row and the transaction is rolled back.
* Upsert: a row whose ``external_id`` (orders: ``number``; exports: ``id``) names an existing
  record updates it. The columns in the file overwrite the record's fields; columns not in the
  file are left alone; an empty cell clears a field that may be empty and leaves a required one
  unchanged. A change bumps ``version`` and writes an audit entry with ``source="import"``; a row
  that changes nothing is counted as unchanged and touches nothing, so importing the same file
  twice changes nothing the second time.
* Who may import what is the API's rule (``org.access``): you import into the books you may
  write; a reference to a record you cannot see is an error on that row.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from salesloop.customers.models import Lead
from salesloop.dataio.entities import ENTITIES, EntitySpec
from salesloop.dataio.models import ImportOutcome, ImportRun
from salesloop.dataio.planning import HeaderRejected, RowError, build_plan, sort_errors
from salesloop.dataio.reader import FileRejected, read_table
from salesloop.dataio.writers import write_in_bulk, write_with_services
from salesloop.org import access
from salesloop.org.models import User

ENGINES = {"bulk": write_in_bulk, "services": write_with_services}


@dataclass
class ImportReport:
    entity: str
    dry_run: bool
    outcome: str
    status: int = 200
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    message: str = ""
    file_format: str = ""
    run_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == ImportOutcome.SUCCEEDED

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "message": self.message,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "notes": self.notes,
            "run_id": self.run_id,
        }


class _Rollback(Exception):
    """Raised inside the import's transaction to undo it (dry run, or any bad row)."""


def import_file(
    *,
    user: User,
    entity: str,
    content: bytes,
    file_name: str = "",
    dry_run: bool = False,
    via: str = "api",
    encoding: str | None = None,
    engine: str = "bulk",
) -> ImportReport:
    """Import ``content`` (a CSV or ``.xlsx`` file) into ``entity`` as ``user``; never raises for
    bad input: the report says what was wrong, and the run is logged whatever happened."""
    spec = ENTITIES[entity]
    started = time.perf_counter()
    report = ImportReport(entity=entity, dry_run=dry_run, outcome=ImportOutcome.SUCCEEDED)
    try:
        if not access.can_write_model(user, spec.model):
            report.outcome, report.status = ImportOutcome.FORBIDDEN, 403
            report.message = _("You may not import %(entity)s.") % {"entity": spec.label}
        else:
            table = read_table(content, file_name=file_name, encoding=encoding)
            report.file_format = table.file_format
            report.rows = len(table.rows)
            _import_table(spec, user, table, report, dry_run=dry_run, engine=engine)
    except FileRejected as exc:
        report.outcome, report.status, report.message = (
            ImportOutcome.REJECTED,
            exc.status,
            exc.message,
        )
        report.errors = [RowError(None, None, None, exc.message)]
    except HeaderRejected as exc:
        report.outcome, report.status = ImportOutcome.REJECTED, 422
        report.message = _("The header row does not match the columns of %(entity)s.") % {
            "entity": spec.label
        }
        report.errors = exc.errors
    report.run_id = _log_run(user, spec, report, content, file_name, via, started).pk
    return report


def _import_table(
    spec: EntitySpec, user: User, table, report: ImportReport, *, dry_run: bool, engine: str
) -> None:
    write = ENGINES[engine]
    try:
        with transaction.atomic():
            plan = build_plan(spec, user, table, lock=True)
            outcome = write(plan)
            report.notes = plan.notes
            if plan.errors:
                report.errors = sort_errors(plan.errors, table.header)
                raise _Rollback
            if spec.model is Lead and outcome.unowned_created:
                # Issue #7: imported leads without an owner go through the routing rules.
                from salesloop.intel.services import leads_route

                leads_route(lead_ids=outcome.unowned_created, by=user)
            report.created, report.updated, report.unchanged = (
                outcome.created,
                outcome.updated,
                outcome.unchanged,
            )
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except IntegrityError:
        # Someone else created a record with the same key between our check and our write.
        report.errors = [
            RowError(
                None,
                None,
                None,
                _(
                    "Another user changed the same records while the file was being imported; "
                    "nothing was "
                    "written. Import the file again."
                ),
            )
        ]
        report.outcome, report.status = ImportOutcome.INVALID, 409
        report.message = report.errors[0].message
        return
    if report.errors:
        report.outcome, report.status = ImportOutcome.INVALID, 422
        rows = len({e.row for e in report.errors})
        report.message = _(
            "%(rows)s row(s) have errors (%(count)s in all); nothing was written. "
            "Fix them and import again."
        ) % {"rows": rows, "count": len(report.errors)}
    elif dry_run:
        report.message = _(
            "Dry run: the file is valid. Importing it would create %(created)s, update %(updated)s "
            "and leave %(unchanged)s unchanged."
        ) % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    else:
        report.message = _(
            "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged."
        ) % {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }


def _log_run(
    user, spec, report: ImportReport, content: bytes, file_name: str, via: str, started: float
) -> ImportRun:
    return ImportRun.objects.create(
        user=user if user is not None and user.pk else None,
        entity=spec.name,
        file_name=(file_name or "")[:255],
        file_size=len(content),
        file_sha256=hashlib.sha256(content).hexdigest(),
        file_format=report.file_format,
        dry_run=report.dry_run,
        via=via,
        outcome=report.outcome,
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        error_count=len(report.errors),
        errors=[e.as_dict() for e in report.errors],
        message=report.message[:500],
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
