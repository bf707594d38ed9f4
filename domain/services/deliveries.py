"""Deliveries of events to the consumers that must see each event once across the fleet (order
settlement today): claimed with a lease, handled, and retried until a handler acknowledges."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.model.events import Event
from domain.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("paygate.deliveries")

Handler = Callable[[UnitOfWork, Event], object]  # applies one event in the caller's transaction


class DeliveryWorker:
    def __init__(self, uow: UnitOfWorkFactory, handlers: dict[str, Handler], clock: Clock, owner: str,
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
