"""Request and response schemas (camelCase on the wire). Unknown fields are refused.

The limits declared here are the ones the server enforces, so that the OpenAPI schema tells a
client exactly which requests are well formed (app/api/limits.py adds what JSON Schema cannot
say: the 1 MiB body and the 32-level nesting).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from pydantic.alias_generators import to_camel

from app.api.fields import (
    Category,
    Currency,
    DecimalNumber,
    Email,
    IdempotencyKey,
    ImageUrl,
    JsonObject,
    NonBlank,
    PaymentMethod,
    PaymentStatus,
    Role,
    Text,
    UnitPriceIn,
    WholeNumber,
    not_expired,
)
from domain.model.money import MAX_AMOUNT_MINOR


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


class UserCreate(Strict):
    email: Email
    password: Text = Field(min_length=8, max_length=1024)
    name: NonBlank = Field(max_length=100)
    role: Role = "customer"


class UserUpdate(Strict):
    name: NonBlank | None = Field(None, max_length=100)
    role: Role | None = None
    password: Text | None = Field(None, min_length=8, max_length=1024)
    active: StrictBool | None = None


class UserList(Public):
    data: list[UserPublic]


# --- payments -----------------------------------------------------------------------------
class CardIn(Strict):
    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(not_expired()))

    number: StrictStr = Field(pattern=r"^[0-9]{12,19}$", json_schema_extra={"format": "payment-card"},
                              description="12 to 19 digits that pass the Luhn check; used once to tokenize, "
                                          "never stored")
    exp_month: WholeNumber = Field(ge=1, le=12)
    exp_year: WholeNumber = Field(ge=2000, le=2100, description="Four digits; the card must not have expired")
    cvc: StrictStr = Field(pattern=r"^[0-9]{3,4}$", description="Never stored, logged or returned")


class PaymentCreate(Strict):
    amount: WholeNumber = Field(ge=1, le=MAX_AMOUNT_MINOR, description="Minor units (cents)")
    currency: Currency = Field(description="ISO 4217")
    customer_id: Text | None = Field(None, max_length=255,
                                     description="Defaults to the caller; only admins may name another")
    description: Text = Field("", max_length=500)
    payment_method: PaymentMethod = "credit_card"
    idempotency_key: IdempotencyKey | None = Field(None, description="Or the Idempotency-Key header (the same value)")
    card: CardIn | None = None
    payment_method_token: Text | None = Field(None, min_length=3, max_length=255,
                                              description="A provider's token for the card (Stripe: pm_…), "
                                                          "instead of card")


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
    refunded_amount: int = Field(description="Succeeded refunds, in minor units")
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
    data: dict[str, Any]


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


class RefundLedgerEntry(Public):
    payment_id: str
    refund_id: str
    amount: int
    currency: str
    refunded_at: str


class RefundLedgerList(Public):
    data: list[RefundLedgerEntry]


class RefundCreate(Strict):
    amount: WholeNumber | None = Field(None, ge=1, le=MAX_AMOUNT_MINOR,
                                       description="Minor units; defaults to what is left to refund")
    reason: Literal["requested_by_customer", "duplicate", "fraudulent", "other"] = "requested_by_customer"
    idempotency_key: IdempotencyKey | None = Field(None, description="Or the Idempotency-Key header (the same value)")
    restock: StrictBool = Field(False, description="Return an order's stock once its payment is refunded in full")


class RefundPublic(Public):
    id: str
    payment_id: str
    amount: int
    currency: str
    reason: str
    status: Literal["pending", "succeeded", "failed"]
    restock: bool
    failure_code: str | None
    failure_message: str | None
    idempotency_key: str | None
    created_at: str
    updated_at: str


class RefundList(Public):
    data: list[RefundPublic]


class AttemptPublic(Public):
    number: int
    kind: Literal["charge", "lookup", "refund", "tokenize"]
    provider: str
    started_at: str
    latency_ms: int | None
    outcome: Literal["approved", "declined", "error", "unknown"]
    code: str | None
    transaction_id: str | None


class AttemptList(Public):
    data: list[AttemptPublic]


class RateLimitPublic(Public):
    capacity: int
    refill_rate: float
    available_tokens: float


class ProviderError(Public):
    code: str
    message: str
    at: str


class ProviderPublic(Public):
    name: str
    role: Literal["primary", "fallback"]
    circuit: Literal["closed", "open", "half_open"]
    rate_limit: RateLimitPublic
    last_error: ProviderError | None


class ProviderList(Public):
    data: list[ProviderPublic]


class WebhookReceipt(Public):
    received: bool
    outcome: str


# --- catalogue, cart, orders ---------------------------------------------------------------
class ProductCreate(Strict):
    name: NonBlank = Field(max_length=120)
    description: Text = Field("", max_length=2000)
    unit_price: UnitPriceIn
    currency: Currency = "USD"
    category: Category
    image_url: ImageUrl | None = None
    metadata: JsonObject = {}
    stock: WholeNumber = Field(0, ge=0, le=1_000_000)
    active: StrictBool = True


class ProductUpdate(Strict):
    name: NonBlank | None = Field(None, max_length=120)
    description: Text | None = Field(None, max_length=2000)
    unit_price: UnitPriceIn | None = None
    currency: Currency | None = None
    category: Category | None = None
    image_url: ImageUrl | None = None
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
    metadata: dict[str, Any]
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
    payment_method_token: Text | None = Field(None, min_length=3, max_length=255,
                                              description="A provider's token for the card, instead of card")
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
