"""Customers: accounts (companies), their contacts, and leads not yet qualified."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salesloop.core.models import CurrencyField, MoneyField, Versioned


class CompanySize(models.TextChoices):
    MICRO = "micro", _("1-9")
    SMALL = "small", _("10-49")
    MEDIUM = "medium", _("50-249")
    LARGE = "large", _("250-999")
    ENTERPRISE = "enterprise", _("1000+")


class KeyAccountTier(models.TextChoices):
    """Seed 001 重点客户管理: 战略合作 / 成长型 / 维护型 / 开发型."""

    STRATEGIC = "strategic", _("Strategic")
    GROWTH = "growth", _("Growth")
    MAINTENANCE = "maintenance", _("Maintenance")
    DEVELOPMENT = "development", _("Development")


class DecisionStyle(models.TextChoices):
    RATIONAL = "rational", _("Rational")
    RELATIONAL = "relational", _("Relational")


class SourceChannel(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    EXPO = "expo", _("Trade show")
    WEBSITE = "website", _("Website")
    COLD_CALL = "cold_call", _("Cold call")
    PARTNER = "partner", _("Partner")
    ADVERTISING = "advertising", _("Advertising")
    SOCIAL = "social", _("Social media")
    OTHER = "other", _("Other")


class Account(Versioned):
    name = models.CharField(_("name"), max_length=200, db_index=True)
    external_id = models.CharField(_("external ID"), max_length=64, null=True, blank=True, unique=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True, db_index=True)
    region = models.CharField(_("region"), max_length=40, blank=True)
    province = models.CharField(_("province"), max_length=40, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=40, blank=True)
    size = models.CharField(_("size"), max_length=12, choices=CompanySize.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="accounts"
    )
    key_account_tier = models.CharField(
        _("key-account tier"), max_length=12, choices=KeyAccountTier.choices, blank=True
    )
    source_channel = models.CharField(_("source channel"), max_length=12, choices=SourceChannel.choices, blank=True)
    decision_style = models.CharField(_("decision style"), max_length=12, choices=DecisionStyle.choices, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    notes = models.TextField(_("private notes"), blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [models.Index(fields=["owner", "name"])]

    def __str__(self) -> str:
        return self.name


class Contact(Versioned):
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts"
    )
    external_id = models.CharField(_("external ID"), max_length=64, null=True, blank=True, unique=True)
    name = models.CharField(_("name"), max_length=120, db_index=True)
    title = models.CharField(_("title"), max_length=120, blank=True)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")


class Lead(Versioned):
    name = models.CharField(_("name"), max_length=200, db_index=True)
    external_id = models.CharField(_("external ID"), max_length=64, null=True, blank=True, unique=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=12, choices=SourceChannel.choices, blank=True, db_index=True)
    campaign = models.CharField(_("campaign"), max_length=120, blank=True)
    budget = MoneyField(_("budget"), null=True, blank=True, default=None)
    currency = CurrencyField()
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    province = models.CharField(_("province"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=14, choices=LeadStatus.choices, default=LeadStatus.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        help_text=_("Set when the lead is converted."),
    )
    first_touch_at = models.DateTimeField(_("first touch at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return self.name
