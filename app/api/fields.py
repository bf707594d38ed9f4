"""The field types of the request schemas: each says, in the OpenAPI schema, what the server enforces.

Pydantic checks them before a route runs, so a request that the schema calls valid is never refused
for its form (only for the state of things: an unknown product, a reused idempotency key).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

from fastapi import Header
from pydantic import BeforeValidator, Field, StrictBool, StrictFloat, StrictInt, StrictStr, WithJsonSchema
from typing_extensions import TypeAliasType

from domain.model.money import CURRENCIES, MAX_AMOUNT_MINOR

# No C0/C1 control characters but tab and newline (API.md, Conventions); app/api/limits.py refuses
# them in every body and query string too, before a route runs.
NO_CONTROL = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
Text = Annotated[StrictStr, Field(pattern=NO_CONTROL)]
# What an idempotency key may be: printable ASCII (it also travels in a header).
KEY_PATTERN = r"^[\x20-\x7E]*$"
IdempotencyKey = Annotated[StrictStr, Field(max_length=255, pattern=KEY_PATTERN)]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255, pattern=KEY_PATTERN,
                                                    description="Or `idempotencyKey` in the body (the same value)")]


def whole_number(value: Any) -> Any:
    """JSON Schema counts 53.0 as an integer, and so does the API: a number without a fraction is one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(whole_number)]
# Free-form JSON (a product's metadata): its text follows the same rule as every other text.
if TYPE_CHECKING:
    # The same type for mypy, which cannot resolve a TypeAliasType that refers to itself
    # (python/mypy#18252) but does resolve a recursive plain alias; Pydantic needs the TypeAliasType.
    JsonValue: TypeAlias = Union[  # noqa: UP007 - a recursive alias needs the Union form
        Text, StrictInt, StrictFloat, StrictBool, None, list["JsonValue"], dict[Text, "JsonValue"]]
else:
    JsonValue = TypeAliasType("JsonValue", Union[  # noqa: UP007 - a recursive alias needs the Union form
        Text, StrictInt, StrictFloat, StrictBool, None, list["JsonValue"],
        Annotated[dict[Text, "JsonValue"], Field(json_schema_extra={"additionalProperties": False})]])
JsonObject = Annotated[dict[Text, JsonValue], Field(
    json_schema_extra={"additionalProperties": False},
    description="Any JSON object of at most 2000 characters, nested at most 32 levels deep")]
Currency = Literal["USD", "EUR", "GBP", "JPY"]
PaymentMethod = Literal["credit_card", "debit_card", "bank_transfer", "wallet"]
Role = Literal["customer", "admin"]


def optional_query(schema: dict[str, Any]) -> WithJsonSchema:
    """The schema of an optional query parameter: the value's own (omitting it is how to say "none")."""
    return WithJsonSchema(schema)


TextQuery = Annotated[str | None, optional_query({"type": "string", "pattern": NO_CONTROL})]
# A Decimal that the API writes as a JSON number (body.ExactJSONResponse), never as a string.
DecimalNumber = Annotated[Decimal, WithJsonSchema({"type": "number"})]
DECIMAL_TEXT = r"^[0-9]{1,20}(\.[0-9]{1,28})?$"
UnitPriceIn = Annotated[Decimal | StrictStr, WithJsonSchema({
    "anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": MAX_AMOUNT_MINOR},
              {"type": "string", "pattern": DECIMAL_TEXT, "maxLength": 50}],
    "description": "Major units, exact: 299.99 (a JSON number or a decimal string). At least one minor unit, "
                   f"at most {MAX_AMOUNT_MINOR:,} minor units, and never more decimals than the currency has "
                   f"({', '.join(f'{c} {d}' for c, d in CURRENCIES.items())})."})]

# Text that is not blank once trimmed (names), and the forms the domain checks after trimming,
# here without the surrounding whitespace it would trim.
_TEXT = r"[^\x00-\x08\x0B-\x1F\x7F-\x9F]"
_VISIBLE = r"[^\s\x00-\x1F\x7F-\x9F]"
NON_BLANK = rf"^{_TEXT}*{_VISIBLE}{_TEXT}*$"
NonBlank = Annotated[StrictStr, Field(pattern=NON_BLANK)]
_EMAIL_PART = r"[^@\s\x00-\x1F\x7F-\x9F]+"
EMAIL = rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"
Email = Annotated[StrictStr, Field(max_length=254, pattern=EMAIL, description="An email address")]
CATEGORY = r"^[A-Za-z][A-Za-z0-9-]{0,39}$"
Category = Annotated[StrictStr, Field(pattern=CATEGORY, description="A word such as 'books' (stored in lowercase)")]
# https only (the pages' Content-Security-Policy refuses http images), or a path on this site ("//host" is not).
IMAGE_URL = rf"^(https://|/$|/[^/\x00-\x08\x0B-\x1F\x7F-\x9F]){_TEXT}*$"
ImageUrl = Annotated[StrictStr, Field(max_length=500, pattern=IMAGE_URL,
                                      description="An https URL or a path on this site")]
PaymentStatus = Literal["pending", "processing", "retrying", "completed", "failed"]


def not_expired() -> dict[str, Any]:
    """A card expires after its month: this month or later (UTC), as CardInput.parse decides."""
    now = datetime.now(UTC)
    return {"anyOf": [
        {"properties": {"expYear": {"minimum": now.year + 1}}},
        {"properties": {"expYear": {"const": now.year}, "expMonth": {"minimum": now.month}}},
    ]}
