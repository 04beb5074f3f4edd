"""``manage.py intel_stage_reach [--rebuild]``: backfill the funnel's first-reach table.

Without ``--rebuild`` it catches up (idempotent, resumable: only deals with stage changes newer
than the fill state are recomputed; a changed stage list or a first fill rebuilds everything).
With ``--rebuild`` it empties the table and fills it from all stage changes. Run it once after
``migrate`` on an existing database; afterwards the writers and the funnel keep it current.
"""

import time

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from salesloop.intel.models import StageReach
from salesloop.intel.stage_reach import stage_reach_catch_up, stage_reach_rebuild


class Command(BaseCommand):
    help = "Fill or catch up the funnel's first-reach table (intel.StageReach)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Empty the table and fill it from scratch.")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        if options["rebuild"]:
            stage_reach_rebuild()
            outcome = "rebuilt"
        else:
            outcome = stage_reach_catch_up()
        said = {"current": _("already current"), "refreshed": _("caught up"), "rebuilt": _("rebuilt")}
        self.stdout.write(
            _("First-reach table %(outcome)s: %(rows)s rows in %(seconds).1f s.")
            % {"outcome": said[outcome], "rows": StageReach.objects.count(), "seconds": time.perf_counter() - started}
        )
