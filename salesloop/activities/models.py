"""What reps do (activities) and what they must do next (tasks)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import Versioned


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    DEMO = "demo", _("Demo")
    PROPOSAL = "proposal", _("Proposal")


class ActivityOutcome(models.TextChoices):
    NONE = "", _("Not recorded")
    NO_ANSWER = "no_answer", _("No answer")
    CONTACTED = "contacted", _("Contacted")
    INTERESTED = "interested", _("Interested")
    QUALIFIED = "qualified", _("Qualified / intent")
    NEGOTIATING = "negotiating", _("Moved to negotiation")
    NOT_INTERESTED = "not_interested", _("Not interested")


class Activity(Versioned):
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices, db_index=True)
    external_id = models.CharField(_("external ID"), max_length=64, null=True, blank=True, unique=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ActivityOutcome.choices, blank=True)
    notes = models.TextField(_("private notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="activities"
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who did it; kept when the book moves to another owner."),
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    lead = models.ForeignKey(
        "customers.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["owner", "occurred_at"]),
            models.Index(fields=["account", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    PROPOSAL = "proposal", _("Proposal")
    COACHING = "coaching", _("Coaching")
    COLLECTION = "collection", _("Collection")
    REMINDER = "reminder", _("Reminder")
    OTHER = "other", _("Other")


class Task(Versioned):
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices, default=TaskKind.FOLLOW_UP)
    due_at = models.DateTimeField(_("due"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="tasks"
    )
    source = models.CharField(
        _("source"), max_length=60, blank=True, help_text=_("What created it: manual, a rule, an import.")
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    opportunity = models.ForeignKey(
        "pipeline.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    lead = models.ForeignKey(
        "customers.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    notes = models.TextField(_("notes"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [models.Index(fields=["assignee", "status", "due_at"])]

    def __str__(self) -> str:
        return self.title
