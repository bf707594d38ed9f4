"""The webhook pass is woken by a new public event only when some enabled endpoint wants its type; the
gate learns of endpoints made, changed or deleted by any process from their events on the outbox tail."""

from __future__ import annotations

from app.live import EventHub
from domain.clock import FakeClock
from domain.model.events import Event
from domain.services.webhook_wake import WebhookWakeGate
from domain.services.webhooks import WebhookService
from tests.fakes import T0, FakeUnitOfWorkFactory
from tests.unit.test_webhooks import FakeResolver


class Process:
    """One gateway process over the shared (fake) database: its hub tails the outbox and wakes the pass
    through the gate, as app/bootstrap.py wires it; `wakes` counts the passes woken."""

    def __init__(self, uow: FakeUnitOfWorkFactory) -> None:
        self.uow = uow
        self.hub = EventHub(uow)
        self.gate = WebhookWakeGate(uow)
        self.wakes = 0
        self.hub.subscribe(self._on_event)
        self.hub.start_from_now()
        self.gate.load()

    def _on_event(self, event: Event) -> None:
        if self.gate.wants(event):
            self.wakes += 1

    def tail(self) -> None:
        self.hub.publish(self.hub.poll())


def submit(uow: FakeUnitOfWorkFactory, event_type: str = "payment.created") -> None:
    with uow() as tx:
        tx.publish(Event(event_type, {"id": "pay_1"}, T0, aggregate_id="pay_1"))
        tx.commit()


def endpoints(uow: FakeUnitOfWorkFactory) -> WebhookService:
    """Another process's endpoint admin, on the same database."""
    return WebhookService(uow, FakeClock(T0), FakeResolver())


def test_without_an_endpoint_a_storm_of_public_events_wakes_nothing():
    uow = FakeUnitOfWorkFactory()
    process = Process(uow)
    for _ in range(50):
        submit(uow)

    process.tail()

    assert process.wakes == 0


def test_an_endpoint_created_in_another_process_makes_the_next_event_wake_the_pass():
    uow = FakeUnitOfWorkFactory()
    process = Process(uow)
    endpoints(uow).create({"url": "https://shop.example.com/hooks", "events": ["payment.created"]})
    submit(uow)

    process.tail()

    assert process.wakes == 1


def test_an_endpoint_that_existed_before_the_start_is_read_from_the_repository():
    uow = FakeUnitOfWorkFactory()
    endpoints(uow).create({"url": "https://shop.example.com/hooks", "events": ["*"]})
    process = Process(uow)
    submit(uow, "order.created")
    submit(uow)

    process.tail()

    assert process.wakes == 2


def test_only_the_types_an_enabled_endpoint_subscribes_to_wake_the_pass():
    uow = FakeUnitOfWorkFactory()
    process = Process(uow)
    admin = endpoints(uow)
    endpoint = admin.create({"url": "https://shop.example.com/hooks", "events": ["payment.completed"]})
    submit(uow, "payment.created")
    process.tail()
    assert process.wakes == 0

    admin.set_enabled(endpoint.id, False)
    submit(uow, "payment.completed")
    process.tail()
    assert process.wakes == 0

    admin.set_enabled(endpoint.id, True)
    submit(uow, "payment.completed")
    process.tail()
    assert process.wakes == 1

    admin.delete(endpoint.id)
    submit(uow, "payment.completed")
    process.tail()
    assert process.wakes == 1


def test_before_it_is_loaded_the_gate_wakes_for_every_public_event_and_never_for_a_private_one():
    gate = WebhookWakeGate(FakeUnitOfWorkFactory())

    assert gate.wants(Event("payment.created", {}, T0))
    assert not gate.wants(Event("user.updated", {}, T0))
