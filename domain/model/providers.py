"""What passes between the gateway and a payment provider: card tokens, charge requests and outcomes,
and the entries of a provider's own ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str
    last4: str


@dataclass(frozen=True)
class ChargeRequest:
    idempotency_key: str  # the payment id: a repeated call with it never charges twice
    amount: int
    currency: str
    card_token: str | None
    payment_method: str


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    transaction_id: str | None = None
    code: str | None = None
    message: str | None = None
    retryable: bool = False


@dataclass(frozen=True)
class LedgerCharge:
    payment_id: str
    amount: int
    currency: str
    transaction_id: str
    charged_at: datetime
