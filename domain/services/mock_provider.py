"""The mock payment provider: the reference implementation of the provider port.

It behaves like a real processor with test cards: it tokenizes a card at submission (so the gateway
keeps only a token, brand and last 4), charges idempotently by key against its own ledger, answers
lookups from that ledger, and can be told to fail transiently or answer after the caller's timeout.
Two test cards lose the answer of a charge that happened (a dropped connection, a late answer), so
the gateway's unknown-outcome path can be shown to end with exactly one charge."""

from __future__ import annotations

import asyncio
import random
import secrets
from dataclasses import dataclass

from domain.clock import Clock, RunSync, Sleep
from domain.model.cards import CardInput
from domain.model.providers import (
    NOT_CHARGED,
    NOT_REFUNDED,
    CallResult,
    CardToken,
    ChargeRequest,
    LedgerCharge,
    LedgerRefund,
    RefundRequest,
)
from domain.ports import MockLedger

# Test card number -> scenario. Anything else that passes Luhn is approved.
TEST_CARDS: dict[str, str] = {
    "4242424242424242": "approve",
    "5555555555554444": "approve",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error_always",
    "4000000000000341": "processing_error_twice",
    "4000000000000259": "slow_first_attempt",
    "4000000000000267": "drop_after_charge",  # charges, then the connection drops before the answer
    "4000000000000275": "always_slow",  # charges, and answers only after the timeout, every time
    "4000000000000283": "refund_fails",  # charges; its refunds are refused
}


# The adapter's table of error codes: which ones a retry may cure. No string matching on messages.
ERROR_CODES: dict[str, tuple[bool, str]] = {
    "card_declined": (False, "The card was declined."),
    "insufficient_funds": (False, "The card has insufficient funds."),
    "expired_card": (False, "The card has expired."),
    "processing_error": (True, "The provider could not process the card; try again."),
    "provider_unavailable": (True, "The provider is temporarily unavailable."),
}


def failure(code: str) -> CallResult:
    retryable, message = ERROR_CODES[code]
    return CallResult.error(code, message) if retryable else CallResult.declined(code, message)


@dataclass(frozen=True)
class MockConfig:
    failure_rate: float = 0.0  # transient `provider_unavailable` answers, 0..1
    timeout_rate: float = 0.0  # charges that happen but answer only after the caller's timeout, 0..1
    min_latency_ms: int = 50
    max_latency_ms: int = 150
    slow_answer_seconds: float = 3.0  # how late the 4000000000000259 card answers on its first attempt


