"""Inbound provider events (Stripe's webhooks): settle what PayGate did not know yet, once per event.

A provider tells what became of a charge whose answer PayGate lost (a timeout, a dropped connection,
a process that died mid-call). Such a payment is `processing` with `needs_lookup`; the event settles
it as a lookup would have, in the same transaction as the event's row, so the same event id twice
(providers deliver at least once) changes nothing the second time. An event about a payment that is
already settled, or that PayGate never asked about, changes nothing either.

A refund is settled the same way when the event names it with its outcome (`refund.updated`, or a
`charge.refunded` whose charge lists its refunds). Stripe's Charge no longer lists its refunds from API
version 2022-11-15 on, so a `charge.refunded` may only say that the charge was refunded: the payment's
refunds whose outcome is unknown are then made due for their lookup now, and the refund drain asks the
provider at once instead of waiting out the lookup's backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from domain.clock import Clock
from domain.model.errors import DuplicateKey
from domain.model.statuses import PaymentStatus
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.services.refunds import settle_refund

log = logging.getLogger("paygate.provider_events")


class Settled(StrEnum):
    COMPLETED = "completed"  # a payment whose outcome was unknown is completed
    FAILED = "failed"  # ... is failed for good (a decline)
    NOTHING_CHARGED = "nothing_charged"  # ... had no charge; the queue tries again
    IGNORED = "ignored"  # nothing to change (already settled, not ours, a type we do not act on)
    DUPLICATE = "duplicate"  # this event id was handled before
    REFUNDED = "refunded"  # a refund whose outcome was unknown succeeded
    REFUND_FAILED = "refund_failed"  # ... failed
    REFUND_LOOKUP_DUE = "refund_lookup_due"  # refunds whose outcome is unknown are to be looked up now
    # A charge stands at the provider for a payment PayGate failed (a lost call that landed after its
    # last retry): nothing changes here, and an operator must refund it at the provider.
    CHARGED_AFTER_FAILURE = "charged_after_failure"


# Events that say a payment's charge was refunded (in part or in full), whether or not they name the refunds.
CHARGE_REFUNDED = frozenset({"charge.refunded"})


@dataclass(frozen=True)
class ProviderEvent:
    provider: str
    id: str
    type: str
    payment_id: str | None
    transaction_id: str | None
    succeeded: bool | None  # True: the charge stands; False: it failed; None: the event is not about that
    failure_code: str | None = None
    failure_message: str | None = None
    permanent: bool = False  # a failure the provider will not change its mind about (a decline)
    # Refunds the event names: (the provider's refund id, PayGate's refund id, the provider's status).
    refunds: tuple[tuple[str, str | None, str | None], ...] = ()


class ProviderEvents:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def receive(self, event: ProviderEvent) -> Settled:
        try:
            with self.uow() as uow:
                if uow.provider_events.seen(event.provider, event.id):
                    return Settled.DUPLICATE
                outcome = self._settle(uow, event)
                uow.provider_events.add(event.provider, event.id, event.type, self.clock.now(), outcome)
                uow.commit()
                return outcome
        except DuplicateKey:  # the same event, delivered twice at once: the other one stored it
            return Settled.DUPLICATE

    def _settle(self, tx: UnitOfWork, event: ProviderEvent) -> Settled:
        # Every refund the event names is locked before any payment row, in id order: the refund drain
        # locks a refund, then its payment, so settling them one by one (a refund, its payment, the
        # next refund) could wait on a drain that waits on us.
        for refund_id in sorted({seen[1] for seen in event.refunds if seen[1] is not None}):
            tx.refunds.get(refund_id, for_update=True)
        settled = [outcome for outcome in (self._settle_refund(tx, event.provider, *seen) for seen in event.refunds)
                   if outcome is not Settled.IGNORED]
        if settled:
            return settled[0]
        if event.type in CHARGE_REFUNDED and event.payment_id is not None:  # refunds unnamed, or none settled
            return self._look_up_refunds_now(tx, event.provider, event.payment_id)
        if event.payment_id is None or event.succeeded is None:
            return Settled.IGNORED
        payment = tx.payments.get(event.payment_id, for_update=True)
        if (event.succeeded and payment is not None and payment.status == PaymentStatus.FAILED
                and payment.provider == event.provider):
            log.error("a charge stands at %s for failed payment %s (%s): refund it at the provider",
                      event.provider, payment.id, event.transaction_id,
                      extra={"payment_id": payment.id, "provider": event.provider})
            return Settled.CHARGED_AFTER_FAILURE
        if (payment is None or payment.status != PaymentStatus.PROCESSING or not payment.needs_lookup
                or payment.provider != event.provider):
            return Settled.IGNORED
        now = self.clock.now()
        if event.succeeded:
            payment.complete(event.transaction_id or "", now)
            outcome = Settled.COMPLETED
        else:
            payment.nothing_charged(now)
            if event.permanent:
                payment.fail(event.failure_code or "card_declined", event.failure_message or "declined", now)
                outcome = Settled.FAILED
            else:
                outcome = Settled.NOTHING_CHARGED
        tx.payments.update(payment)
        return outcome

    def _settle_refund(self, tx: UnitOfWork, provider: str, provider_refund_id: str, refund_id: str | None,
                       status: str | None) -> Settled:
        """A refund of ours whose outcome was unknown, that the provider says succeeded or failed."""
        if refund_id is None or status not in ("succeeded", "failed", "canceled"):
            return Settled.IGNORED
        refund = tx.refunds.get(refund_id, for_update=True)
        if refund is None or refund.terminal or not refund.needs_lookup or refund.provider != provider:
            return Settled.IGNORED
        now = self.clock.now()
        if status == "succeeded":
            settle_refund(tx, refund, provider_refund_id, now)
            return Settled.REFUNDED
        refund.nothing_refunded(now)
        refund.fail("refund_failed", "The provider could not refund the charge.", now)
        tx.refunds.update(refund)
        return Settled.REFUND_FAILED

    def _look_up_refunds_now(self, tx: UnitOfWork, provider: str, payment_id: str) -> Settled:
        """A charge refunded, its refunds not named: the payment's refunds at this provider whose outcome is
        unknown and whose next lookup waits for later become due now. One in flight (no next lookup set)
        is left to its call; one settled or not in doubt is not touched."""
        now = self.clock.now()
        due = 0
        for listed in tx.refunds.for_payment(payment_id):
            if listed.terminal or not listed.needs_lookup or listed.provider != provider:
                continue
            refund = tx.refunds.get(listed.id, for_update=True)  # read again under the row's lock
            if (refund is None or refund.terminal or not refund.needs_lookup or refund.next_attempt_at is None
                    or refund.next_attempt_at <= now):
                continue
            refund.look_up_now(now)
            tx.refunds.update(refund)
            due += 1
        return Settled.REFUND_LOOKUP_DUE if due else Settled.IGNORED
