"""Merchant webhooks over real HTTP, on SQLite and PostgreSQL: a receiver on a free localhost port
verifies every delivery with the standardwebhooks library. A receiver that fails its first three
deliveries gets every event; one that never answers ends with dead deliveries and a disabled
endpoint; one with the wrong secret refuses them all; a hanging endpoint does not hold up another."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.webhook_sender import DnsResolver, HttpWebhookSender
from domain.clock import SystemClock
from domain.model.events import Event
from domain.model.webhooks import RetrySchedule, new_secret
from domain.services.webhook_dispatcher import DispatchConfig, WebhookDispatcher
from domain.services.webhooks import WebhookService
from storage.db import Database
from storage.uow import SqlUnitOfWorkFactory
from tests.integration.webhook_receiver import Receiver, running


class Gateway:
    """The webhook side of one gateway process on `db`, with short timeouts and schedule."""

    def __init__(self, db: Database, *, schedule: str = "0.05,0.05,0.05,0.05", timeout: float = 2.0,
                 per_endpoint: int = 2) -> None:
        self.uow = SqlUnitOfWorkFactory(db)
        clock = SystemClock()
        self.webhooks = WebhookService(self.uow, clock, DnsResolver(), allow_private=True)
        self.dispatcher = WebhookDispatcher(
            self.uow, HttpWebhookSender(allow_private=True, timeout_seconds=timeout), clock,
            DispatchConfig("proc-1", lease_seconds=timeout + 5, max_in_flight=8, per_endpoint=per_endpoint),
            RetrySchedule.parse(schedule))

    def publish(self, n: int, event_type: str = "payment.completed") -> list[Event]:
        events = [Event(event_type, {"id": f"pay_{i}", "amount": 1000 + i, "currency": "EUR"}, SystemClock().now())
                  for i in range(n)]
        with self.uow() as uow:
            for event in events:
                uow.publish(event)
            uow.commit()
        return events

    def log(self, endpoint_id: str) -> list:
        page, _ = self.webhooks.deliveries(endpoint_id, limit=200)
        return page

    async def run_until(self, done: Callable[[], bool], timeout: float = 30.0) -> float:
        """Pump (as the scheduler's job does) until `done`; the seconds it took."""
        started = time.monotonic()
        while not done():
            assert time.monotonic() - started < timeout, "the deliveries did not settle in time"
            await self.dispatcher.pump()
            await asyncio.sleep(0.02)
        return time.monotonic() - started

    async def close(self) -> None:
        await self.dispatcher.stop(timeout=1.0)
        await self.dispatcher.sender.aclose()


def test_a_receiver_that_fails_its_first_three_deliveries_gets_every_event_verified(db: Database):
    gateway = Gateway(db)
    with running(Receiver(fail_first=3)) as receiver:
        endpoint = gateway.webhooks.create({"url": receiver.url, "events": ["payment.completed"]})
        receiver.secret = endpoint.secret
        events = gateway.publish(5)

        async def scenario() -> None:
            await gateway.run_until(lambda: all(d.status == "delivered" for d in gateway.log(endpoint.id)))
            await gateway.close()

        asyncio.run(scenario())

    assert receiver.event_ids() == {e.id for e in events}
    assert receiver.refused == [] and receiver.requests == 5 + 3
    assert set(receiver.message_ids) == {e.id for e in events}  # webhook-id is the event id
    by_event = {p["id"]: p for p in receiver.verified}
    assert all(by_event[e.id] == {**e.public()} for e in events)
    log = gateway.log(endpoint.id)
    assert sum(d.attempts for d in log) == 8 and all(d.last_status_code == 200 for d in log)


def test_a_receiver_that_never_answers_ends_with_dead_deliveries_and_is_disabled_after_ten(db: Database):
    gateway = Gateway(db, schedule="0.05", timeout=0.5)
    with running(Receiver(hang_first=10_000)) as receiver:
        endpoint = gateway.webhooks.create({"url": receiver.url, "events": ["*"]})
        receiver.secret = endpoint.secret
        gateway.publish(11)

        async def scenario() -> None:
            await gateway.run_until(lambda: gateway.webhooks.get(endpoint.id).status == "disabled", timeout=60)
            await gateway.close()

        asyncio.run(scenario())

    log = gateway.log(endpoint.id)
    dead = [d for d in log if d.status == "dead"]
    # The tenth dead one disables the endpoint; the eleventh may have been in flight then, and ends too.
    assert len(log) == 11 and len(dead) in (10, 11)
    assert all(d.attempts == 2 and d.last_status_code is None for d in dead)
    assert all(d.last_error == "no answer within 0.5 s" for d in dead)
    stored = gateway.webhooks.get(endpoint.id)
    assert stored.disabled_reason == "the last 10 deliveries all ended dead"
    with gateway.uow(read_only=True) as uow:
        types = [e.type for e in uow.outbox.for_aggregate(endpoint.id)]
    assert types == ["webhook_endpoint.created", "webhook_endpoint.disabled"]
    assert receiver.verified == []


def test_a_receiver_with_the_wrong_secret_refuses_every_delivery_so_the_signature_covers_the_body(db: Database):
    gateway = Gateway(db, schedule="0.05")
    with running(Receiver(new_secret())) as receiver:
        endpoint = gateway.webhooks.create({"url": receiver.url, "events": ["payment.completed"]})
        gateway.publish(2)

        async def scenario() -> None:
            await gateway.run_until(lambda: all(d.status == "dead" for d in gateway.log(endpoint.id)))
            await gateway.close()

        asyncio.run(scenario())

    assert receiver.verified == [] and len(receiver.refused) == 4
    assert set(receiver.refused) == {"No matching signature found"}
    assert all(d.last_status_code == 400 and d.last_error == "HTTP 400" for d in gateway.log(endpoint.id))


def test_an_endpoint_that_hangs_does_not_hold_up_another_endpoints_deliveries(db: Database):
    gateway = Gateway(db, timeout=5.0)
    with running(Receiver(hang_first=10_000)) as slow, running(Receiver()) as fast:
        hanging = gateway.webhooks.create({"url": slow.url, "events": ["*"]})
        quick = gateway.webhooks.create({"url": fast.url, "events": ["*"]})
        slow.secret, fast.secret = hanging.secret, quick.secret
        events = gateway.publish(6)

        async def scenario() -> tuple[float, int]:
            took = await gateway.run_until(lambda: all(d.status == "delivered" for d in gateway.log(quick.id)))
            in_flight = gateway.dispatcher.in_flight_to(hanging.id)  # the quick one's last may still be closing
            slow.release.set()
            await gateway.close()
            return took, in_flight

        took, in_flight = asyncio.run(scenario())

    assert fast.event_ids() == {e.id for e in events}
    assert took < 5.0, "the quick endpoint waited for the hanging one's timeout"
    assert in_flight == 2  # the hanging endpoint holds its two slots, no more
