"""Work that must happen once per event across the fleet (order settlement, later webhooks).

When an event is written to the outbox, one delivery row is written with it, in the same transaction,
for each consumer whose subscription wants it. Workers claim due deliveries with a lease, run the
consumer's handler and acknowledge in one transaction; a failure is retried after a backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.model.events import Event


@dataclass(frozen=True)
class Subscription:
    """A consumer's standing order: events of these types, and when `requires` names a data field, only
    those whose data has a value for it."""

    consumer: str
    event_types: frozenset[str]
    requires: str | None = None

    def wants(self, event: Event) -> bool:
        return event.type in self.event_types and (self.requires is None or bool(event.data.get(self.requires)))


# Every subscription, in one table. The unit of work consults it through `subscribers` when it writes
# an event (domain.ports.NewEvents), in storage and in the fakes alike.
SUBSCRIPTIONS: tuple[Subscription, ...] = (
    # An order settles when its payment finishes; a one-off payment has no order to settle.
    Subscription("orders", frozenset({"payment.completed", "payment.failed"}), requires="orderId"),
)


def subscribers(event: Event) -> list[str]:
    """The consumers owed a delivery of `event`, in the table's order."""
    return [s.consumer for s in SUBSCRIPTIONS if s.wants(event)]


@dataclass(frozen=True)
class Delivery:
    id: int
    consumer: str
    event: Event
    attempts: int
