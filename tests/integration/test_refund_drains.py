"""Two refund drains at once, on SQLite and PostgreSQL: two RefundProcessors with different owners
(each on its own connections, like two processes) drain one set of pending refunds against one mock
ledger; each refund is made exactly once and succeeds, and its payment counts it exactly once, also
when the two drains make refunds of one payment at the same moment."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import Container
from app.config import Settings
from app.providers import build_routes
from domain.clock import SystemClock
from domain.model.providers import CallKind, CallResult, RefundRequest
from domain.model.retry import RetryPolicy
from domain.services.processor import PaymentProcessor, ProcessorConfig, Route
from domain.services.refund_processor import RefundProcessor
from storage.db import Database
from storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.conftest import make_settings

CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
AMOUNT, PART = 2000, 500


class CountingProvider:
    """The mock provider as the drains see it, with every refund call it receives written down."""

    def __init__(self, inner: Any, calls: list[tuple[str, str]]) -> None:
        self.inner = inner
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def refund(self, request: RefundRequest) -> CallResult:
        self.calls.append(("refund", request.idempotency_key))
        return await self.inner.refund(request)

    async def lookup_refund(self, request: RefundRequest) -> CallResult:
        self.calls.append(("lookup_refund", request.idempotency_key))
        return await self.inner.lookup_refund(request)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # Each mock call takes a few milliseconds, so the two drains overlap rather than one taking all.
    return make_settings(tmp_path, database_url=db_url, rate_limit_capacity=100, rate_limit_per_second=100.0,
                         mock_min_latency_ms=5, mock_max_latency_ms=15)


class BothNumberAtOnce(SqlUnitOfWorkFactory):
    """A unit of work whose first attempt numbering waits (after reading the number) until the other
    drain has read its number too: the two drains' refund calls of one payment start at one moment."""

    def __init__(self, db: Database, together: threading.Barrier) -> None:
        super().__init__(db)
        self.together = together
        self.waited = False

    def __call__(self, read_only: bool = False) -> SqlUnitOfWork:
        factory = self

        class Paused(SqlUnitOfWork):
            def __enter__(self) -> SqlUnitOfWork:
                super().__enter__()
                self.attempts = PausedNumbering(self.attempts, factory)  # type: ignore[assignment]
                return self

        return Paused(self.db, read_only)


class PausedNumbering:
    def __init__(self, inner: Any, factory: BothNumberAtOnce) -> None:
        self.inner = inner
        self.factory = factory

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def next_number(self, payment_id: str) -> int:
        number = self.inner.next_number(payment_id)
        if not self.factory.waited:
            self.factory.waited = True
            # a broken barrier: the other drain could not number meanwhile (it waits for this transaction)
            with contextlib.suppress(threading.BrokenBarrierError):
                self.factory.together.wait(timeout=2)
        return number


def pending_refunds(c: Container, payments: int, refunds_each: int) -> dict[str, str]:
    """`payments` completed payments, each with `refunds_each` pending partial refunds: {refund id: payment id}."""
    with c.uow(read_only=True) as uow:
        customer = uow.users.get_by_email("customer@example.com")
        admin = uow.users.get_by_email("admin@example.com")
    payment_ids = [c.payments.submit(customer, {"amount": AMOUNT, "currency": "USD", "card": CARD})[0].id
                   for _ in range(payments)]
    asyncio.run(c.processor.drain())
    with c.uow(read_only=True) as uow:
        assert [uow.payments.get(pid).status for pid in payment_ids] == ["completed"] * payments
    return {c.refunds.create(admin, pid, {"amount": PART})[0].id: pid
            for pid in payment_ids for _ in range(refunds_each)}


def drain_for(owner: str, settings: Settings, uow: SqlUnitOfWorkFactory,
              calls: list[tuple[str, str]]) -> RefundProcessor:
    """A refund drain with its own owner, on its own Database object, over the shared mock ledger."""
    clock = SystemClock()
    routes = [Route(CountingProvider(r.provider, calls), r.limiter, r.circuit)
              for r in build_routes(settings, uow.db, clock)]
    processor = PaymentProcessor(uow, routes, RetryPolicy(base_seconds=0.05), clock,
                                 ProcessorConfig(owner=owner, lease_seconds=30))
    return RefundProcessor(processor)


