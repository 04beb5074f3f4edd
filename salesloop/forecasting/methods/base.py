"""The typed answer every forecast method gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from salesloop.core.money import quantize_money


@dataclass(frozen=True)
class MethodResult:
    """One method's forecast for one scope and period.

    ``amount`` is None when the method has no number (no history, nobody submitted, ...);
    ``explanation`` then says why. ``inputs`` are the figures behind the number, shown beside it.
    ``note`` flags a fallback (e.g. too little history for seasonality).
    """

    method: str
    amount: Decimal | None
    currency: str
    explanation: str
    inputs: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def available(self) -> bool:
        return self.amount is not None


def money(value) -> Decimal:
    return quantize_money(Decimal(str(value)))
