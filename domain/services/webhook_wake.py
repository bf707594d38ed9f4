"""Whether a new event should wake the webhook pass: only when some enabled endpoint wants its type.

Every public event (a storm's every `payment.created`) used to wake a pass that asked the database
for due deliveries, though without an endpoint none can be owed. The gate keeps, in memory, the
event types each enabled endpoint subscribes to: read once from the repository (`load`, when the
process starts tailing the outbox), then kept fresh by the `webhook_endpoint.*` events, which every
process sees through its EventHub, whichever process made the change.

The wake only makes a delivery go sooner: the dispatcher's interval poll finds every due delivery
anyway, so an event the gate lets by (a race with an endpoint's change) is sent at the next poll.
Until `load` has run, the gate wakes for every public event, as before.
"""

from __future__ import annotations

import logging
import threading

from domain.model.events import Event
from domain.model.statuses import EndpointStatus
from domain.model.webhooks import ALL_EVENTS, is_public, subscribed
from domain.ports import UnitOfWorkFactory

log = logging.getLogger("paygate.webhooks")

ENDPOINT_EVENT_PREFIX = "webhook_endpoint."
DELETED = "webhook_endpoint.deleted"


class WebhookWakeGate:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow
        self._wanted: dict[str, frozenset[str]] | None = None  # enabled endpoint id -> its event types
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read the enabled endpoints (call it after the hub's start_from_now: a change made between the
        two is then both read here and seen as an event, which is harmless)."""
        with self.uow(read_only=True) as uow:
            endpoints = uow.webhooks.endpoints(enabled_only=True)
        with self._lock:
            self._wanted = {e.id: frozenset(e.event_types) for e in endpoints}

    def wants(self, event: Event) -> bool:
        """Track endpoint changes; whether `event` may have made a delivery due (so a pass should run)."""
        if event.type.startswith(ENDPOINT_EVENT_PREFIX):
            self._track(event)
        if not is_public(event.type):
            return False
        with self._lock:
            if self._wanted is None:
                return True
            return any(subscribed(types, event.type) for types in self._wanted.values())

    def _track(self, event: Event) -> None:
        data = event.data
        endpoint_id = data.get("id") or event.aggregate_id
        if not isinstance(endpoint_id, str):
            log.warning("an endpoint event without the endpoint's id (%s); the wake gate stays open", event.id)
            with self._lock:
                self._wanted = None  # wake for every public event until the next load
            return
        with self._lock:
            if self._wanted is None:
                return
            events = data.get("events")
            if event.type == DELETED or data.get("status") != EndpointStatus.ENABLED.value:
                self._wanted.pop(endpoint_id, None)
            elif isinstance(events, list):
                self._wanted[endpoint_id] = frozenset(str(t) for t in events)
            else:
                self._wanted[endpoint_id] = frozenset({ALL_EVENTS})  # unknown: assume it wants everything
