"""``manage.py demo_logins``: who you can log in as after ``make run``, one line per login."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from salesloop.demo.profile import DEMO_PASSWORD
from salesloop.demo.selectors import demo_logins, latest_dataset
from salesloop.org.models import Role

#: Above this many reps only the first rep of each team is listed, unless --all.
REP_LIMIT = 30


class Command(BaseCommand):
    help = _("Print the demo logins per role (username, password, role, team).")

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help=_("List every rep, however many."))

    def handle(self, *args, **options):
        dataset = latest_dataset()
        logins = demo_logins()
        if not logins:
            self.stdout.write(_("No demo logins: run `python manage.py demo` first."))
            return
        if dataset is not None:
            self.stdout.write(
                _(
                    "Demo data size %(size)s, seed %(seed)s, as of %(as_of)s. "
                    "Every password: %(password)s"
                )
                % {
                    "size": dataset.size,
                    "seed": dataset.seed,
                    "as_of": dataset.as_of,
                    "password": DEMO_PASSWORD,
                }
            )
        reps = [login for login in logins if login.role == Role.REP]
        shown = logins
        if len(reps) > REP_LIMIT and not options["all"]:
            seen_teams: set[str] = set()
            shown = []
            for login in logins:
                if login.role == Role.REP:
                    if login.team in seen_teams:
                        continue
                    seen_teams.add(login.team)
                shown.append(login)
        headers = (_("Username"), _("Password"), _("Role"), _("Name"), _("Team"))
        rows = [
            (lg.username, DEMO_PASSWORD, lg.role_label, lg.display_name, lg.team) for lg in shown
        ]
        widths = [
            max(_width(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)
        ]
        line = "  ".join("-" * w for w in widths)
        self.stdout.write(_format(headers, widths))
        self.stdout.write(line)
        for row in rows:
            self.stdout.write(_format(row, widths))
        hidden = len(logins) - len(shown)
        if hidden:
            self.stdout.write(
                _("… and %(count)s more reps (one per group shown; --all lists them).")
                % {"count": hidden}
            )


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _format(cells, widths) -> str:
    return "  ".join(
        str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths, strict=True)
    ).rstrip()
