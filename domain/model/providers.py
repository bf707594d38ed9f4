"""What passes between the gateway and a payment provider: card tokens, requests, outcomes, the
record of each call (an attempt), and the entries of the mock provider's own ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.clock import iso


class Outcome(StrEnum):
    APPROVED = "approved"
    """The provider did it: charged, refunded, tokenized, or (a lookup) found the charge standing."""
    DECLINED = "declined"
    """The provider refused for good (a declined card), or (a lookup) no charge stands."""
    ERROR = "error"
    """A retryable error: nothing happened at the provider, and a retry may succeed."""
    UNKNOWN = "unknown"
    """A timeout or a lost connection after the request may have left: ask before acting again."""


class CallKind(StrEnum):
    CHARGE = "charge"
    LOOKUP = "lookup"
    REFUND = "refund"
    TOKENIZE = "tokenize"  # a card made into a provider's token, where that is a call (Stripe)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


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
    card_token: str | None  # this provider's token for the card (None: no card, the mock approves)
    payment_method: str
    description: str = ""


@dataclass(frozen=True)
class CallResult:
    """The answer to one provider call. `outcome` says which of the four things happened."""

    outcome: Outcome
    transaction_id: str | None = None  # charge/lookup: the provider's charge id; refund: its refund id
    code: str | None = None
    message: str | None = None
    card_token: str | None = None  # tokenize: the provider's token; charge: the token it used
    card_brand: str | None = None  # what the provider reports about the card (token payments)
    card_last4: str | None = None

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVED

    @property
    def retryable(self) -> bool:
        return self.outcome is Outcome.ERROR

    @property
    def unknown(self) -> bool:
        return self.outcome is Outcome.UNKNOWN

    @property
    def healthy(self) -> bool:
        """Whether the provider answered as a working service does (for its circuit breaker): it
        approved, declined, or gave a retryable error about this one card (CARD_LEVEL_ERRORS). Timeouts,
        lost connections, rate limits and the provider's own errors count against it."""
        if self.outcome is Outcome.ERROR:
            return self.code in CARD_LEVEL_ERRORS
        return self.outcome in (Outcome.APPROVED, Outcome.DECLINED)

    @classmethod
    def ok(cls, transaction_id: str | None, **card: str | None) -> CallResult:
        return cls(Outcome.APPROVED, transaction_id=transaction_id, **card)

    @classmethod
    def declined(cls, code: str, message: str) -> CallResult:
        return cls(Outcome.DECLINED, code=code, message=message)

    @classmethod
    def error(cls, code: str, message: str) -> CallResult:
        return cls(Outcome.ERROR, code=code, message=message)

    @classmethod
    def not_known(cls, code: str, message: str) -> CallResult:
        return cls(Outcome.UNKNOWN, code=code, message=message)


NOT_CHARGED = "not_charged"  # a lookup's code when no charge stands at the provider
NOT_REFUNDED = "not_refunded"  # a refund lookup's code when the provider has no such refund
# Retryable errors about one card, not about the provider: a working provider gives them, so they do not
# open its circuit (a card that fails every time would otherwise stop every other card's payments).
CARD_LEVEL_ERRORS = frozenset({"processing_error"})


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str  # the refund id
    payment_id: str
    transaction_id: str  # the charge being refunded, as the provider named it
    amount: int
    currency: str
    reason: str = "requested_by_customer"
    card_token: str | None = None  # the payment's token at this provider (the mock reads its test card)


@dataclass(frozen=True)
class Attempt:
    """One provider call made for a payment, kept as a row: what, where, when, how long, how it ended.

    A charge's row is written before the call (outcome None: in flight) and completed after it, so a
    process that dies in between leaves the trace that the next one must look the outcome up."""

    payment_id: str
    number: int
    kind: CallKind
    provider: str
    started_at: datetime
    latency_ms: int | None = None
    outcome: Outcome | None = None
    code: str | None = None
    transaction_id: str | None = None
    id: int | None = field(default=None, compare=False)

    def public(self) -> dict[str, Any]:
        return {"number": self.number, "kind": self.kind, "provider": self.provider,
                "startedAt": iso(self.started_at), "latencyMs": self.latency_ms,
                "outcome": self.outcome or Outcome.UNKNOWN, "code": self.code,
                "transactionId": self.transaction_id}


@dataclass(frozen=True)
class LedgerRefund:
    payment_id: str
    refund_id: str
    amount: int
    currency: str
    provider_refund_id: str
    refunded_at: datetime


@dataclass(frozen=True)
class LedgerCharge:
    payment_id: str
    amount: int
    currency: str
    transaction_id: str
    charged_at: datetime

