"""Notifications: the in-app centre, deliveries by e-mail and chat webhook, and preferences.

A :class:`Notification` is what a person sees in the app; each external copy of it is a
:class:`Delivery` (one per channel target) with its own attempts, back-off and last error, so a
failing webhook is retried and recorded without holding up anything else.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import TimeStamped


class NotificationKind(models.TextChoices):
    TASK = "task", _("New task")
    REMINDER = "reminder", _("Reminder")
    ESCALATION = "escalation", _("Deadline missed")
    BRIEF = "brief", _("Morning brief")
    REPORT = "report", _("Evening report")
    SYSTEM = "system", _("System")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=NotificationKind.choices, default=NotificationKind.SYSTEM
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    dedupe_key = models.CharField(
        _("event key"),
        max_length=120,
        null=True,
        blank=True,
        unique=True,
        help_text=_("One notification per event and person, however often the job runs."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    batch = models.CharField(max_length=32, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class WebhookKind(models.TextChoices):
    WECOM = "wecom", _("WeCom (企业微信) group robot")
    DINGTALK = "dingtalk", _("DingTalk (钉钉) robot")
    FEISHU = "feishu", _("Feishu / Lark (飞书) bot")
    SLACK = "slack", _("Slack incoming webhook")


class WebhookEndpoint(TimeStamped):
    """A chat robot's address: a team's group chat or one person's.

    ``secret`` is the signing secret of DingTalk's "加签" and Feishu's "签名校验" (empty when the
    robot is not configured to sign).
    """

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=WebhookKind.choices)
    url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("chat webhook")
        verbose_name_plural = _("chat webhooks")

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Chat")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, gave up")


class Delivery(models.Model):
    """One external copy of a notification; ``target`` is ``email:<address>`` or ``webhook:<id>``.

    Why a unique (notification, target): a notification produced twice by a retried job still
    goes out once per channel target.
    """

    notification = models.ForeignKey(
        "notifications.Notification",
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    target = models.CharField(_("target"), max_length=260)
    endpoint = models.ForeignKey(
        "notifications.WebhookEndpoint",
        verbose_name=_("chat webhook"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "target"], name="delivery_once_per_target"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["claim"]),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.target}"


class NotificationPreference(TimeStamped):
    """How a person (or, as a default for its members, a team) wants to be told.

    Empty fields inherit: a person's setting, else the nearest team up the tree that sets it,
    else the default (in-app always; e-mail on; chat off). During quiet hours (in the
    organisation's time zone) external deliveries wait until the quiet hours end.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    team = models.OneToOneField(
        "org.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email = models.BooleanField(_("by e-mail"), null=True, blank=True)
    chat = models.BooleanField(_("by chat"), null=True, blank=True)
    webhook = models.ForeignKey(
        "notifications.WebhookEndpoint",
        verbose_name=_("chat webhook"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    muted_kinds = models.JSONField(
        _("in-app only for"),
        default=list,
        blank=True,
        help_text=_("Kinds of notification never sent outside the app."),
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, team__isnull=True)
                    | models.Q(user__isnull=True, team__isnull=False)
                ),
                name="notificationpreference_user_xor_team",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(quiet_start__isnull=True, quiet_end__isnull=True)
                    | models.Q(quiet_start__isnull=False, quiet_end__isnull=False)
                ),
                name="notificationpreference_quiet_both_or_none",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user or self.team)
