"""Draining the refund queue: a refund is a provider call, made like a charge.

It goes to the provider that charged the payment, through that provider's token bucket and circuit
breaker (the payment processor's `take_token` and `timed_call`), under a lease, with the retry policy,
and with the unknown-outcome rule: a refund call whose answer was lost is looked up at the provider
before it is ever made again. A refund's attempt rows are the payment's (kind `refund`, or `lookup`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from domain.model.payments import Payment
from domain.model.providers import Attempt, CallKind, CallResult, CircuitState, Outcome, RefundRequest
from domain.model.refunds import Refund
from domain.services.processor import CIRCUIT_OPEN, PaymentProcessor, Route
from domain.services.refunds import settle_refund

log = logging.getLogger("paygate.refunds")


class RefundProcessor:
    def __init__(self, processor: PaymentProcessor, after_call: Callable[[Refund], None] = lambda r: None,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.p = processor  # its routes, clock, policy, lease settings, token waits and timed calls
        self.uow = processor.uow
        self.clock = processor.clock
        self.owner = processor.config.owner
        self._run_sync = processor._run_sync
        self._after_call = after_call  # a fault-injection point for crash tests
        self._on_change = on_change

    async def drain(self) -> int:
        """Make the due refunds' calls until none is left (or the processor stops); return how many."""
        calls = 0
        while not self.p.stopping:
            claimed = await self._run_sync(self._claim)
            if claimed is None:
                break
            refund, payment = claimed
            calls += await self._work(refund, payment)
            self._on_change()
        return calls

    async def _work(self, refund: Refund, payment: Payment) -> int:
        """Look up (if needed) and refund, one call after another, while the refund is ours and due."""
        calls = 0
        current: Refund | None = refund
        while current is not None:
            made, current = await self._step(current, payment)
            calls += made
        return calls

    async def _step(self, refund: Refund, payment: Payment) -> tuple[int, Refund | None]:
        """One call for the refund: (calls made, the refund if another call follows at once, else None)."""
        route = self.p.by_name.get(refund.provider)
        if route is None or await self._run_sync(route.circuit.state) is CircuitState.OPEN:
            await self._run_sync(self._wait, refund.id, route)
            return 0, None
        kind = CallKind.LOOKUP if refund.needs_lookup else CallKind.REFUND
        attempt = None
        if kind is CallKind.REFUND:
            attempt = await self._run_sync(self._start_call, refund.id, route.name)
            if attempt is None:
                return 0, None
        grant = await self.p.take_token(route, renew=lambda: self._renew(refund.id),
                                        still_mine=lambda: self._mine(refund.id) is not None,
                                        hand_back=lambda: self._hand_back(refund.id, attempt))
        if grant is None:
            return 0, None
        request = RefundRequest(refund.id, refund.payment_id, payment.transaction_id or "", refund.amount,
                                refund.currency, refund.reason, payment.card_tokens.get(route.name))
        provider = route.provider
        timed = await self.p.timed_call(route, kind, lambda: provider.lookup_refund(request)
                                        if kind is CallKind.LOOKUP else provider.refund(request), refund.id)
        if timed is None:  # the circuit opened meanwhile: nothing went out
            await self._run_sync(self._hand_back, refund.id, attempt)
            await self._run_sync(self._wait, refund.id, route)
            return 0, None
        result, started_at, latency_ms = timed
        if kind is CallKind.REFUND:
            self._after_call(refund)
        row = replace(attempt or Attempt(refund.payment_id, 0, kind, route.name, started_at),
                      started_at=started_at, latency_ms=latency_ms, outcome=result.outcome, code=result.code,
                      transaction_id=result.transaction_id)
        updated = await self._run_sync(self._apply, refund.id, kind, result, row)
        if updated is None or updated.terminal or updated.lease_owner != self.owner:
            return 1, None
        return 1, updated

    # --- transactions ---------------------------------------------------------------------------
    def _lease_until(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.p.config.lease_seconds)

    def _claim(self) -> tuple[Refund, Payment] | None:
        with self.uow() as uow:
            refund = uow.refunds.claim_due(now=self.clock.now(), owner=self.owner, lease_until=self._lease_until())
            payment = uow.payments.get(refund.payment_id) if refund else None
            uow.commit()
        if refund is None or payment is None:
            return None
        return refund, payment

    def _mine(self, refund_id: str) -> Refund | None:
        with self.uow(read_only=True) as uow:
            refund = uow.refunds.get(refund_id)
        if refund is None or refund.terminal or refund.lease_owner != self.owner:
            return None
        if refund.lease_expires_at is not None and refund.lease_expires_at <= self.clock.now():
            return None
        return refund

    def _renew(self, refund_id: str) -> bool:
        with self.uow() as uow:
            ok = uow.refunds.renew_lease(refund_id, self.owner, self._lease_until())
            uow.commit()
            return ok

    def _start_call(self, refund_id: str, provider: str) -> Attempt | None:
        """Before a refund call: mark its outcome unknown and write its attempt row, in one transaction."""
        with self.uow() as uow:
            refund = uow.refunds.get(refund_id, for_update=True)
            if refund is None or refund.terminal or refund.lease_owner != self.owner:
                return None
            refund.start_call(self.clock.now(), self.p.may_land_until(self.clock.now()))
            uow.refunds.update(refund)
            attempt = uow.attempts.add(Attempt(refund.payment_id, uow.attempts.next_number(refund.payment_id),
                                               CallKind.REFUND, provider, self.clock.now()))
            uow.commit()
            return attempt

    def _hand_back(self, refund_id: str, attempt: Attempt | None) -> None:
        """Give up the lease of a refund whose call was not sent; withdraw that call's attempt row."""
        try:
            with self.uow() as uow:
                refund = uow.refunds.get(refund_id, for_update=True)
                if attempt is not None and refund is not None and refund.lease_owner == self.owner \
                        and not refund.terminal:
                    uow.attempts.remove(attempt)  # not sent: not a provider call
                    refund.nothing_refunded(self.clock.now())
                    uow.refunds.update(refund)
                uow.refunds.release(refund_id, self.owner)
                uow.commit()
        except Exception:  # the lease then simply expires
            log.exception("refund %s: could not release its lease", refund_id)

    def _wait(self, refund_id: str, route: Route | None) -> None:
        with self.uow() as uow:
            refund = uow.refunds.get(refund_id, for_update=True)
            if refund is None or refund.terminal or refund.lease_owner != self.owner:
                return
            now = self.clock.now()
            probe = route.circuit.probe_at() if route is not None else None
            until = max(probe, now + timedelta(seconds=1)) if probe else \
                now + timedelta(seconds=self.p.config.circuit_wait_seconds)
            if route is None:
                refund.wait(until, "provider_unavailable", f"{refund.provider} is not configured on this gateway", now)
            else:
                refund.wait(until, *CIRCUIT_OPEN, now)
            uow.refunds.update(refund)
            uow.commit()

    def _apply(self, refund_id: str, kind: CallKind, result: CallResult, attempt: Attempt) -> Refund | None:
        """Store the call's attempt row and what its outcome means for the refund, in one transaction."""
        with self.uow() as uow:
            refund = uow.refunds.get(refund_id, for_update=True)
            if attempt.id is None:
                uow.attempts.add(replace(attempt, number=uow.attempts.next_number(attempt.payment_id)))
            else:
                uow.attempts.finish(attempt)
            if refund is None or refund.terminal or refund.lease_owner != self.owner:
                log.warning("refund %s: lease lost before the outcome was applied", refund_id)
                uow.commit()
                return None
            now = self.clock.now()
            look_again = now + self.p.look_again_after(refund.attempts)
            if result.approved:
                settle_refund(uow, refund, result.transaction_id or "", now)
            elif result.outcome is Outcome.DECLINED:
                if kind is CallKind.LOOKUP:
                    refund.lost_call_not_refunded(self.p.policy, now)  # no refund stands: the lost call failed
                else:
                    refund.record_failure(result.code or "refund_failed", result.message or "refused", False,
                                          self.p.policy, now)
            elif result.unknown or kind is CallKind.LOOKUP:  # a lookup that failed could not tell either
                refund.outcome_unknown(result.code or "outcome_unknown", result.message or "outcome not known",
                                       look_again, now)
            else:
                refund.record_failure(result.code or "provider_error", result.message or "provider error", True,
                                      self.p.policy, now)
            uow.refunds.update(refund)
            uow.commit()
            return refund
