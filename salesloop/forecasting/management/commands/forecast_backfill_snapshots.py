"""Replay the weekly forecast snapshots of the past N weeks, each as of its own day.

Every method reads only what was known before that day (``as_of``), so the replayed rows are what
the weekly job would have stored; accuracy then shows on a fresh (demo) database at once.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from salesloop.forecasting.services import backfill


class Command(BaseCommand):
    help = "Replay the forecast snapshots of the past N weeks (as of each week) and fill the actuals."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--weeks", type=int, default=26, help="How many weeks back (default 26).")
        parser.add_argument("--replace", action="store_true", help="Recompute days that already have snapshots.")

    def handle(self, *args, weeks: int, replace: bool, **options) -> None:
        result = backfill(weeks=max(weeks, 0), today=timezone.localdate(), replace=replace)
        for day, rows in result["days"].items():
            self.stdout.write(f"{day}: {rows} snapshots" + ("" if rows else " (already there)"))
        self.stdout.write(f"actuals filled: {result['actuals_filled']}")
