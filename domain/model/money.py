"""Money: integer minor units inside, Decimal at the edges, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from domain.model.errors import ValidationFailed

# ISO 4217 codes the gateway accepts, with the number of decimals of the minor unit.
CURRENCIES: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
MAX_AMOUNT_MINOR = 99_999_999


def check_currency(code: object, field_name: str = "currency") -> str:
    if not isinstance(code, str) or code.upper() not in CURRENCIES:
        raise ValidationFailed.on(field_name, f"must be one of {', '.join(sorted(CURRENCIES))}")
    return code.upper()


def parse_major(value: str | int | Decimal, currency: str, field_name: str = "unitPrice") -> int:
    """Parse a major-unit amount ("299.99") into minor units (29999), exactly.

    Refuses floats (they cannot carry an exact decimal), non-finite values, negatives
    and more decimals than the currency has.
    """
    if isinstance(value, (bool, float)):
        raise ValidationFailed.on(field_name, "must be an exact decimal number")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed.on(field_name, "must be a decimal number") from None
    if not amount.is_finite():
        raise ValidationFailed.on(field_name, "must be a finite number")
    if amount < 0:
        raise ValidationFailed.on(field_name, "must not be negative")
    decimals = CURRENCIES[currency]
    # Decimal arithmetic rounds to 28 digits and over/underflows on extreme exponents; bound the
    # magnitude first, then scale with Fraction, which is exact.
    if amount.adjusted() > 20:
        raise ValidationFailed.on(field_name, "is too large")
    too_fine = amount != 0 and amount.adjusted() < -decimals
    minor = Fraction(0) if amount == 0 or too_fine else Fraction(amount) * 10**decimals
    if too_fine or minor.denominator != 1:
        raise ValidationFailed.on(field_name, f"has more than {decimals} decimals for {currency}")
    result = int(minor)
    if result > MAX_AMOUNT_MINOR:
        raise ValidationFailed.on(field_name, "is too large")
    return result


def to_major(minor: int, currency: str) -> Decimal:
    """29999 USD -> Decimal('299.99'); 500 JPY -> Decimal('500')."""
    decimals = CURRENCIES[currency]
    return Decimal(minor).scaleb(-decimals).quantize(Decimal(1).scaleb(-decimals))


def format_money(minor: int, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}.get(currency, "")
    major = to_major(minor, currency)
    return f"{symbol}{major:,}" if symbol else f"{major:,} {currency}"
