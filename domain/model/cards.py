"""Card checks at submission. A card number or CVC lives only in memory, never beyond the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.model.errors import FieldError, ValidationFailed


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number.startswith("6011") or number.startswith("65"):
        return "discover"
    return "unknown"


@dataclass(frozen=True)
class CardInput:
    """A card as submitted. `repr` hides the number and CVC so they never reach a log."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @property
    def brand(self) -> str:
        return brand_of(self.number)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @classmethod
    def parse(cls, raw: dict[str, Any], now: datetime) -> CardInput:
        """Validate a card dict ({number, expMonth, expYear, cvc}); every problem names its field."""
        errors: list[FieldError] = []
        number = str(raw.get("number", "")).replace(" ", "").replace("-", "")
        if not luhn_ok(number):
            errors.append(FieldError("card.number", "is not a valid card number"))
        month, year = raw.get("expMonth"), raw.get("expYear")
        if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
            errors.append(FieldError("card.expMonth", "must be a month from 1 to 12"))
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            errors.append(FieldError("card.expYear", "must be a four-digit year"))
        elif isinstance(month, int) and 1 <= month <= 12 and (year, month) < (now.year, now.month):
            errors.append(FieldError("card.expYear", "the card has expired"))
        cvc = raw.get("cvc")
        if not isinstance(cvc, str) or not cvc.isdigit() or not 3 <= len(cvc) <= 4:
            errors.append(FieldError("card.cvc", "must be 3 or 4 digits"))
        if errors:
            raise ValidationFailed.of(errors)
        return cls(number=number, exp_month=month, exp_year=year, cvc=cvc)  # type: ignore[arg-type]
