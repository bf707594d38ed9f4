"""Draining the payment queue: claim with a lease, route, wait for a token, call, apply the outcome.

Each claimed payment gets a plan: a lookup first when an earlier charge's outcome is not known, a
tokenization where the chosen provider makes tokens by a call, then the charge. The route is the first
provider in the configured order whose circuit is not open and that can take this payment's card; a
retryable failure sends the next attempt to the next provider (failover), but only once no charge can
stand at the first (a lookup settles that), so a payment never has charges at two providers. Every
call takes a token from its provider's bucket, passes its provider's circuit breaker, and is kept as
an attempt row; a charge's row is written before the call, so a crash leaves the trace to look up.

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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.clock import Clock, RunSync, Sleep
from domain.model.payments import Payment, hold_name
from domain.model.providers import Attempt, CallKind, CallResult, ChargeRequest, CircuitState, Outcome
from domain.model.rate_limit import Grant, epoch_us
from domain.model.retry import RetryPolicy
from domain.model.statuses import PaymentStatus
from domain.observability import NO_TRACER, OpenSpan, Tracer, log_scope
from domain.ports import Circuit, PaymentProvider, RateLimiter, UnitOfWork, UnitOfWorkFactory
from domain.services.card_vault import CardVault

log = logging.getLogger("paygate.processing")

# Told of every provider call made (provider, kind, outcome, seconds it took): the metrics' hook.
CallObserver = Callable[[str, CallKind, Outcome, float], None]


def log_fields_of(payment: Payment) -> dict[str, str | None]:
    """What the drain's lines for a payment carry: the submitting request's id and trace context too."""
    return {"payment_id": payment.id, "order_id": payment.order_id, "user_id": payment.customer_id,
            "request_id": payment.request_id, "traceparent": payment.traceparent}


@dataclass(frozen=True)
class ProcessorConfig:
    owner: str  # this process's name on the leases it holds
    lease_seconds: float = 30.0
    call_timeout_seconds: float = 2.0
    max_in_flight: int = 8
    max_token_poll_seconds: float = 0.25
    circuit_wait_seconds: float = 5.0  # how long a payment waits for a circuit whose reopening is unknown
    # After a lost call that a lookup found uncharged, how long the payment is charged only at that
    # provider (a request still in flight there may land late; Stripe's search may lag a minute).
    stay_after_lost_call_seconds: float = 60.0


@dataclass(frozen=True)
class Route:
    """One provider as the processor uses it: the adapter, its token bucket and its circuit breaker."""

    provider: PaymentProvider
    limiter: RateLimiter
    circuit: Circuit

    @property
    def name(self) -> str:
        return self.provider.name


@dataclass(frozen=True)
class Step:
    kind: CallKind
    route: Route


@dataclass(frozen=True)
class Verdict:
    """No call now: fail the payment, wait for a circuit to close, or look the outcome up later."""

    action: str  # "fail" | "wait" | "look_later"
    code: str
    message: str


CARD_UNAVAILABLE = ("card_unavailable", "The card details are no longer at hand to send to a provider "
                    "(the server restarted before the card was tokenized); please pay again.")
CIRCUIT_OPEN = ("provider_unavailable", "The card processor is not answering; the payment waits and "
                "is sent as soon as it recovers.")


class PaymentProcessor:
    def __init__(self, uow: UnitOfWorkFactory, routes: Sequence[Route], policy: RetryPolicy, clock: Clock,
                 config: ProcessorConfig, vault: CardVault | None = None,
                 sleep: Sleep = asyncio.sleep, run_sync: RunSync = asyncio.to_thread,
                 after_charge: Callable[[Payment], None] = lambda p: None,
                 on_change: Callable[[], None] = lambda: None, tracer: Tracer = NO_TRACER) -> None:
        if not routes:
            raise ValueError("the processor needs at least one provider")
        self.uow = uow
        self.routes = list(routes)
        self.by_name = {route.name: route for route in self.routes}
        self.policy = policy
        self.clock = clock
        self.config = config
        self.vault = vault if vault is not None else CardVault(clock)
        self._sleep = sleep
        self._run_sync = run_sync
        self._after_charge = after_charge  # a fault-injection point for crash tests
        self._on_change = on_change
        self.tracer = tracer  # spans of the drain (domain/observability.py); none by default
        self.last_progress: datetime = clock.now()  # a claim, a grant or an answer: the drain is moving
        self.call_observers: list[CallObserver] = []
        self.stopping = False

    def stop(self) -> None:
        """Claim nothing more: the app is stopping. Calls in flight finish and apply their outcome;
        a payment still waiting for a token is handed back at once."""
        self.stopping = True

    async def reconcile(self) -> int:
        """The reconciliation job: settle payments whose outcome is unknown and whose lease ran out
        (their process died mid-call, or their next lookup is due), ahead of the rest of the queue."""
        return await self.drain(unknown_only=True)

    async def drain(self, unknown_only: bool = False) -> int:
        """Process due payments until none is left (or `stop()`); return how many were started."""
        in_flight: set[asyncio.Task[None]] = set()
        count = 0
        try:
            while not self.stopping:
                # Claimed and marked processing first, then the token: nothing but this task's start
                # stands between the grant and the provider's receipt of the call, so the calls keep
                # the spacing the bucket gave them.
                nothing_open, payment = await self._run_sync(self._claim_unless_all_open, unknown_only)
                if nothing_open:
                    break  # nothing can be sent anywhere: payments wait where they are, untouched
                self.last_progress = self.clock.now()
                if payment is None:
                    break
                self._on_change()
                task = await self._start(payment)
                if task is None:
                    continue
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                count += 1
                if len(in_flight) >= self.config.max_in_flight:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        return count

    async def _start(self, payment: Payment) -> asyncio.Task[None] | None:
        """Plan a claimed payment, do what precedes its call and wait for its token: the task that
        makes the call, or None. The payment's log lines carry the request that submitted it, and its
        span (a child of that request's) lasts until the task is done."""
        with log_scope(**log_fields_of(payment)):
            span = self.tracer.start("payment.process", payment.traceparent,
                                     {"payment.id": payment.id, "payment.attempt": payment.attempts})
            task: asyncio.Task[None] | None = None
            try:
                with span.use():
                    log.info("payment claimed", extra={"attempt": payment.attempts, "status": str(payment.status)})
                    # Whatever touches the database before a call is done before its token is taken
                    # (in the same trip to a thread as the plan: each trip costs latency under load).
                    plan, ready, attempt = await self._run_sync(self._plan_and_prepare, payment)
                    if isinstance(plan, Verdict):
                        await self._run_sync(self._apply_verdict, payment.id, plan)
                        self._on_change()
                        return None
                    if not ready:
                        return None
                    grant = await self._wait_for_token(payment, plan.route, attempt)
                    self.last_progress = self.clock.now()
                    if grant is None:
                        return None
                    # The task inherits the log scope and the current span (it copies the context).
                    task = asyncio.create_task(self._attempt(payment, plan, grant, attempt, span))
                    return task
            finally:
                if task is None:
                    span.end()

    def _claim_unless_all_open(self, unknown_only: bool) -> tuple[bool, Payment | None]:
        """(True, None) when every circuit is open (nothing is claimed); else (False, a claimed payment or None)."""
        if self._all_circuits_open():
            return True, None
        return False, self._claim(unknown_only)

    def _plan_and_prepare(self, payment: Payment) -> tuple[Step | Verdict, bool, Attempt | None]:
        """A claimed payment's plan and, for a call, what precedes it (_before_call)."""
        plan = self.plan(payment)
        if isinstance(plan, Verdict):
            return plan, False, None
        ready, attempt = self._before_call(payment.id, plan)
        return plan, ready, attempt

    # --- routing ---------------------------------------------------------------------------
    def _all_circuits_open(self) -> bool:
        return all(route.circuit.state() is CircuitState.OPEN for route in self.routes)

    def _wait_until(self, payment: Payment) -> datetime:
        """When a payment that found a circuit open should try again: now, when another provider that
        can take it is not open (the next plan routes it there); else when the first of its providers'
        circuits lets a probe through (at least a second from now), or after circuit_wait_seconds."""
        now = self.clock.now()
        if payment.needs_lookup:
            candidates = [self.by_name[payment.provider]] if payment.provider in self.by_name else []
        else:
            candidates = self._candidates(payment)
        if any(route.circuit.state() is not CircuitState.OPEN for route in candidates):
            return now
        probes = [route.circuit.probe_at() for route in candidates]
        times = [at for at in probes if at is not None]
        if not probes or None in probes:  # a circuit whose reopening is unknown
            times.append(now + timedelta(seconds=self.config.circuit_wait_seconds))
        if payment.stays_at_provider(now) and payment.stay_until is not None:
            times.append(payment.stay_until)  # then another provider may take it
        return max(min(times), now + timedelta(seconds=1))

    def _candidates(self, payment: Payment) -> list[Route]:
        """The routes that may charge this payment now, in routing order: those that can charge its
        card, and only its own provider while it stays there after a lost call (Payment.stay_until)."""
        eligible = [route for route in self.routes if self._can_take(payment, route)]
        if payment.stays_at_provider(self.clock.now()):
            return [route for route in eligible if route.name == payment.provider]
        return eligible

    def _can_take(self, payment: Payment, route: Route) -> bool:
        """Whether `route` can charge this payment's card (or a payment with no card)."""
        if route.name in payment.card_tokens:
            return True
        if not payment.card_tokens and not payment.card_last4:  # no card at all
            return route.provider.charges_without_card
        # The card is known only as other providers' tokens, unless it is still in this process.
        return self.vault.get(payment.id) is not None

    def plan(self, payment: Payment) -> Step | Verdict:
        """The next thing to do with a claimed payment: a provider call, or a verdict without one."""
        if payment.needs_lookup:
            route = self.by_name.get(payment.provider)
            if route is None:
                return Verdict("look_later", "provider_unavailable",
                               f"The outcome at {payment.provider} must be looked up, and it is not configured.")
            if route.circuit.state() is CircuitState.OPEN:
                return Verdict("look_later", *CIRCUIT_OPEN)
            return Step(CallKind.LOOKUP, route)
        if not any(self._can_take(payment, route) for route in self.routes):
            return Verdict("fail", *CARD_UNAVAILABLE)
        eligible = self._candidates(payment)  # empty while it stays where its card is not: it waits
        if payment.retry_count > 0 and payment.failure_code and len(eligible) > 1:
            # Failover: after a retryable failure, the next attempt goes elsewhere first.
            eligible.sort(key=lambda route: route.name == payment.provider)
        for route in eligible:
            if route.circuit.state() is not CircuitState.OPEN:
                needs_token = payment.has_card and route.name not in payment.card_tokens
                return Step(CallKind.TOKENIZE if needs_token else CallKind.CHARGE, route)
        return Verdict("wait", *CIRCUIT_OPEN)

    # --- steps -----------------------------------------------------------------------------
    def _lease_until(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.config.lease_seconds)

    def _claim(self, unknown_only: bool = False) -> Payment | None:
        """Lease one due payment and move it to processing, in one transaction."""
        with self.uow() as uow:
            payment = uow.payments.claim_due(now=self.clock.now(), owner=self.config.owner,
                                             lease_until=self._lease_until(), unknown_only=unknown_only)
            if payment is not None and payment.status in (PaymentStatus.PENDING, PaymentStatus.RETRYING):
                payment.start_processing(self.clock.now())
                uow.payments.update(payment)
            # else: `processing` again, its lease ran out: a lookup first if a charge may stand
            uow.commit()
            return payment

    def _mine(self, payment: Payment | None) -> bool:
        return (payment is not None and payment.status == PaymentStatus.PROCESSING
                and payment.lease_owner == self.config.owner)

    def _settle(self, payment: Payment) -> None:
        """After an outcome: let the card go once the payment is over; keep holding a waiting one that
        only this process can charge (its card is in this process's vault)."""
        if payment.terminal:
            self.vault.drop(payment.id)
        elif self.vault.get(payment.id) is not None and payment.lease_owner is None:
            due = payment.next_attempt_at or self.clock.now()
            payment.hold(self.config.owner, due + timedelta(seconds=self.config.lease_seconds))

    def _apply_verdict(self, payment_id: str, verdict: Verdict) -> None:
        with self.uow() as uow:
            payment = uow.payments.get(payment_id, for_update=True)
            if payment is None or not self._mine(payment):
                return
            now = self.clock.now()
            later = self._wait_until(payment)
            if verdict.action == "fail":
                payment.fail(verdict.code, verdict.message, now)
            elif verdict.action == "wait":
                payment.wait_for_provider(verdict.code, verdict.message, later, now)
            else:
                payment.outcome_unknown(verdict.code, verdict.message, later, now)
            self._settle(payment)
            uow.payments.update(payment)
            uow.commit()
        log.info("payment %s: %s", payment.status, verdict.code, extra={"status": str(payment.status),
                                                                       "code": verdict.code})

    async def _wait_for_token(self, payment: Payment, route: Route, attempt: Attempt | None = None) -> Grant | None:
        """take_token for a payment: None when its lease was lost, or when the processor stops (the
        payment is handed back, and `attempt`, a charge not sent, withdrawn)."""
        with self.tracer.span("payment.token_wait", {"provider": route.name}) as span:
            grant = await self.take_token(route, renew=lambda: self._renew(payment.id),
                                          still_mine=lambda: self._still_mine(payment.id),
                                          hand_back=lambda: self._hand_back(payment.id, attempt))
            span.set("granted", grant is not None)
            return grant

    async def take_token(self, route: Route, *, renew: Callable[[], bool], still_mine: Callable[[], bool],
                         hand_back: Callable[[], None]) -> Grant | None:
        """Wait (not fail) until the route's limiter grants a token, renewing the lease of what waits
        (`renew`) every third of a lease. None when the lease was lost (someone else has it now), or
        when the processor stops (`hand_back` gives it up at once rather than at the lease's end)."""
        renew_every = self.config.lease_seconds / 3
        last_renewal = self.clock.now()
        try:
            while True:
                if self.stopping:
                    await self._run_sync(hand_back)
                    return None
                # Before each try, not after a grant (nothing may stand between a grant and its call):
                # a process that stalled past its lease finds the work taken, and leaves it to the new
                # owner. A stall after the grant makes the token late, and the next try checks again.
                mine_and_grant = await self._run_sync(self._still_mine_then_try, still_mine, route)
                if mine_and_grant is None:
                    return None
                grant: Grant = mine_and_grant
                if grant.granted:
                    return grant
                if (self.clock.now() - last_renewal).total_seconds() >= renew_every:
                    if not await self._run_sync(renew):
                        return None
                    last_renewal = self.clock.now()
                await self._sleep(min(grant.wait_seconds, self.config.max_token_poll_seconds))
        except asyncio.CancelledError:
            # Shutting down before the provider was called: hand it back now, so the next start (or
            # another process) need not wait for the lease to run out.
            hand_back()
            raise

    @staticmethod
    def _still_mine_then_try(still_mine: Callable[[], bool], route: Route) -> Grant | None:
        """None when the work is no longer ours; else the limiter's answer (one trip to a thread for both)."""
        return route.limiter.try_acquire() if still_mine() else None

    def _hand_back(self, payment_id: str, attempt: Attempt | None) -> None:
        """Give up the lease of a payment whose call was not sent; withdraw that call's attempt row."""
        try:
            with self.uow() as uow:
                payment = uow.payments.get(payment_id, for_update=True)
                if attempt is not None and payment is not None and self._mine(payment):
                    uow.attempts.remove(attempt)  # not sent: not a provider call
                    payment.nothing_charged(self.clock.now())
                    uow.payments.update(payment)
                uow.payments.release(payment_id, self.config.owner)
                uow.commit()
        except Exception:  # the lease then simply expires
            log.exception("payment %s: could not release its lease", payment_id)

    def _still_mine(self, payment_id: str) -> bool:
        with self.uow(read_only=True) as uow:
            payment = uow.payments.get(payment_id)
        return payment is not None and payment.lease_owner == self.config.owner and (
            payment.lease_expires_at is None or payment.lease_expires_at > self.clock.now())

    def _renew(self, payment_id: str) -> bool:
        with self.uow() as uow:
            ok = uow.payments.renew_lease(payment_id, self.config.owner, self._lease_until())
            uow.commit()
            return ok

    def hold_cards(self) -> int:
        """Renew this process's hold on payments whose cards only it has (a periodic job)."""
        held = 0
        until = self._lease_until()
        for payment_id in self.vault.held():
            with self.uow() as uow:
                if uow.payments.renew_lease(payment_id, hold_name(self.config.owner), until):
                    held += 1
                uow.commit()
        return held

    def _start_charge(self, payment_id: str, provider: str) -> Attempt | None:
        """Before a charge call: mark the outcome unknown and write the attempt row, in one transaction."""
        with self.uow() as uow:
            payment = uow.payments.get(payment_id, for_update=True)
            if payment is None or not self._mine(payment):
                log.warning("payment %s: lease lost before the charge", payment_id)
                return None
            now = self.clock.now()
            payment.start_charge(provider, now, self.may_land_until(now))
            uow.payments.update(payment)
            attempt = uow.attempts.add(Attempt(payment_id, uow.attempts.next_number(payment_id), CallKind.CHARGE,
                                               provider, now))
            uow.commit()
            return attempt

    def _request(self, payment: Payment, route: Route) -> ChargeRequest:
        return ChargeRequest(payment.id, payment.amount, payment.currency, payment.card_tokens.get(route.name),
                             payment.payment_method, payment.description)

    def _before_call(self, payment_id: str, step: Step) -> tuple[bool, Attempt | None]:
        """The database work a call needs first: a charge marks the outcome unknown and writes its
        attempt row. (False, None) when the lease was lost."""
        if step.kind is not CallKind.CHARGE:
            return True, None
        attempt = self._start_charge(payment_id, step.route.name)
        return attempt is not None, attempt

    async def _call(self, payment: Payment, step: Step, attempt: Attempt | None) -> tuple[CallResult, Attempt] | None:
        """One provider call through the circuit breaker, timed; None when it was not made."""
        route = step.route
        timed = await self.timed_call(route, step.kind, lambda: self._invoke(payment, step), payment.id)
        if timed is None:  # the circuit opened while this payment waited for its token: nothing went out
            await self._run_sync(self._unsent, payment.id, attempt, Verdict("wait", *CIRCUIT_OPEN))
            return None
        result, started_at, latency_ms = timed
        if attempt is None:
            attempt = Attempt(payment.id, 0, step.kind, route.name, started_at)
        return result, replace(attempt, started_at=started_at, latency_ms=latency_ms, outcome=result.outcome,
                               code=result.code, transaction_id=result.transaction_id)

    async def timed_call(self, route: Route, kind: CallKind, call: Callable[[], Awaitable[CallResult]],
                         subject: str) -> tuple[CallResult, datetime, int] | None:
        """Make one call (its token is taken) through the route's circuit breaker, within the call
        timeout: (result, when it started, latency in ms), or None when the circuit refused it.
        A timeout or an exception is an unknown outcome (the request may have left); for a
        tokenization, which moves no money, it is a retryable error."""
        ticket = await self._run_sync(route.circuit.begin)
        if ticket is None:
            return None
        started_at = self.clock.now()
        started = time.perf_counter()
        try:
            result = await self._traced_call(route, kind, call)
        except TimeoutError:
            result = (CallResult.error if kind is CallKind.TOKENIZE else CallResult.not_known)(
                "provider_timeout", "the provider did not answer in time")
        except Exception as e:
            log.warning("%s: %s call to %s raised %s", subject, kind, route.name, type(e).__name__)
            result = CallResult.error("provider_error", "the provider call failed") if kind is CallKind.TOKENIZE \
                else CallResult.not_known("connection_lost", "the connection to the provider was lost")
        elapsed = time.perf_counter() - started
        latency_ms = round(elapsed * 1000)
        log.info("provider call: %s %s", kind, result.outcome,
                 extra={"provider": route.name, "kind": str(kind), "outcome": str(result.outcome),
                        "code": result.code, "latency_ms": latency_ms})
        self.last_progress = self.clock.now()
        for observe in self.call_observers:
            observe(route.name, kind, result.outcome, elapsed)
        await self._run_sync(route.circuit.end, ticket, result)
        return result, started_at, latency_ms

    async def _traced_call(self, route: Route, kind: CallKind, call: Callable[[], Awaitable[CallResult]]) -> CallResult:
        """The call within the timeout, as a span of the current trace (a timeout is recorded on it)."""
        with self.tracer.span(f"provider.{kind}", {"provider": route.name, "kind": str(kind)}) as span:
            result = await asyncio.wait_for(call(), self.config.call_timeout_seconds)
            span.set("outcome", str(result.outcome))
            if result.code:
                span.set("code", result.code)
            return result

    async def _invoke(self, payment: Payment, step: Step) -> CallResult:
        provider = step.route.provider
        if step.kind is CallKind.TOKENIZE:
            card = self.vault.get(payment.id)
            if card is None:
                return CallResult.error(*CARD_UNAVAILABLE)
            return await provider.create_token(card)
        request = self._request(payment, step.route)
        return await (provider.lookup(request) if step.kind is CallKind.LOOKUP else provider.charge(request))

    def _unsent(self, payment_id: str, attempt: Attempt | None, verdict: Verdict) -> None:
        """A call the circuit breaker stopped: record it as not sent, and let the payment wait."""
        with self.uow() as uow:
            payment = uow.payments.get(payment_id, for_update=True)
            if attempt is not None:
                uow.attempts.remove(attempt)  # the circuit stopped it: not a provider call
            if payment is not None and self._mine(payment):
                now = self.clock.now()
                if attempt is not None:
                    payment.nothing_charged(now)
                if payment.needs_lookup:
                    payment.outcome_unknown(verdict.code, verdict.message, self._wait_until(payment), now)
                else:
                    payment.wait_for_provider(verdict.code, verdict.message, self._wait_until(payment), now)
                self._settle(payment)
                uow.payments.update(payment)
            uow.commit()

    def _apply(self, payment_id: str, step: Step, result: CallResult, attempt: Attempt) -> Payment | None:
        """Store the call's attempt row and what its outcome means for the payment, in one transaction."""
        with self.uow() as uow:
            payment = uow.payments.get(payment_id, for_update=True)
            if payment is None or not self._mine(payment):
                log.warning("payment %s: lease lost before the outcome was applied", payment_id)
                if attempt.id is not None:  # still keep what the provider said
                    uow.attempts.finish(attempt)
                    uow.commit()
                return None
            now = self.clock.now()
            if attempt.id is None:
                uow.attempts.add(replace(attempt, number=uow.attempts.next_number(payment_id)))
            else:
                uow.attempts.finish(attempt)
            route = step.route
            if step.kind is CallKind.LOOKUP:
                if result.approved:
                    payment.complete(result.transaction_id or "", now)
                elif result.outcome is Outcome.DECLINED:
                    # No charge stands: the lost call failed, with its own code (the payment's may
                    # since say that a circuit was open). A retry is spent (Payment.lost_call_not_charged).
                    code, message = self._lost_call(uow, payment_id)
                    payment.lost_call_not_charged(code, message, self.policy, now)
                else:  # the lookup could not tell either
                    payment.outcome_unknown(result.code or "lookup_failed", result.message or "lookup failed",
                                            now + self.look_again_after(payment.attempts), now)
            elif step.kind is CallKind.TOKENIZE:
                if result.approved and result.card_token:
                    payment.keep_token(route.name, result.card_token, result.card_brand, result.card_last4)
                else:
                    payment.record_failure(result.code or "provider_error", result.message or "provider error",
                                           result.outcome is not Outcome.DECLINED, self.policy, now)
            elif result.approved:
                if result.card_brand or result.card_last4:
                    payment.keep_token(route.name, result.card_token or payment.card_tokens.get(route.name, ""),
                                       result.card_brand, result.card_last4)
                payment.complete(result.transaction_id or "", now)
            elif result.unknown:
                payment.outcome_unknown(result.code or "outcome_unknown", result.message or "outcome not known",
                                        now + self.look_again_after(payment.attempts), now)
            else:
                payment.record_failure(result.code or "provider_error", result.message or "provider error",
                                       result.retryable, self.policy, now)
            self._settle(payment)
            uow.payments.update(payment)
            uow.commit()
            return payment

    @staticmethod
    def _lost_call(uow: UnitOfWork, payment_id: str) -> tuple[str, str]:
        """The code of the payment's last charge call, whose answer was lost, and a message for it."""
        charges = [a for a in uow.attempts.for_payment(payment_id) if a.kind == CallKind.CHARGE]
        code = charges[-1].code if charges and charges[-1].outcome == Outcome.UNKNOWN else None
        return code or "provider_answer_lost", "the provider's answer was lost, and no charge was made"

    def may_land_until(self, started_at: datetime) -> datetime:
        """Until when a call started at `started_at` whose answer is lost may still reach its provider:
        its timeout, and the stay after it (stay_after_lost_call_seconds). Charges and refunds alike."""
        return started_at + timedelta(seconds=self.config.call_timeout_seconds
                                      + self.config.stay_after_lost_call_seconds)

    def look_again_after(self, attempts: int) -> timedelta:
        """How long before asking again about an outcome not known yet: the retry backoff of the
        attempts made so far (capped), without spending a retry."""
        return self.policy.delay(max(1, min(attempts, 16)))

    def _late(self, grant: Grant, route: Route) -> bool:
        """Whether the call would reach the provider too long after its grant for the limit to hold.

        The bucket's safety margin tolerates margin / rate seconds between grant and call (250 ms
        by default). A process that stalls longer (CPU starved, a busy event loop) gives that token
        back and takes a fresh one, rather than crowding the next process's call.
        """
        config = route.limiter.config
        if config.safety_margin <= 0 or config.refill_per_second <= 0:
            return False
        tolerance_us = 0.8 * config.safety_margin / config.refill_per_second * 1_000_000
        return epoch_us(self.clock.now()) - grant.at_us > tolerance_us

    async def _attempt(self, payment: Payment, step: Step, grant: Grant, attempt: Attempt | None,
                       span: OpenSpan | None = None) -> None:
        """Make the planned call (its token is taken), apply the outcome, and go on while the plan
        has a next call (a charge after the token it needed): each waits for its own token.
        `span`, the payment's, ends with this task."""
        try:
            while True:
                if self._late(grant, step.route):
                    # The stale token goes back to the bucket (as if never taken), so a stall costs
                    # the provider's share nothing; the fresh one is then usually there at once.
                    # Once only: where the tolerance is shorter than a grant takes (a rate of
                    # hundreds a second), every token would be late, and the call would never go.
                    log.info("payment %s: token granted too long ago; giving it back for a fresh one", payment.id)
                    await self._run_sync(step.route.limiter.give_back)
                    fresh = await self._wait_for_token(payment, step.route, attempt)
                    if fresh is None:
                        return
                    grant = fresh
                called = await self._call(payment, step, attempt)
                if called is None:
                    self._on_change()
                    return
                result, attempt = called
                if step.kind is CallKind.CHARGE:
                    self._after_charge(payment)
                with self.tracer.span("payment.outcome", {"outcome": str(result.outcome)}) as outcome_span:
                    updated = await self._run_sync(self._apply, payment.id, step, result, attempt)
                    if updated is not None:
                        outcome_span.set("payment.status", str(updated.status))
                        log.info("payment %s", updated.status, extra={"status": str(updated.status),
                                                                      "code": updated.failure_code})
                self._on_change()
                if updated is None or not self._mine(updated):  # settled, or waiting (released or held)
                    return
                payment = updated
                plan = await self._run_sync(self.plan, payment)
                if isinstance(plan, Verdict):
                    await self._run_sync(self._apply_verdict, payment.id, plan)
                    self._on_change()
                    return
                step = plan
                ready, attempt = await self._run_sync(self._before_call, payment.id, step)
                if not ready:
                    return
                next_grant = await self._wait_for_token(payment, step.route, attempt)
                if next_grant is None:
                    return
                grant = next_grant
        except Exception:
            # The lease expires and another drain picks the payment up again.
            log.exception("payment %s: attempt failed; it will be claimed again", payment.id)
        finally:
            if span is not None:
                span.end()
