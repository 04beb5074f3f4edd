"""The organisation: people, roles, the team tree and organisation-wide settings."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import SingleRow, TimeStamped


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    GROUP_LEAD = "group_lead", _("Group lead")
    MANAGER = "manager", _("Sales manager")
    DIRECTOR = "director", _("Director")
    FINANCE = "finance", _("Finance")
    LEGAL = "legal", _("Legal")
    AFTER_SALES = "after_sales", _("After-sales")
    MARKETING = "marketing", _("Marketing")
    ADMIN = "admin", _("Administrator")


#: Roles that lead people and see the subtree of the team they belong to.
LEADING_ROLES = frozenset({Role.GROUP_LEAD, Role.MANAGER, Role.DIRECTOR})


class Seniority(models.TextChoices):
    NEW = "new", _("New")
    GROWING = "growing", _("Growing")
    SENIOR = "senior", _("Senior")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(
        _("language"), max_length=10, blank=True, help_text=_("Interface language, remembered per user.")
    )
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        help_text=_("Current primary team; memberships keep the history."),
    )

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class TeamKind(models.TextChoices):
    COMPANY = "company", _("Company")
    REGION = "region", _("Region")
    TEAM = "team", _("Team")
    GROUP = "group", _("Group")


class Team(TimeStamped):
    """A node of the team tree (any depth). ``path`` is a materialised path ``/1/4/9/``.

    Why a path: "everything under this manager" becomes one indexed ``LIKE '/1/4/%'`` that
    behaves the same on SQLite and PostgreSQL, instead of a recursive query per request.
    """

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=TeamKind.choices, default=TeamKind.TEAM)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False, default="")
    lead = models.ForeignKey(
        "org.User", verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    region = models.CharField(_("region"), max_length=60, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # The path needs the primary key, so a new node is saved twice; moves are done by
        # services.team_move, which rewrites the subtree's paths in one UPDATE.
        super().save(*args, **kwargs)
        expected = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
        if self.path != expected:
            self.path = expected
            Team.objects.filter(pk=self.pk).update(path=expected)


class Membership(TimeStamped):
    """A person's place in a team over time, with seniority and capacity for target splits."""

    user = models.ForeignKey("org.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey("org.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(_("is lead"), default=False)
    seniority = models.CharField(_("seniority"), max_length=10, choices=Seniority.choices, default=Seniority.NEW)
    capacity = models.DecimalField(
        _("capacity"), max_digits=5, decimal_places=2, default=1, help_text=_("Relative capacity, 1.00 = one full rep.")
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    on_leave = models.BooleanField(_("on leave"), default=False)

    class Meta:
        ordering = ["team_id", "-is_lead", "start_date"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="membership_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team}"


class Weekday(models.IntegerChoices):
    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")
    SUNDAY = 7, _("Sunday")


def default_working_days() -> list[int]:
    return [1, 2, 3, 4, 5]


class OrgSettings(SingleRow, TimeStamped):
    """Organisation-wide settings; one row (``OrgSettings.current()``)."""

    name = models.CharField(_("organisation name"), max_length=120, default="Salesloop")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    fiscal_year_start_month = models.PositiveSmallIntegerField(_("fiscal year start month"), default=1)
    working_days = models.JSONField(
        _("working days"), default=default_working_days, help_text=_("ISO weekdays, 1 = Monday.")
    )

    class Meta:
        verbose_name = _("organisation settings")
        verbose_name_plural = _("organisation settings")

    def __str__(self) -> str:
        return self.name


class ApiToken(TimeStamped):
    """A bearer token for API clients; only its SHA-256 is stored, the secret is shown once."""

    user = models.ForeignKey("org.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple["ApiToken", str]:
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=cls.hash_key(key), prefix=key[:8])
        return token, key
