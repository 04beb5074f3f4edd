"""Money arithmetic: Decimal only, rounded half-up to the currency's minor unit (cents/fen)."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_price: Decimal, discount_pct: Decimal = Decimal(0)) -> Decimal:
    """quantity × unit price × (1 − discount%), rounded once at the end (per line)."""
    return quantize_money(
        Decimal(quantity) * Decimal(unit_price) * (Decimal(100) - Decimal(discount_pct)) / Decimal(100)
    )