class MockProvider:
    name = "mock"
    charges_without_card = True  # a payment without a card is approved (subject to the failure rate)

    def __init__(self, ledger: MockLedger, clock: Clock, config: MockConfig | None = None,
                 rng: random.Random | None = None, sleep: Sleep = asyncio.sleep,
                 run_sync: RunSync = asyncio.to_thread) -> None:
        self.ledger = ledger
        self.clock = clock
        self.config = config or MockConfig()
        self.rng = rng or random.Random()
        self._sleep = sleep
        self._run_sync = run_sync

    def owns_token(self, token: str) -> bool:
        return False  # the mock's tokens never leave the gateway, so a client cannot hold one

    def tokenize(self, card: CardInput) -> CardToken:
        scenario = TEST_CARDS.get(card.number, "approve")
        return CardToken(f"tok_{scenario}_{secrets.token_hex(6)}", card.brand, card.last4)

    async def create_token(self, card: CardInput) -> CallResult:
        token = self.tokenize(card)
        return CallResult.ok(None, card_token=token.token, card_brand=token.brand, card_last4=token.last4)

    @staticmethod
    def scenario_of(card_token: str | None) -> str:
        if not card_token or not card_token.startswith("tok_"):
            return "approve"
        return card_token[4:].rsplit("_", 1)[0]

    async def charge(self, request: ChargeRequest) -> CallResult:
        received_at = self.clock.now()  # the provider's own time of receipt is the charge time
        key = request.idempotency_key
        existing = await self._run_sync(self.ledger.find, key)
        if existing is not None:
            await self._latency()
            return CallResult.ok(existing.transaction_id)
        attempt = await self._run_sync(self.ledger.next_attempt, key)
        scenario = self.scenario_of(request.card_token)
        if scenario in ERROR_CODES:
            await self._latency()
            return failure(scenario)
        if scenario == "processing_error_always" or (scenario == "processing_error_twice" and attempt <= 2):
            await self._latency()
            return failure("processing_error")
        if self.config.failure_rate and self.rng.random() < self.config.failure_rate:
            await self._latency()
            return failure("provider_unavailable")
        late = scenario == "always_slow" or (scenario == "slow_first_attempt" and attempt == 1) or bool(
            self.config.timeout_rate and self.rng.random() < self.config.timeout_rate)
        charge = LedgerCharge(key, request.amount, request.currency, f"txn_{secrets.token_hex(10)}", received_at)
        charge = await self._run_sync(self.ledger.record, charge)
        if scenario == "drop_after_charge":
            await self._latency()
            raise ConnectionResetError("the mock provider dropped the connection after charging")
        if late:
            await self._sleep(self.config.slow_answer_seconds)  # charged, but the answer comes too late
        else:
            await self._latency()
        return CallResult.ok(charge.transaction_id)

    async def lookup(self, request: ChargeRequest) -> CallResult:
        """The mock's ledger says whether a charge stands for the key."""
        if self.config.failure_rate and self.rng.random() < self.config.failure_rate:
            await self._latency()
            return failure("provider_unavailable")  # a lookup fails like any call in the fault mode
        existing = await self._run_sync(self.ledger.find, request.idempotency_key)
        await self._latency()
        if existing is None:
            return CallResult.declined(NOT_CHARGED, "no charge stands for this payment")
        return CallResult.ok(existing.transaction_id)

    async def refund(self, request: RefundRequest) -> CallResult:
        """Refund from the mock's books: once per key, never more than the charge."""
        received_at = self.clock.now()
        key = request.idempotency_key
        existing = await self._run_sync(self.ledger.find_refund, key)
        if existing is not None:
            await self._latency()
            return CallResult.ok(existing.provider_refund_id)
        if self.config.failure_rate and self.rng.random() < self.config.failure_rate:
            await self._latency()
            return failure("provider_unavailable")
        charge = await self._run_sync(self.ledger.find, request.payment_id)
        if charge is None:
            await self._latency()
            return CallResult.declined("charge_not_found", "The provider has no charge for this payment.")
        if self.scenario_of(request.card_token) == "refund_fails":
            await self._latency()
            return CallResult.declined("refund_failed", "The card's issuer refused the refund.")
        refunded = sum(r.amount for r in await self._run_sync(self.ledger.refunds, request.payment_id, 1000))
        if refunded + request.amount > charge.amount:
            await self._latency()
            return CallResult.declined("refund_exceeds_charge", "The refunds would exceed the charge.")
        late = bool(self.config.timeout_rate and self.rng.random() < self.config.timeout_rate)
        made = LedgerRefund(request.payment_id, key, request.amount, request.currency,
                            f"rf_{secrets.token_hex(10)}", received_at)
        made = await self._run_sync(self.ledger.record_refund, key, made)
        if late:
            await self._sleep(self.config.slow_answer_seconds)  # refunded, but the answer comes too late
        else:
            await self._latency()
        return CallResult.ok(made.provider_refund_id)

    async def lookup_refund(self, request: RefundRequest) -> CallResult:
        if self.config.failure_rate and self.rng.random() < self.config.failure_rate:
            await self._latency()
            return failure("provider_unavailable")
        existing = await self._run_sync(self.ledger.find_refund, request.idempotency_key)
        await self._latency()
        if existing is None:
            return CallResult.declined(NOT_REFUNDED, "no refund stands for this key")
        return CallResult.ok(existing.provider_refund_id)

    async def open(self) -> None:
        """Nothing to open: the mock lives in this process."""

    async def aclose(self) -> None:
        """Nothing to close: the mock lives in this process."""

    async def _latency(self) -> None:
        low, high = self.config.min_latency_ms, max(self.config.min_latency_ms, self.config.max_latency_ms)
        if high > 0:
            await self._sleep(self.rng.uniform(low, high) / 1000)
