"""Work that must happen once per event across the fleet (order settlement, later webhooks).

When an event is written to the outbox, storage also writes one delivery row for each consumer
subscribed to it, in the same transaction. Workers claim due deliveries with a lease, run the
consumer's handler and acknowledge in one transaction; a failure is retried after a backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.events import Event
from domain.ports import UnitOfWork

log = logging.getLogger("paygate.deliveries")

Handler = Callable[[UnitOfWork, Event], object]


def _settles_an_order(event: Event) -> bool:
    return event.type in ("payment.completed", "payment.failed") and bool(event.data.get("orderId"))


# consumer name -> which events it wants
SUBSCRIPTIONS: dict[str, Callable[[Event], bool]] = {"orders": _settles_an_order}


@dataclass(frozen=True)
class Delivery:
    id: int
    consumer: str
    event: Event
    attempts: int


class DeliveryWorker:
    def __init__(self, uow: Callable[..., UnitOfWork], handlers: dict[str, Handler], clock: Clock, owner: str,
                 lease_seconds: float = 30.0, max_backoff_seconds: float = 60.0) -> None:
        self.uow = uow
        self.handlers = handlers
        self.clock = clock
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.max_backoff_seconds = max_backoff_seconds

    def run_once(self) -> bool:
        """Deliver one due event; False when there was nothing to do."""
        with self.uow() as uow:
            delivery = uow.deliveries.claim_due(now=self.clock.now(), owner=self.owner,
                                                lease_until=self.clock.now() + timedelta(seconds=self.lease_seconds))
            uow.commit()
        if delivery is None:
            return False
        try:
            with self.uow() as uow:
                self.handlers[delivery.consumer](uow, delivery.event)
                uow.deliveries.done(delivery.id, self.clock.now())
                uow.commit()
        except Exception as e:  # keep it for a later try; it is acknowledged only on success
            log.exception("delivery %s of %s to %s failed", delivery.id, delivery.event.id, delivery.consumer)
            with self.uow() as uow:
                uow.deliveries.retry_later(delivery.id, self._next_try(delivery.attempts), type(e).__name__)
                uow.commit()
        return True

    def run_all(self, limit: int = 1000) -> int:
        done = 0
        while done < limit and self.run_once():
            done += 1
        return done

    def _next_try(self, attempts: int) -> datetime:
        return self.clock.now() + timedelta(seconds=min(self.max_backoff_seconds, 2 ** attempts))
