"""``manage.py custops_recompute [--as-of YYYY-MM-DD]``: segments and churn scores now."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from salesloop.core.errors import FieldErrors
from salesloop.custops.services import scoring_run_create


class Command(BaseCommand):
    help = "Recompute RFM segments (recording moves) and churn scores for every account."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", help="Scoring date (default: today in the organisation's time zone)."
        )

    def handle(self, *args, as_of=None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError as exc:
            raise CommandError(f"--as-of: not a date (YYYY-MM-DD): {as_of!r}") from exc
        try:
            run = scoring_run_create(as_of=day)
        except FieldErrors as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            ) from exc
        fit = run.bgnbd
        model = (
            f"BG/NBD r={fit['r']:.3f} alpha={fit['alpha']:.3f} a={fit['a']:.3f} b={fit['b']:.3f}"
            if fit.get("used")
            else "BG/NBD not used (too little or too uniform history); gap rule only"
        )
        self.stdout.write(
            f"{run.as_of}: {run.accounts} accounts, {run.segment_changes} segment changes, "
            f"{run.flagged} churn flags; {model}; {run.seconds:.1f} s"
        )
