"""A fleet of providers on fakes for the routing and refund tests: the mock on a fake ledger and a
Stripe-like provider whose tokens are made by a call, each with its own bucket and circuit breaker,
over one fake unit of work, with a fake clock and instant sleeps."""

from __future__ import annotations

import random
from datetime import timedelta

from domain.clock import FakeClock
from domain.model.cards import CardInput
from domain.model.providers import (
    NOT_CHARGED,
    NOT_REFUNDED,
    CallResult,
    ChargeRequest,
    LedgerCharge,
    LedgerRefund,
    RefundRequest,
)
from domain.model.rate_limit import BucketConfig, InMemoryRateLimiter
from domain.model.retry import RetryPolicy
from domain.services.card_vault import CardVault
from domain.services.mock_provider import MockConfig, MockProvider
from domain.services.payments import PaymentService
from domain.services.processor import PaymentProcessor, ProcessorConfig, Route
from tests.fakes import T0, FakeCircuit, FakeLedger, FakeUnitOfWorkFactory, InstantSleep, make_user, run_sync

OWNER = "worker-1"
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


class Scripted:
    """A provider wrapper that logs every call as (kind, provider, payment id) and can answer a
    charge from a script (a CallResult, or an exception to raise) before asking the real one."""

    def __init__(self, inner, log: list[tuple]) -> None:
        self.inner = inner
        self.name = inner.name
        self.charges_without_card = inner.charges_without_card
        self.log = log
        self.script: list[CallResult | Exception] = []
        self.refund_script: list[CallResult | Exception] = []

    def owns_token(self, token: str) -> bool:
        return self.inner.owns_token(token)

    def tokenize(self, card):
        return self.inner.tokenize(card)

    async def create_token(self, card) -> CallResult:
        self.log.append(("tokenize", self.name, None))
        return await self.inner.create_token(card)

    async def charge(self, request: ChargeRequest) -> CallResult:
        self.log.append(("charge", self.name, request.idempotency_key))
        if self.script:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return await self.inner.charge(request)

    async def lookup(self, request: ChargeRequest) -> CallResult:
        self.log.append(("lookup", self.name, request.idempotency_key))
        return await self.inner.lookup(request)

    async def refund(self, request: RefundRequest) -> CallResult:
        self.log.append(("refund", self.name, request.idempotency_key))
        if self.refund_script:
            answer = self.refund_script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return await self.inner.refund(request)

    async def lookup_refund(self, request: RefundRequest) -> CallResult:
        self.log.append(("lookup_refund", self.name, request.idempotency_key))
        return await self.inner.lookup_refund(request)


class RemoteTokens:
    """A Stripe-like provider: its tokens (pm_…) are made by a call; charges idempotent by key."""

    charges_without_card = False

    def __init__(self, name: str, clock: FakeClock) -> None:
        self.name = name
        self.clock = clock
        self.ledger = FakeLedger()

    def owns_token(self, token: str) -> bool:
        return token.startswith("pm_")

    def tokenize(self, card: CardInput):
        return None

    async def create_token(self, card: CardInput) -> CallResult:
        return CallResult.ok(None, card_token=f"pm_{card.last4}", card_brand=card.brand, card_last4=card.last4)

    async def charge(self, request: ChargeRequest) -> CallResult:
        if not request.card_token or not request.card_token.startswith("pm_"):
            return CallResult.declined("missing_token", "no PaymentMethod")
        charge = self.ledger.record(LedgerCharge(request.idempotency_key, request.amount, request.currency,
                                                 f"pi_{request.idempotency_key}", self.clock.now()))
        return CallResult.ok(charge.transaction_id, card_brand="visa", card_last4="4242")

    async def lookup(self, request: ChargeRequest) -> CallResult:
        found = self.ledger.find(request.idempotency_key)
        return CallResult.ok(found.transaction_id) if found else CallResult.declined(NOT_CHARGED, "none")

    async def refund(self, request: RefundRequest) -> CallResult:
        made = self.ledger.record_refund(request.idempotency_key, LedgerRefund(
            request.payment_id, request.idempotency_key, request.amount, request.currency,
            f"re_stripe_{request.idempotency_key}", self.clock.now()))
        return CallResult.ok(made.provider_refund_id)

    async def lookup_refund(self, request: RefundRequest) -> CallResult:
        found = self.ledger.find_refund(request.idempotency_key)
        return CallResult.ok(found.provider_refund_id) if found else CallResult.declined(NOT_REFUNDED, "none")


class Limiter:
    def __init__(self, name: str, clock: FakeClock, log: list[tuple]) -> None:
        self.inner = InMemoryRateLimiter(BucketConfig(), clock)
        self.config = self.inner.config
        self.name = name
        self.log = log

    def try_acquire(self):
        grant = self.inner.try_acquire()
        if grant.granted:
            self.log.append(("token", self.name, None))
        return grant

    def available(self) -> float:
        return self.inner.available()

    def give_back(self) -> None:
        self.inner.give_back()


class Fleet:
    """Providers in routing order, each with its own bucket and circuit, over one fake database."""

    def __init__(self, *names: str, fail_max: int = 3, reset_seconds: float = 30.0) -> None:
        self.clock = FakeClock(T0)
        self.uow = FakeUnitOfWorkFactory()
        self.log: list[tuple] = []
        self.mock_ledger = FakeLedger()
        self.routes: list[Route] = []
        for name in names:
            if name == "mock":
                inner = MockProvider(self.mock_ledger, self.clock, MockConfig(min_latency_ms=0, max_latency_ms=0),
                                     rng=random.Random(1), sleep=InstantSleep(self.clock), run_sync=run_sync)
            else:
                inner = RemoteTokens(name, self.clock)
            self.routes.append(Route(Scripted(inner, self.log), Limiter(name, self.clock, self.log),
                                     FakeCircuit(self.clock, fail_max, reset_seconds)))
        self.vault = CardVault(self.clock)
        self.service = PaymentService(self.uow, [r.provider for r in self.routes], self.clock, vault=self.vault,
                                      holder=OWNER)
        self.processor = self.processor_for(OWNER, self.vault)
        self.customer = self.uow.put_user(make_user(email="alice@example.com", user_id="usr_alice"))

    def processor_for(self, owner: str, vault: CardVault) -> PaymentProcessor:
        return PaymentProcessor(self.uow, self.routes, RetryPolicy(), self.clock,
                                ProcessorConfig(owner=owner, circuit_wait_seconds=5.0), vault=vault,
                                sleep=InstantSleep(self.clock), run_sync=run_sync)

    def route(self, name: str) -> Route:
        return next(r for r in self.routes if r.name == name)

    def submit(self, **fields) -> str:
        raw = {"amount": 2500, "currency": "USD", "card": CARD, **fields}
        payment, _ = self.service.submit(self.customer, {k: v for k, v in raw.items() if v is not None})
        return payment.id

    async def settle(self, processor: PaymentProcessor | None = None, rounds: int = 20) -> None:
        processor = processor or self.processor
        for _ in range(rounds):
            await processor.drain()
            waiting = [p.next_attempt_at for p in self.uow.payments() if p.status == "retrying"]
            waiting += [p.lease_expires_at + timedelta(microseconds=1) if p.lease_owner is None else p.next_attempt_at
                        for p in self.uow.payments() if p.status == "processing"]
            if not waiting:
                return
            self.clock.set(max(self.clock.now(), min(waiting)))
        raise AssertionError("payments never settled")

    def calls(self, kind: str | None = None) -> list[tuple]:
        return [e for e in self.log if e[0] != "token" and (kind is None or e[0] == kind)]