def drain_at_once(drains: list[RefundProcessor]) -> list[int | BaseException]:
    """Run the drains in threads of their own (an event loop each), started together: calls made, or what it raised."""
    start = threading.Barrier(len(drains))

    def run(drain: RefundProcessor) -> int | BaseException:
        start.wait(timeout=30)
        try:
            return asyncio.run(drain.drain())
        except Exception as e:  # noqa: BLE001 - reported by the assertions
            return e

    with ThreadPoolExecutor(len(drains)) as pool:
        return list(pool.map(run, drains))


def test_two_drains_at_once_make_each_refund_exactly_once(container: Container, settings: Settings,
                                                           open_db) -> None:
    refunds = pending_refunds(container, payments=20, refunds_each=1)
    calls: list[tuple[str, str]] = []
    drains = [drain_for(owner, settings, SqlUnitOfWorkFactory(open_db()), calls) for owner in ("drain-a", "drain-b")]

    made = drain_at_once(drains)

    assert all(isinstance(n, int) and n > 0 for n in made), made  # both drains worked, neither crashed
    assert sum(made) == len(refunds), made  # type: ignore[arg-type]  # no call made twice
    assert Counter(calls) == {("refund", rid): 1 for rid in refunds}  # no refund sent twice, none looked up
    ledger = container.ledger.refunds(None, 1000)
    assert sorted((e.refund_id, e.payment_id, e.amount) for e in ledger) == sorted(
        (rid, pid, PART) for rid, pid in refunds.items())
    with container.uow(read_only=True) as uow:
        stored = {rid: uow.refunds.get(rid) for rid in refunds}
        payments = {pid: uow.payments.get(pid) for pid in set(refunds.values())}
        attempts = {pid: uow.attempts.for_payment(pid) for pid in payments}
        events = {pid: [e for e in uow.outbox.for_aggregate(pid) if e.type.startswith("refund.")] for pid in payments}
    assert {(r.status, r.lease_owner, r.needs_lookup) for r in stored.values()} == {("succeeded", None, False)}
    assert {r.transaction_id for r in stored.values()} == {e.provider_refund_id for e in ledger}
    for pid, payment in payments.items():  # each settlement counted once on its payment: no update lost
        assert (payment.status, payment.refunded_amount) == ("completed", PART), pid
        refund_attempts = [(a.kind, a.outcome) for a in attempts[pid] if a.kind != CallKind.CHARGE]
        assert refund_attempts == [(CallKind.REFUND, "approved")], pid
        assert Counter(e.type for e in events[pid]) == {"refund.created": 1, "refund.succeeded": 1}, pid


def test_two_drains_making_refunds_of_one_payment_at_one_moment_both_succeed(
        container: Container, settings: Settings, open_db) -> None:
    refunds = pending_refunds(container, payments=1, refunds_each=4)
    (payment_id,) = set(refunds.values())
    calls: list[tuple[str, str]] = []
    together = threading.Barrier(2)
    # Each drain pauses after reading its number until the other has read one too, or 2 s: without the
    # payment's lock around the numbering (PostgreSQL; SQLite has one writer at a time), both read
    # the same number and the second insert is a DuplicateKey that stops its drain.
    uows = [BothNumberAtOnce(open_db(), together) for _ in range(2)]
    drains = [drain_for(owner, settings, uow, calls) for owner, uow in zip(("drain-a", "drain-b"), uows, strict=True)]

    made = drain_at_once(drains)

    assert all(isinstance(n, int) for n in made), made  # neither drain crashed
    drained_again = asyncio.run(drain_for("drain-c", settings, SqlUnitOfWorkFactory(open_db()), calls).drain())
    assert Counter(calls) == {("refund", rid): 1 for rid in refunds}
    assert drained_again == 0  # nothing was left for a third
    with container.uow(read_only=True) as uow:
        statuses = [uow.refunds.get(rid).status for rid in refunds]
        payment = uow.payments.get(payment_id)
        numbers = [a.number for a in uow.attempts.for_payment(payment_id)]
    assert statuses == ["succeeded"] * len(refunds)
    assert payment.refunded_amount == PART * len(refunds)  # each settlement counted once: no update lost
    assert numbers == list(range(1, len(refunds) + 2))  # the charge, then one row per refund call
