"""Work that must happen once per event across the fleet (order settlement, later webhooks).

When an event is written to the outbox, storage also writes one delivery row for each consumer
subscribed to it, in the same transaction. Workers claim due deliveries with a lease, run the
consumer's handler and acknowledge in one transaction; a failure is retried after a backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.model.events import Event


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
