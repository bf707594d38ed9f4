"""Request and response schemas (camelCase on the wire). Unknown fields are refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic.alias_generators import to_camel


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# --- auth and users -----------------------------------------------------------------------
class LoginRequest(Strict):
    email: StrictStr = Field(max_length=254)
    password: StrictStr = Field(max_length=1024)


class UserPublic(Public):
    id: str
    email: str
    name: str
    role: Literal["customer", "admin"]
    active: bool
    created_at: str
    updated_at: str


class LoginResponse(Public):
    token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserPublic


class UserCreate(Strict):
    email: StrictStr
    password: StrictStr
    name: StrictStr
    role: Literal["customer", "admin"] = "customer"


class UserUpdate(Strict):
    name: StrictStr | None = None
    role: Literal["customer", "admin"] | None = None
    password: StrictStr | None = None
    active: StrictBool | None = None


class UserList(Public):
    data: list[UserPublic]


# --- payments -----------------------------------------------------------------------------
class CardIn(Strict):
    number: StrictStr = Field(description="Card number; used once to tokenize, never stored")
    exp_month: StrictInt
    exp_year: StrictInt
    cvc: StrictStr = Field(description="Never stored, logged or returned")


class PaymentCreate(Strict):
    amount: StrictInt = Field(description="Minor units (cents): 1 to 99,999,999")
    currency: StrictStr = Field(description="ISO 4217: USD, EUR, GBP, JPY")
    customer_id: StrictStr | None = Field(None, description="Defaults to the caller; only admins may name another")
    description: StrictStr = Field("", max_length=500)
    payment_method: Literal["credit_card", "debit_card", "bank_transfer", "wallet"] = "credit_card"
    idempotency_key: StrictStr | None = Field(None, max_length=255)
    card: CardIn | None = None


class CardPublic(Public):
    brand: str | None
    last4: str | None


class PaymentPublic(Public):
    id: str
    status: Literal["pending", "processing", "retrying", "completed", "failed"]
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
class ProductCreate(Strict):
    name: StrictStr
    description: StrictStr = ""
    unit_price: Decimal | StrictStr = Field(description="Major units, exact: 299.99 (never more decimals "
                                                        "than the currency has)")
    currency: StrictStr = "USD"
    category: StrictStr
    image_url: StrictStr | None = None
    metadata: dict = {}
    stock: StrictInt = 0
    active: StrictBool = True


class ProductUpdate(Strict):
    name: StrictStr | None = None
    description: StrictStr | None = None
    unit_price: Decimal | StrictStr | None = None
    currency: StrictStr | None = None
    category: StrictStr | None = None
    image_url: StrictStr | None = None
    metadata: dict | None = None
    stock: StrictInt | None = None
    active: StrictBool | None = None


class ProductPublic(Public):
    id: str
    name: str
    description: str
    unit_price: Decimal
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
    quantity: StrictInt = Field(description="0 removes the line; at most 100 and at most the stock")


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
    product_id: StrictStr
    quantity: StrictInt


class OrderCreate(Strict):
    items: list[OrderItemIn] | None = Field(None, description="Omit to order the caller's cart (and empty it)")
    description: StrictStr = Field("", max_length=500)
    payment_method: Literal["credit_card", "debit_card", "bank_transfer", "wallet"] = "credit_card"
    idempotency_key: StrictStr | None = Field(None, max_length=255)
    card: CardIn | None = None
    amount: StrictInt | None = Field(None, description="Ignored: the total is computed on the server")


class OrderItemPublic(Public):
    product_id: str
    name: str
    quantity: int
    unit_price_minor: int
    line_total: int


class OrderPublic(Public):
    id: str
    status: Literal["pending_payment", "paid", "payment_failed"]
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
