"""Draining the payment queue: claim with a lease, wait for a token, charge, apply the outcome.

This is orchestration, not a plain use case: it owns asyncio tasks, waits on the rate limiter and
times provider calls. It lives with the use cases because it speaks only to ports (unit of work,
limiter, provider, clock) and the standard library, and the clock, sleep and `run_sync` it is given
make it deterministic under unit tests; the scheduler job in `app/scheduler.py` only decides when it
runs. Every database step is a short transaction run through `run_sync` (a thread), so the event
loop keeps serving pages while the provider call is awaited.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import Clock, RunSync, Sleep
from domain.model.payments import Payment
from domain.model.providers import ChargeRequest, ChargeResult
from domain.model.rate_limit import Grant, epoch_us
from domain.model.retry import RetryPolicy
from domain.model.statuses import PaymentStatus
from domain.ports import PaymentProvider, RateLimiter, UnitOfWorkFactory

log = logging.getLogger("paygate.processing")



@dataclass(frozen=True)
class ProcessorConfig:
    owner: str  # this process's name on the leases it holds
    lease_seconds: float = 30.0
    call_timeout_seconds: float = 2.0
    max_in_flight: int = 8
    max_token_poll_seconds: float = 0.25


@dataclass(frozen=True)
class ProviderCall:
    """One provider call as this process saw it, for the metrics page."""

    at: datetime
    latency_ms: float
    approved: bool
    code: str | None


class PaymentProcessor:
    def __init__(self, uow: UnitOfWorkFactory, limiter: RateLimiter, provider: PaymentProvider,
                 policy: RetryPolicy, clock: Clock, config: ProcessorConfig,
                 sleep: Sleep = asyncio.sleep, run_sync: RunSync = asyncio.to_thread,
                 after_charge: Callable[[Payment], None] = lambda p: None,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.uow = uow
        self.limiter = limiter
        self.provider = provider
        self.policy = policy
        self.clock = clock
        self.config = config
        self._sleep = sleep
        self._run_sync = run_sync
        self._after_charge = after_charge  # a fault-injection point for crash tests
        self._on_change = on_change
        self.calls: deque[ProviderCall] = deque(maxlen=2000)
        self.last_progress: datetime = clock.now()  # a claim, a grant or an answer: the drain is moving
        self.stopping = False

    def stop(self) -> None:
        """Claim nothing more: the app is stopping. Calls in flight finish and apply their outcome;
        a payment still waiting for a token is handed back at once."""
        self.stopping = True

    async def drain(self) -> int:
        """Process due payments until none is left (or `stop()`); return how many attempts were made."""
        in_flight: set[asyncio.Task[None]] = set()
        count = 0
        try:
            while not self.stopping:
                # Claimed and marked processing first, then the token: nothing but this task's start
                # stands between the grant and the provider's receipt of the call, so the calls keep
                # the spacing the bucket gave them.
                payment = await self._run_sync(self._claim)
                self.last_progress = self.clock.now()
                if payment is None:
                    break
                self._on_change()
                grant = await self._wait_for_token(payment)
                self.last_progress = self.clock.now()
                if grant is None:
                    continue
                task = asyncio.create_task(self._attempt(payment, grant))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                count += 1
                if len(in_flight) >= self.config.max_in_flight:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        return count

    # --- steps -----------------------------------------------------------------------------
    def _lease_until(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.config.lease_seconds)

    def _claim(self) -> Payment | None:
        """Lease one due payment and move it to processing, in one transaction."""
        with self.uow() as uow:
            payment = uow.payments.claim_due(now=self.clock.now(), owner=self.config.owner,
                                             lease_until=self._lease_until())
            if payment is not None and payment.status in (PaymentStatus.PENDING, PaymentStatus.RETRYING):
                payment.start_processing(self.clock.now())
                uow.payments.update(payment)
            # else: `processing` again after a crash; the provider's idempotency key makes the call safe
            uow.commit()
            return payment

    async def _wait_for_token(self, payment: Payment) -> Grant | None:
        """Wait (not fail) until the limiter grants a token; keep the lease alive meanwhile.

        None when the lease was lost while waiting (someone else has the payment now)."""
        renew_every = self.config.lease_seconds / 3
        last_renewal = self.clock.now()
        try:
            while True:
                if self.stopping:  # hand the payment back now rather than at the lease's end
                    await self._run_sync(self._release, payment.id)
                    return None
                grant: Grant = await self._run_sync(self.limiter.try_acquire)
                if grant.granted:
                    return grant
                if (self.clock.now() - last_renewal).total_seconds() >= renew_every:
                    if not await self._run_sync(self._renew, payment.id):
                        return None
                    last_renewal = self.clock.now()
                await self._sleep(min(grant.wait_seconds, self.config.max_token_poll_seconds))
        except asyncio.CancelledError:
            # Shutting down before the provider was called: hand the payment back now, so the
            # next start (or another process) need not wait for the lease to run out. It stays
            # `processing`; whoever claims it next calls the provider with the same key.
            self._release(payment.id)
            raise

    def _release(self, payment_id: str) -> None:
        try:
            with self.uow() as uow:
                uow.payments.release(payment_id, self.config.owner)
                uow.commit()
        except Exception:  # the lease then simply expires
            log.exception("payment %s: could not release its lease", payment_id)

    def _renew(self, payment_id: str) -> bool:
        with self.uow() as uow:
            ok = uow.payments.renew_lease(payment_id, self.config.owner, self._lease_until())
            uow.commit()
            return ok

    def _finish(self, payment_id: str, result: ChargeResult) -> Payment | None:
        with self.uow() as uow:
            payment = uow.payments.get(payment_id, for_update=True)
            mine = payment is not None and payment.lease_owner == self.config.owner
            if payment is None or payment.status != PaymentStatus.PROCESSING or not mine:
                log.warning("payment %s: lease lost before the outcome was applied", payment_id)
                return None
            now = self.clock.now()
            if result.approved:
                payment.complete(result.transaction_id or "", now)
            else:
                payment.record_failure(result.code or "provider_error", result.message or "provider error",
                                       result.retryable, self.policy, now)
            uow.payments.update(payment)
            uow.commit()
            return payment

    async def _call(self, payment: Payment) -> ChargeResult:
        request = ChargeRequest(payment.id, payment.amount, payment.currency, payment.card_token,
                                payment.payment_method)
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(self.provider.charge(request), self.config.call_timeout_seconds)
        except TimeoutError:
            result = ChargeResult(False, code="provider_timeout",
                                  message="the provider did not answer in time", retryable=True)
        except Exception:  # an adapter bug must not lose the payment: retry it like a transient error
            log.exception("payment %s: provider call raised", payment.id)
            result = ChargeResult(False, code="provider_error", message="the provider call failed", retryable=True)
        self.last_progress = self.clock.now()
        self.calls.append(ProviderCall(self.last_progress, (time.perf_counter() - started) * 1000, result.approved,
                                       result.code))
        return result

    def _late(self, grant: Grant) -> bool:
        """Whether the call would reach the provider too long after its grant for the limit to hold.

        The bucket's safety margin tolerates margin / rate seconds between grant and call (100 ms
        by default). A process that stalls longer (CPU starved, a busy event loop) lets that token
        go and takes a fresh one, rather than crowding the next process's call.
        """
        config = self.limiter.config
        if config.safety_margin <= 0 or config.refill_per_second <= 0:
            return False
        tolerance_us = 0.8 * config.safety_margin / config.refill_per_second * 1_000_000
        return epoch_us(self.clock.now()) - grant.at_us > tolerance_us

    async def _attempt(self, payment: Payment, grant: Grant) -> None:
        """Call the provider (a token is already taken) and apply the outcome."""
        try:
            while self._late(grant):
                log.info("payment %s: token granted too long ago; taking a fresh one", payment.id)
                fresh = await self._wait_for_token(payment)
                if fresh is None:
                    return
                grant = fresh
            result = await self._call(payment)
            self._after_charge(payment)
            await self._run_sync(self._finish, payment.id, result)
            self._on_change()
        except Exception:
            # The lease expires and another drain picks the payment up again.
            log.exception("payment %s: attempt failed; it will be claimed again", payment.id)
