"""Request and response schemas (camelCase on the wire). Unknown fields are refused.

The limits declared here are the ones the server enforces, so that the OpenAPI schema tells a
client exactly which requests are well formed (app/api/limits.py adds what JSON Schema cannot
say: the 1 MiB body and the 32-level nesting).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from fastapi import Header
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from typing_extensions import TypeAliasType

from domain.money import CURRENCIES, MAX_AMOUNT_MINOR

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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# --- auth and users -----------------------------------------------------------------------
class LoginRequest(Strict):
    email: Text = Field(max_length=254)
    password: Text = Field(max_length=1024)


class UserPublic(Public):
    id: str
    email: str
    name: str
    role: Role
    active: bool
    created_at: str
    updated_at: str


class LoginResponse(Public):
    token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserPublic


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class UserCreate(Strict):
    email: Text = Field(max_length=254, description=f"An email address (matches {EMAIL} once trimmed)")
    password: Text = Field(min_length=8, max_length=1024)
    name: Text = Field(min_length=1, max_length=100, description="1 to 100 characters once trimmed")
    role: Role = "customer"


class UserUpdate(Strict):
    name: Text | None = Field(None, min_length=1, max_length=100, description="1 to 100 characters once trimmed")
    role: Role | None = None
    password: Text | None = Field(None, min_length=8, max_length=1024)
    active: StrictBool | None = None


class UserList(Public):
    data: list[UserPublic]


PaymentStatus = Literal["pending", "processing", "retrying", "completed", "failed"]


# --- payments -----------------------------------------------------------------------------
class CardIn(Strict):
    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(not_expired()))

    number: StrictStr = Field(pattern=r"^[0-9]{12,19}$", json_schema_extra={"format": "payment-card"},
                              description="12 to 19 digits that pass the Luhn check; used once to tokenize, "
                                          "never stored")
    exp_month: WholeNumber = Field(ge=1, le=12)
    exp_year: WholeNumber = Field(ge=2000, le=2100, description="Four digits; the card must not have expired")
    cvc: StrictStr = Field(pattern=r"^[0-9]{3,4}$", description="Never stored, logged or returned")


def not_expired() -> dict[str, Any]:
    """A card expires after its month: this month or later (UTC), as CardInput.parse decides."""
    now = datetime.now(UTC)
    return {"anyOf": [
        {"properties": {"expYear": {"minimum": now.year + 1}}},
        {"properties": {"expYear": {"const": now.year}, "expMonth": {"minimum": now.month}}},
    ]}


class PaymentCreate(Strict):
    amount: WholeNumber = Field(ge=1, le=MAX_AMOUNT_MINOR, description="Minor units (cents)")
    currency: Currency = Field(description="ISO 4217")
    customer_id: Text | None = Field(None, max_length=255,
                                     description="Defaults to the caller; only admins may name another")
    description: Text = Field("", max_length=500)
    payment_method: PaymentMethod = "credit_card"
    idempotency_key: IdempotencyKey | None = Field(None, description="Or the Idempotency-Key header (the same value)")
    card: CardIn | None = None


class CardPublic(Public):
    brand: str | None
    last4: str | None


class PaymentPublic(Public):
    id: str
    status: PaymentStatus
    amount: int
    currency: str
    customer_id: str
    description: str
    payment_method: str
    card: CardPublic | None
    idempotency_key: str | None
    retry_count: int
    next_attempt_at: str | None
    provider: str
    transaction_id: str | None
    failure_code: str | None
    failure_message: str | None
    order_id: str | None
    created_at: str
    updated_at: str
    completed_at: str | None


class PaymentPage(Public):
    data: list[PaymentPublic]
    next_cursor: str | None


class EventPublic(Public):
    id: str
    type: str
    created_at: str
    data: dict


class EventList(Public):
    data: list[EventPublic]


class LedgerEntry(Public):
    payment_id: str
    amount: int
    currency: str
    transaction_id: str
    charged_at: str


class LedgerList(Public):
    data: list[LedgerEntry]


# --- catalogue, cart, orders ---------------------------------------------------------------
CATEGORY_TEXT = "A word such as 'books': a letter, then letters, digits or '-' (at most 40; stored in lowercase)"


class ProductCreate(Strict):
    name: Text = Field(min_length=1, max_length=120, description="1 to 120 characters once trimmed")
    description: Text = Field("", max_length=2000)
    unit_price: UnitPriceIn
    currency: Currency = "USD"
    category: Text = Field(max_length=40, description=CATEGORY_TEXT)
    image_url: Text | None = Field(None, max_length=500, description="An http(s) URL or a path on this site")
    metadata: JsonObject = {}
    stock: WholeNumber = Field(0, ge=0, le=1_000_000)
    active: StrictBool = True


class ProductUpdate(Strict):
    name: Text | None = Field(None, min_length=1, max_length=120, description="1 to 120 characters once trimmed")
    description: Text | None = Field(None, max_length=2000)
    unit_price: UnitPriceIn | None = None
    currency: Currency | None = None
    category: Text | None = Field(None, max_length=40, description=CATEGORY_TEXT)
    image_url: Text | None = Field(None, max_length=500, description="An http(s) URL or a path on this site")
    metadata: JsonObject | None = None
    stock: WholeNumber | None = Field(None, ge=0, le=1_000_000)
    active: StrictBool | None = None


class ProductPublic(Public):
    id: str
    name: str
    description: str
    unit_price: DecimalNumber
    unit_price_minor: int
    currency: str
    category: str
    image_url: str | None
    metadata: dict
    stock: int
    active: bool
    created_at: str
    updated_at: str


class ProductList(Public):
    data: list[ProductPublic]


class CategoryList(Public):
    data: list[str]


class CartQuantity(Strict):
    quantity: WholeNumber = Field(ge=0, le=100, description="0 removes the line; more than the stock is a 409")


class CartLinePublic(Public):
    product_id: str
    name: str
    quantity: int
    unit_price_minor: int
    line_total: int
    currency: str
    available: bool
    problem: str | None


class CartPublic(Public):
    items: list[CartLinePublic]
    total_amount: int
    currency: str | None
    item_count: int
    problems: list[str]


class OrderItemIn(Strict):
    product_id: Text = Field(max_length=255)
    quantity: WholeNumber = Field(ge=1, le=100, description="At most 100 of one product in an order")


class OrderCreate(Strict):
    items: list[OrderItemIn] | None = Field(None, min_length=1,
                                            description="Omit to order the caller's cart (and empty it)")
    description: Text = Field("", max_length=500)
    payment_method: PaymentMethod = "credit_card"
    idempotency_key: IdempotencyKey | None = Field(None, description="Or the Idempotency-Key header (the same value)")
    card: CardIn | None = None
    # Accepted and ignored (API.md, Orders): the total is computed on the server from current prices.
    amount: Any = Field(None, description="Ignored: the total is computed on the server")
    total_amount: Any = Field(None, description="Ignored: the total is computed on the server")

    def for_service(self) -> dict[str, Any]:
        """The fields the order service reads (camelCase), without the ignored totals."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"amount", "total_amount"})


class OrderItemPublic(Public):
    product_id: str
    name: str
    quantity: int
    unit_price_minor: int
    line_total: int


class OrderPublic(Public):
    id: str
    status: Literal["pending_payment", "paid", "payment_failed", "refunded"]
    customer_id: str
    items: list[OrderItemPublic]
    total_amount: int
    currency: str
    payment_id: str | None
    description: str
    created_at: str
    updated_at: str


class OrderList(Public):
    data: list[OrderPublic]
