"""Reading New Payment's fields: every field's problem at once, each said in a full sentence.

The limits are the domain's (amount, decimals, description, the card checks); the service checks again.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from domain.model.cards import luhn_ok
from domain.model.errors import DomainError, FieldError, ValidationFailed
from domain.model.money import CURRENCIES, MAX_AMOUNT_MINOR, format_money


def read_amount(text: str, currency: str) -> int | str:
    """The amount in minor units, or the sentence that says what is wrong with it."""
    text = text.strip()
    if not text:
        return "Enter an amount."
    decimals = CURRENCIES[currency]
    example = "1000" if decimals == 0 else "10." + "0" * decimals
    try:
        value = Decimal(text)
    except InvalidOperation:
        return f"Enter the amount as a number, such as {example}."
    if not value.is_finite():
        return f"Enter the amount as a number, such as {example}."
    if value <= 0:
        return "The amount must be more than zero."
    most = f"The amount can be at most {format_money(MAX_AMOUNT_MINOR, currency)}."
    if value.adjusted() > 20:
        return most
    minor = Fraction(value) * 10**decimals
    if minor.denominator != 1:
        return f"{currency} amounts are whole numbers." if decimals == 0 else \
            f"{currency} amounts have at most {decimals} decimals."
    return int(minor) if minor <= MAX_AMOUNT_MINOR else most


def read_year(text: str) -> int | None:
    """An expiry year as typed: 2030, or 30 for 2030 (cards print two digits). None when it is neither."""
    text = text.strip()
    if text.isdigit() and len(text) == 2:
        return 2000 + int(text)
    return int(text) if text.isdigit() and len(text) == 4 else None


def read_card(number: str, month: str, year: str, cvc: str, now: datetime) -> tuple[dict[str, Any], list[FieldError]]:
    """The card as the service takes it, and a sentence for each field at fault."""
    errors: list[FieldError] = []
    digits = number.replace(" ", "").replace("-", "")
    if not digits:
        errors.append(FieldError("card.number", "Enter the card number."))
    elif not digits.isdigit():
        errors.append(FieldError("card.number", "The card number can have only digits and spaces."))
    elif not luhn_ok(digits):
        errors.append(FieldError("card.number", "The card number is not valid. Check it against the card."))
    month_no = int(month.strip()) if month.strip().isdigit() else None
    if not month.strip():
        errors.append(FieldError("card.expMonth", "Enter the expiry month."))
    elif month_no is None or not 1 <= month_no <= 12:
        errors.append(FieldError("card.expMonth", "The expiry month is a number from 1 to 12."))
        month_no = None
    year_no = read_year(year)
    if not year.strip():
        errors.append(FieldError("card.expYear", "Enter the expiry year."))
    elif year_no is None:
        errors.append(FieldError("card.expYear", "Enter the expiry year as 2 or 4 digits, such as 30 or 2030."))
    elif month_no is not None and (year_no, month_no) < (now.year, now.month):
        errors.append(FieldError("card.expYear", "The card has expired."))
    cvc = cvc.strip()
    if not cvc:
        errors.append(FieldError("card.cvc", "Enter the CVC (3 or 4 digits on the card)."))
    elif not cvc.isdigit() or not 3 <= len(cvc) <= 4:
        errors.append(FieldError("card.cvc", "The CVC is 3 or 4 digits."))
    card = {"number": digits, "expMonth": month_no if month_no is not None else month.strip(),
            "expYear": year_no if year_no is not None else year.strip(), "cvc": cvc}
    return card, errors


LABELS = {"amount": "The amount", "currency": "The currency", "description": "The description",
          "paymentMethod": "The payment method", "card.number": "The card number",
          "card.expMonth": "The expiry month", "card.expYear": "The expiry year", "card.cvc": "The CVC"}


def sentence(text: str) -> str:
    """A message of the domain ("the total is now $30.00; review the cart") as a sentence: capital, full stop."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "." if text else text


def as_sentences(error: DomainError) -> DomainError:
    """The service's own errors as sentences: a field's ("must be 3 or 4 digits") named beside it ("The CVC must
    be 3 or 4 digits."); one without a field of the form (an item of the cart, say) as one message of the form."""
    if not isinstance(error, ValidationFailed) or not error.details:
        return DomainError(sentence(error.message))
    if any(d.field not in LABELS for d in error.details):
        return DomainError(" ".join(sentence(d.message) for d in error.details))
    return ValidationFailed.of([FieldError(d.field, f"{LABELS[d.field]} {d.message.strip().rstrip('.')}.")
                                for d in error.details])
