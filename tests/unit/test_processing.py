"""Draining the queue with fakes: leases, the rate limiter before every call, retries, no double charge."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest

from domain.clock import FakeClock
from domain.model.cards import CardInput
from domain.model.providers import CallResult, ChargeRequest
from domain.model.rate_limit import BucketConfig, Grant, InMemoryRateLimiter
from domain.model.retry import RetryPolicy
from domain.services.mock_provider import MockConfig, MockProvider
from domain.services.payments import PaymentService
from domain.services.processor import PaymentProcessor, ProcessorConfig, Route
from tests.fakes import (
    T0,
    FakeCircuit,
    FakeLedger,
    FakeUnitOfWorkFactory,
    InstantSleep,
    make_payment,
    make_user,
    run_sync,
)

OWNER = "worker-1"


class RecordingLimiter:
    """The in-memory bucket, writing each decision to a shared log."""

    def __init__(self, inner: InMemoryRateLimiter, log: list[tuple]) -> None:
        self.inner = inner
        self.config = inner.config
        self.log = log
        self.on_grant: list = []  # callbacks run once each, right after a grant

    def try_acquire(self) -> Grant:
        grant = self.inner.try_acquire()
        self.log.append(("grant",) if grant.granted else ("refused", grant.wait_seconds))
        if grant.granted and self.on_grant:
            self.on_grant.pop(0)()
        return grant

    def available(self) -> float:
        return self.inner.available()

    def give_back(self) -> None:
        self.inner.give_back()
        self.log.append(("given back",))


class RecordingProvider:
    """The mock provider, writing each charge call (with the fake time) to the shared log."""

    def __init__(self, inner: MockProvider, clock: FakeClock, log: list[tuple]) -> None:
        self.inner = inner
        self.name = inner.name
        self.charges_without_card = inner.charges_without_card
        self.clock = clock
        self.log = log
        self.fail_next: list[Exception] = []

    def owns_token(self, token: str) -> bool:
        return self.inner.owns_token(token)

    def tokenize(self, card):
        return self.inner.tokenize(card)

    async def create_token(self, card) -> CallResult:
        return await self.inner.create_token(card)

    async def charge(self, request: ChargeRequest) -> CallResult:
        self.log.append(("call", request.idempotency_key, self.clock.now()))
        if self.fail_next:
            raise self.fail_next.pop(0)
        return await self.inner.charge(request)

    async def lookup(self, request: ChargeRequest) -> CallResult:
        self.log.append(("lookup", request.idempotency_key, self.clock.now()))
        return await self.inner.lookup(request)


class Rig:
    """A processor wired to fakes: fake clock, fake unit of work, fake ledger, instant sleep."""

    def __init__(self, *, provider_sleep=None, slow_answer_seconds: float = 3.0,
                 call_timeout_seconds: float = 2.0, bucket: BucketConfig | None = None,
                 lease_seconds: float = 30.0,
                 max_token_poll_seconds: float = 0.25, sleep=None, after_charge=lambda p: None) -> None:
        self.clock = FakeClock(T0)
        self.uow = FakeUnitOfWorkFactory()
        self.ledger = FakeLedger()
        self.log: list[tuple] = []
        self.sleep = sleep or InstantSleep(self.clock)
        self.provider_sleep = provider_sleep or InstantSleep(self.clock)
        config = MockConfig(min_latency_ms=0, max_latency_ms=0, slow_answer_seconds=slow_answer_seconds)
        mock = MockProvider(self.ledger, self.clock, config,
                            rng=random.Random(3), sleep=self.provider_sleep, run_sync=run_sync)
        self.provider = RecordingProvider(mock, self.clock, self.log)
        self.limiter = RecordingLimiter(InMemoryRateLimiter(bucket or BucketConfig(), self.clock), self.log)
        self.circuit = FakeCircuit(self.clock)
        self.processor = self.make_processor(
            OWNER, call_timeout_seconds=call_timeout_seconds, lease_seconds=lease_seconds,
            max_token_poll_seconds=max_token_poll_seconds, after_charge=after_charge)
        self.service = PaymentService(self.uow, [self.provider], self.clock)
        self.customer = self.uow.put_user(make_user(email="alice@example.com", user_id="usr_alice"))

    def make_processor(self, owner: str, after_charge=lambda p: None, **config) -> PaymentProcessor:
        return PaymentProcessor(self.uow, [Route(self.provider, self.limiter, self.circuit)], RetryPolicy(), self.clock,
                                ProcessorConfig(owner=owner, **config), sleep=self.sleep, run_sync=run_sync,
                                after_charge=after_charge)

    def submit(self, number: str | None = "4242424242424242") -> str:
        raw = {"amount": 2500, "currency": "USD", "paymentMethod": "credit_card"}
        if number:
            raw["card"] = {"number": number, "expMonth": 12, "expYear": 2030, "cvc": "123"}
        payment, _ = self.service.submit(self.customer, raw)
        return payment.id

    def token(self, number: str) -> str:
        """A provider token for a card, as the submission would have stored it."""
        card = CardInput.parse({"number": number, "expMonth": 12, "expYear": 2030, "cvc": "123"}, T0)
        return self.provider.tokenize(card).token

    async def drain_until_settled(self, max_rounds: int = 10) -> list[int]:
        """Drain; while a retry is scheduled, move the clock to its time and drain again."""
        attempts = [await self.processor.drain()]
        for _ in range(max_rounds):
            waiting = [p.next_attempt_at for p in self.uow.payments() if p.status == "retrying"]
            # Unknown outcomes wait for a lookup, claimable once their lease has run out (strictly after).
            waiting += [p.lease_expires_at + timedelta(microseconds=1) for p in self.uow.payments()
                        if p.status == "processing" and p.needs_lookup and p.lease_owner is None]
            if not waiting:
                return attempts
            self.clock.set(max(self.clock.now(), min(waiting)))
            attempts.append(await self.processor.drain())
        raise AssertionError("payments never settled")

    def calls(self) -> list[tuple]:
        return [entry for entry in self.log if entry[0] == "call"]

    def lookups(self) -> list[tuple]:
        return [entry for entry in self.log if entry[0] == "lookup"]

    def grants_and_calls(self) -> list[str]:
        return [entry[0] for entry in self.log if entry[0] in ("grant", "call")]


async def test_an_approved_card_completes_with_one_ledger_charge_and_three_events():
    rig = Rig()
    pid = rig.submit("4242424242424242")

    attempts = await rig.processor.drain()

    payment = rig.uow.payment(pid)
    assert attempts == 1
    assert payment.status == "completed"
    assert payment.transaction_id == rig.ledger.find(pid).transaction_id
    assert (payment.attempts, payment.retry_count, payment.lease_owner) == (1, 0, None)
    assert len(rig.ledger.charges) == 1
    assert rig.uow.event_types(pid) == ["payment.created", "payment.processing", "payment.completed"]
    assert rig.uow.events(pid)[-1].data["transactionId"] == payment.transaction_id


async def test_a_declined_card_fails_at_once_without_a_retry():
    rig = Rig()
    pid = rig.submit("4000000000000002")

    attempts = await rig.drain_until_settled()

    payment = rig.uow.payment(pid)
    assert attempts == [1]
    assert (payment.status, payment.failure_code, payment.retry_count) == ("failed", "card_declined", 0)
    assert payment.next_attempt_at is None
    assert rig.uow.event_types(pid) == ["payment.created", "payment.processing", "payment.failed"]
    assert rig.ledger.charges == {}
    assert await rig.processor.drain() == 0


async def test_the_0341_card_completes_on_the_third_attempt_after_two_backoffs():
    rig = Rig()
    pid = rig.submit("4000000000000341")

    assert await rig.processor.drain() == 1
    first_retry = rig.uow.payment(pid)
    assert (first_retry.status, first_retry.retry_count) == ("retrying", 1)
    assert first_retry.next_attempt_at == T0 + timedelta(seconds=1)
    rig.clock.advance(0.999)
    assert await rig.processor.drain() == 0  # not due yet

    rig.clock.set(first_retry.next_attempt_at)
    assert await rig.processor.drain() == 1
    second_retry = rig.uow.payment(pid)
    assert (second_retry.status, second_retry.retry_count) == ("retrying", 2)
    assert second_retry.next_attempt_at == rig.clock.now() + timedelta(seconds=2)
    rig.clock.set(second_retry.next_attempt_at)
    assert await rig.processor.drain() == 1

    payment = rig.uow.payment(pid)
    assert (payment.status, payment.retry_count, payment.attempts) == ("completed", 2, 3)
    assert len(rig.ledger.charges) == 1
    assert rig.uow.event_types(pid) == [
        "payment.created",
        "payment.processing", "payment.retry",
        "payment.processing", "payment.retry",
        "payment.processing", "payment.completed"]


async def test_the_0119_card_fails_after_three_retries_and_four_attempts():
    rig = Rig()
    pid = rig.submit("4000000000000119")

    attempts = await rig.drain_until_settled()

    payment = rig.uow.payment(pid)
    assert attempts == [1, 1, 1, 1]
    assert (payment.status, payment.retry_count, payment.attempts) == ("failed", 3, 4)
    assert payment.failure_code == "processing_error"
    retries = [e for e in rig.uow.events(pid) if e.type == "payment.retry"]
    backoffs = [datetime.fromisoformat(e.data["nextAttemptAt"]) - e.created_at for e in retries]
    assert backoffs == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    assert rig.uow.event_types(pid)[-1] == "payment.failed"
    assert len(rig.calls()) == 4
    assert rig.ledger.charges == {}


async def test_the_0259_card_times_out_first_and_a_lookup_completes_it_without_a_second_charge():
    # The provider really waits (0.05 s) so asyncio.wait_for really times out (0.01 s); the
    # processor's own sleep stays instant. The whole test waits about 0.01 s of real time.
    rig = Rig(provider_sleep=asyncio.sleep, slow_answer_seconds=0.05, call_timeout_seconds=0.01)
    pid = rig.submit("4000000000000259")

    assert await rig.processor.drain() == 1
    timed_out = rig.uow.payment(pid)
    # Not a failure and not a retry: the outcome is unknown, so the payment waits for a lookup.
    assert (timed_out.status, timed_out.failure_code, timed_out.needs_lookup) == ("processing", "provider_timeout",
                                                                                  True)
    assert timed_out.lease_owner is None and timed_out.retry_count == 0
    assert len(rig.ledger.charges) == 1  # the provider charged even though it answered too late

    rig.clock.set(timed_out.lease_expires_at + timedelta(microseconds=1))
    assert await rig.processor.drain() == 1

    payment = rig.uow.payment(pid)
    assert (payment.status, payment.needs_lookup, payment.retry_count) == ("completed", False, 0)
    assert list(rig.ledger.charges) == [pid]
    assert payment.transaction_id == rig.ledger.find(pid).transaction_id
    assert (len(rig.calls()), len(rig.lookups())) == (1, 1)  # the lookup found it: no second charge call
    kinds = [(a.kind, a.outcome) for a in rig.uow.state.attempts]
    assert kinds == [("charge", "unknown"), ("lookup", "approved")]


async def test_the_limiter_grants_a_token_before_every_provider_call_including_retries():
    rig = Rig()
    pids = [rig.submit(n) for n in ("4000000000000341", "4242424242424242", "4000000000000119",
                                    "4000000000000002", "5555555555554444")]

    await rig.drain_until_settled()

    sequence = rig.grants_and_calls()
    assert sequence.count("call") == 3 + 1 + 4 + 1 + 1
    assert sequence.count("grant") == sequence.count("call")
    for i in range(len(sequence)):
        prefix = sequence[: i + 1]
        assert prefix.count("grant") >= prefix.count("call"), f"a call without a token at step {i}"
    assert {rig.uow.payment(p).status for p in pids} == {"completed", "failed"}


async def test_provider_calls_never_exceed_two_plus_two_per_second():
    rig = Rig()
    for _ in range(12):
        rig.submit("4242424242424242")

    await rig.processor.drain()

    times = sorted((at - T0).total_seconds() for _, _, at in rig.calls())
    assert len(times) == 12
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= 2 + 2 * (times[j] - times[i]) + 1e-9
    assert times[-1] == pytest.approx(5.0)  # 2 at once, then one every half second: no slower either
    assert all(p.status == "completed" for p in rig.uow.payments())


async def test_a_payment_without_a_token_waits_for_the_limiters_wait_instead_of_failing():
    rig = Rig(max_token_poll_seconds=10.0)
    rig.limiter.inner.try_acquire()
    rig.limiter.inner.try_acquire()  # the bucket is empty now
    pid = rig.submit("4242424242424242")

    await rig.processor.drain()

    assert rig.sleep.delays == [0.5]
    assert rig.uow.payment(pid).status == "completed"
    assert rig.calls()[0][2] == T0 + timedelta(seconds=0.5)
    assert [e[0] for e in rig.log[:2]] == ["refused", "grant"]


async def test_a_long_wait_for_a_token_is_polled_in_short_sleeps():
    rig = Rig()  # max_token_poll_seconds = 0.25
    rig.limiter.inner.try_acquire()
    rig.limiter.inner.try_acquire()
    pid = rig.submit("4242424242424242")

    await rig.processor.drain()

    assert rig.sleep.delays == [0.25, 0.25]
    assert rig.uow.payment(pid).status == "completed"


async def test_a_long_wait_for_a_token_keeps_the_lease_alive():
    lease_seen: list[tuple] = []

    class LeaseWatchingSleep(InstantSleep):
        async def __call__(self, seconds: float) -> None:
            lease_seen.append((self.clock.now(), rig.uow.state.payments[pid].lease_expires_at))
            await super().__call__(seconds)

    rig = Rig(bucket=BucketConfig(capacity=1, refill_per_second=0.05), lease_seconds=3.0)
    rig.sleep = LeaseWatchingSleep(rig.clock)
    rig.processor = rig.make_processor(OWNER, lease_seconds=3.0)
    rig.limiter.inner.try_acquire()
    pid = rig.submit("4242424242424242")

    await rig.processor.drain()

    assert rig.clock.now() - T0 == timedelta(seconds=20)  # one token every 20 s
    assert len(lease_seen) == 80
    assert all(now < lease for now, lease in lease_seen)
    assert rig.uow.payment(pid).status == "completed"


async def test_a_payment_whose_lease_is_taken_while_waiting_for_a_token_is_left_alone():
    rig = Rig(bucket=BucketConfig(capacity=1, refill_per_second=0.05), lease_seconds=3.0)
    rig.limiter.inner.try_acquire()
    pid = rig.submit("4242424242424242")

    class ThiefSleep(InstantSleep):
        async def __call__(self, seconds: float) -> None:
            await super().__call__(seconds)
            stored = rig.uow.state.payments[pid]
            stored.lease_owner, stored.lease_expires_at = "worker-2", rig.clock.now() + timedelta(minutes=5)

    rig.sleep = ThiefSleep(rig.clock)
    rig.processor = rig.make_processor(OWNER, lease_seconds=3.0)

    attempts = await rig.processor.drain()

    assert attempts == 0
    assert rig.calls() == []
    stored = rig.uow.payment(pid)
    assert (stored.status, stored.lease_owner) == ("processing", "worker-2")


async def test_a_process_that_stalls_past_its_lease_after_a_grant_leaves_the_call_to_the_new_owner():
    # A lease is lost only to a long stall. A stall after the grant makes the token too old to use
    # (see _late); before taking a fresh one the old owner sees the lease gone, and leaves the call.
    rig = Rig(bucket=BucketConfig(capacity=2, refill_per_second=2.0, safety_margin=0.2))
    pid = rig.submit("4242424242424242")

    def stall_and_lose_the_lease() -> None:
        rig.clock.advance(31)
        stored = rig.uow.state.payments[pid]
        stored.lease_owner, stored.lease_expires_at = "worker-2", rig.clock.now() + timedelta(seconds=30)

    rig.limiter.on_grant.append(stall_and_lose_the_lease)

    await rig.processor.drain()

    stored = rig.uow.payment(pid)
    assert (stored.status, stored.lease_owner) == ("processing", "worker-2")
    assert rig.calls() == []
    assert rig.uow.event_types(pid) == ["payment.created", "payment.processing"]


async def test_a_token_that_went_stale_before_its_call_goes_back_to_the_bucket_and_the_call_takes_a_fresh_one():
    # A short stall after the grant (the lease is kept) makes the token too old to use; it is returned,
    # so the bucket loses nothing: the fresh token is the returned one, granted at once.
    rig = Rig(bucket=BucketConfig(capacity=2, refill_per_second=2.0, safety_margin=0.2))
    pid = rig.submit("4242424242424242")
    rig.limiter.on_grant.append(lambda: rig.clock.advance(1))

    await rig.processor.drain()

    assert rig.uow.payment(pid).status == "completed"
    assert [e for e in rig.log if e[0] in ("grant", "given back", "refused")] == [
        ("grant",), ("given back",), ("grant",)]
    assert len(rig.ledger.charges) == 1
    assert rig.limiter.available() == 1.0  # two refilled during the stall, capped at 2, one spent


async def test_a_fresh_token_late_again_is_used_and_not_given_back_over_and_over():
    # At a rate whose tolerance is shorter than a grant takes, every token would be late: the
    # call gives one back once, then goes ahead with the fresh one instead of starving.
    rig = Rig(bucket=BucketConfig(capacity=2, refill_per_second=2.0, safety_margin=0.2))
    pid = rig.submit("4242424242424242")
    rig.limiter.on_grant.extend([lambda: rig.clock.advance(1)] * 3)

    await rig.processor.drain()

    assert rig.uow.payment(pid).status == "completed"
    assert [e[0] for e in rig.log if e[0] in ("grant", "given back")] == ["grant", "given back", "grant"]
    assert len(rig.ledger.charges) == 1


async def test_an_expired_lease_of_another_owner_is_reclaimed_and_finished():
    rig = Rig()
    token = rig.token("4242424242424242")
    rig.uow.put_payment(make_payment(payment_id="pay_orphan", status="processing", attempts=1,
                                     card_tokens={"mock": token}, lease_owner="dead-worker",
                                     lease_expires_at=T0 - timedelta(seconds=1)))

    attempts = await rig.processor.drain()

    payment = rig.uow.payment("pay_orphan")
    assert attempts == 1
    assert (payment.status, payment.lease_owner, payment.attempts) == ("completed", None, 1)
    assert rig.uow.event_types("pay_orphan") == ["payment.completed"]
    assert len(rig.ledger.charges) == 1


async def test_a_crashed_worker_that_had_charged_is_finished_with_the_same_charge():
    rig = Rig()
    stolen: list[str] = []

    def steal_lease(payment) -> None:  # the worker "dies" after the charge: another owner takes over
        stored = rig.uow.state.payments[payment.id]
        stored.lease_owner, stored.lease_expires_at = "worker-2", rig.clock.now() + timedelta(seconds=30)
        stolen.append(payment.id)

    rig.processor = rig.make_processor(OWNER, after_charge=steal_lease)
    pid = rig.submit("4242424242424242")
    await rig.processor.drain()
    assert rig.uow.payment(pid).status == "processing"  # the outcome was not applied without the lease
    first_charge = rig.ledger.find(pid)

    rig.clock.advance(31)
    rescuer = rig.make_processor("worker-3")
    assert await rescuer.drain() == 1

    payment = rig.uow.payment(pid)
    assert stolen == [pid]
    assert payment.status == "completed"
    assert payment.transaction_id == first_charge.transaction_id
    assert len(rig.ledger.charges) == 1
    # The rescuer found the charge's attempt in flight (needs_lookup): it asked, and did not charge.
    assert (len(rig.calls()), len(rig.lookups())) == (1, 1)


async def test_a_payment_leased_by_a_live_other_owner_is_not_touched():
    rig = Rig()
    token = rig.token("4242424242424242")
    rig.uow.put_payment(make_payment(payment_id="pay_busy", status="pending", card_tokens={"mock": token},
                                     lease_owner="worker-2", lease_expires_at=T0 + timedelta(seconds=30)))

    attempts = await rig.processor.drain()

    payment = rig.uow.payment("pay_busy")
    assert attempts == 0
    assert (payment.status, payment.lease_owner) == ("pending", "worker-2")
    assert rig.log == []  # not even a token was taken for it
    assert rig.ledger.charges == {}


async def test_once_the_other_owners_lease_expires_the_payment_is_claimed():
    rig = Rig()
    rig.uow.put_payment(make_payment(payment_id="pay_busy", status="pending",
                                     lease_owner="worker-2", lease_expires_at=T0 + timedelta(seconds=30)))
    rig.clock.advance(30)
    assert await rig.processor.drain() == 0  # expires *after* its time, not at it

    rig.clock.advance(0.001)

    assert await rig.processor.drain() == 1
    assert rig.uow.payment("pay_busy").status == "completed"


async def test_a_retrying_payment_in_a_terminal_state_or_due_later_is_not_claimed():
    rig = Rig()
    rig.uow.put_payment(make_payment(payment_id="pay_done", status="completed"))
    rig.uow.put_payment(make_payment(payment_id="pay_lost", status="failed"))
    rig.uow.put_payment(make_payment(payment_id="pay_later", status="retrying", retry_count=1,
                                     next_attempt_at=T0 + timedelta(seconds=2)))

    assert await rig.processor.drain() == 0
    assert rig.log == []


async def test_an_adapter_that_raises_leaves_the_outcome_unknown_and_a_lookup_decides():
    rig = Rig()
    rig.provider.fail_next.append(ConnectionResetError("connection reset"))  # before the provider charged
    pid = rig.submit("4242424242424242")

    await rig.processor.drain()
    unknown = rig.uow.payment(pid)
    await rig.drain_until_settled()

    assert (unknown.status, unknown.failure_code, unknown.needs_lookup) == ("processing", "connection_lost", True)
    assert rig.uow.payment(pid).status == "completed"
    assert len(rig.ledger.charges) == 1
    # charge (lost), lookup (nothing stands), charge again
    assert [e[0] for e in rig.log if e[0] in ("call", "lookup")] == ["call", "lookup", "call"]


async def test_every_provider_call_is_kept_as_an_attempt_row_with_its_outcome():
    rig = Rig()
    approved = rig.submit("4242424242424242")
    declined = rig.submit("4000000000000002")

    await rig.processor.drain()

    rows = {a.payment_id: a for a in rig.uow.state.attempts}
    assert (rows[approved].kind, rows[approved].outcome, rows[approved].number) == ("charge", "approved", 1)
    assert rows[approved].transaction_id == rig.uow.payment(approved).transaction_id
    assert (rows[declined].outcome, rows[declined].code) == ("declined", "card_declined")
    assert all(a.provider == "mock" and a.latency_ms is not None and a.started_at == T0 for a in rows.values())


async def test_a_token_granted_too_long_before_the_call_is_let_go_and_a_fresh_one_taken():
    # The margin tolerates 0.2 / 2 = 100 ms between grant and call; a 300 ms stall exceeds it.
    rig = Rig(bucket=BucketConfig(capacity=2, refill_per_second=2.0, safety_margin=0.2))
    rig.submit("4242424242424242")
    rig.limiter.on_grant.append(lambda: rig.clock.advance(0.3))  # the process stalls after its grant

    await rig.processor.drain()

    assert rig.grants_and_calls() == ["grant", "grant", "call"]


async def test_a_call_soon_after_its_grant_uses_that_token():
    rig = Rig(bucket=BucketConfig(capacity=2, refill_per_second=2.0, safety_margin=0.2))
    rig.submit("4242424242424242")
    rig.limiter.on_grant.append(lambda: rig.clock.advance(0.05))  # within the 100 ms tolerance

    await rig.processor.drain()

    assert rig.grants_and_calls() == ["grant", "call"]


async def test_a_stopped_processor_claims_nothing_more():
    rig = Rig()
    pids = [rig.submit() for _ in range(3)]

    rig.processor.stop()
    attempts = await rig.processor.drain()

    assert attempts == 0
    assert [rig.uow.payment(pid).status for pid in pids] == ["pending"] * 3


async def test_stopping_while_a_payment_waits_for_its_token_hands_it_back_at_once():
    rig = Rig(bucket=BucketConfig(capacity=1, refill_per_second=0.01))
    first, second = rig.submit(), rig.submit()
    stop_after_refusals = 2

    def stop_when_refused() -> None:
        nonlocal stop_after_refusals
        if rig.log and rig.log[-1][0] == "refused":
            stop_after_refusals -= 1
            if stop_after_refusals == 0:
                rig.processor.stop()

    rig.limiter.log = _StopHook(rig.log, stop_when_refused)
    await rig.processor.drain()

    waiting = rig.uow.payment(second)
    assert rig.uow.payment(first).status == "completed"
    assert waiting.status == "processing" and waiting.lease_owner is None  # handed back, not kept for 30 s
    assert [c[1] for c in rig.calls()] == [first]


class _StopHook(list):
    """The limiter's log, calling `hook` after each entry."""

    def __init__(self, entries: list, hook) -> None:
        super().__init__(entries)
        self.shared = entries
        self.hook = hook

    def append(self, entry) -> None:
        self.shared.append(entry)
        super().append(entry)
        self.hook()
