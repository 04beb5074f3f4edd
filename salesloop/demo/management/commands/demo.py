"""``manage.py demo``: load the demo organisation (see ``salesloop.demo.services.demo_build``)."""

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from salesloop.demo.profile import SIZES
from salesloop.demo.services import DemoRefused, demo_build


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            _("--as-of must be a date like 2025-06-30, not %(value)r.") % {"value": value}
        ) from exc


class Command(BaseCommand):
    help = _(
        "Load a realistic, reproducible demo organisation: a team tree with reps, customers, "
        "deals with their stage history, activities, orders, invoices, payments and contracts. "
        "Every demo user's password is demo1234 (see manage.py demo_logins)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--size",
            choices=list(SIZES),
            default="S",
            help=_("XS for tests, S for a laptop (make run), M for benchmarks."),
        )
        parser.add_argument(
            "--seed", type=int, default=0, help=_("Same seed, same data (default 0).")
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            default=None,
            help=_("The demo's today, YYYY-MM-DD (default: today); history ends the day before."),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=_("Do nothing when the database already holds data."),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("Delete the people, teams and business records first (configuration stays)."),
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help=_("Processes generating data; 0 (default): one per core for size M, else 1."),
        )
        parser.add_argument(
            "--report-json",
            dest="report_json",
            default=None,
            help=_("Also write phase timings and row counts to this JSON file."),
        )

    def handle(self, *args, **options):
        size = SIZES[options["size"]]
        as_of = _as_of(options["as_of"]) if options["as_of"] else None
        verbosity = options["verbosity"]
        try:
            report = demo_build(
                size=size,
                seed=options["seed"],
                as_of=as_of,
                reset=options["reset"],
                if_empty=options["if_empty"],
                progress=verbosity >= 1,
                workers=options["workers"] or None,
            )
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if report.skipped:
            if verbosity:
                self.stdout.write(
                    _("The database already holds data; demo data not loaded (--if-empty).")
                )
            return
        if options["report_json"]:
            Path(options["report_json"]).write_text(
                json.dumps(
                    {
                        "size": report.size,
                        "seed": report.seed,
                        "as_of": report.as_of.isoformat(),
                        "seconds": report.seconds,
                        "workers": report.workers,
                        "phases": report.phases,
                        "details": report.details,
                        "rows": report.rows,
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Demo data size %(size)s (seed %(seed)s, as of %(as_of)s) loaded in "
                        "%(seconds).1f s by %(workers)s process(es)."
                    )
                    % {
                        "size": report.size,
                        "seed": report.seed,
                        "as_of": report.as_of,
                        "seconds": report.seconds,
                        "workers": report.workers,
                    }
                )
            )
            for phase, seconds in report.phases.items():
                self.stdout.write(f"  {phase:<36} {seconds:8.1f} s")
            for name, seconds in report.details.items():
                self.stdout.write(f"  ({name}: {seconds:.1f} s)")
            for label, count in sorted(report.rows.items()):
                self.stdout.write(f"  {label:<36} {count:>10,}")
