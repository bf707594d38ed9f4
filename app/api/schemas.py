"""Request and response schemas (camelCase on the wire). Unknown fields are refused."""

from __future__ import annotations

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
