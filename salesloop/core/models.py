"""Abstract bases shared by every business record."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY_DIGITS = 16
MONEY_PLACES = 2


def MoneyField(verbose_name, *, allow_negative: bool = False, **kwargs) -> models.DecimalField:  # noqa: N802
    """A Decimal amount in the currency stored beside it (two places, minor unit of CNY/USD/EUR).

    Negative amounts are refused unless the field is a signed adjustment.
    """
    validators = list(kwargs.pop("validators", []))
    if not allow_negative:
        validators.append(MinValueValidator(Decimal("0")))
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        validators=validators,
        **kwargs,
    )


def CurrencyField(**kwargs) -> models.CharField:  # noqa: N802
    """ISO 4217 code; the organisation's currency is the default set by services."""
    kwargs.setdefault("default", "CNY")
    return models.CharField(_("currency"), max_length=3, **kwargs)


class SingleRow:
    """Settings that exist once per organisation: ``Model.current()`` is the row, created with the
    seeds' defaults on first use. One place for the rule, for every settings model."""

    @classmethod
    def current(cls):
        obj = cls.objects.order_by("pk").first()
        return obj if obj is not None else cls.objects.create()


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Versioned(TimeStamped):
    """Optimistic concurrency: every write bumps ``version``; a write quoting an old one is refused.

    Why: two managers editing the same deal must never silently overwrite each other (the API
    answers 409 with the current record; see ``core.versioning``).
    """

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True
