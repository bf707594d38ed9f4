"""Merchant webhook storage on SQLite and PostgreSQL: deliveries written with their event, the log's
order and cursor, claims with a lease (ten claimers at once never share a delivery), the per-endpoint
bound, and ten endpoints created at once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from domain.clock import FakeClock, SystemClock
from domain.model.events import Event
from domain.model.statuses import EndpointStatus
from domain.model.webhooks import RetrySchedule, SendResult
from domain.services.webhook_dispatcher import DispatchConfig, WebhookDispatcher
from domain.services.webhooks import WebhookService
from storage.db import Database
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import T0, run_sync
from tests.unit.test_webhooks import FakeResolver, ScriptedSender
from tests.unit.test_webhooks_model import FixedRng


def service(db: Database, clock: FakeClock | SystemClock | None = None) -> WebhookService:
    return WebhookService(SqlUnitOfWorkFactory(db), clock or FakeClock(T0), FakeResolver())


def publish(db: Database, n: int = 1, event_type: str = "payment.completed", at=T0) -> list[Event]:  # noqa: ANN001
    events = [Event(event_type, {"id": f"pay_{i}", "amount": 100 + i}, at + timedelta(milliseconds=i))
              for i in range(n)]
    with SqlUnitOfWorkFactory(db)() as uow:
        for event in events:
            uow.publish(event)
        uow.commit()
    return events


def test_deliveries_are_written_with_their_event_to_enabled_subscribed_endpoints_only(db: Database):
    webhooks = service(db)
    completed = webhooks.create({"url": "https://shop.example.com/a", "events": ["payment.completed"]})
    star = webhooks.create({"url": "https://other.example.com/b", "events": ["*"]})
    webhooks.create({"url": "https://third.example.com/c", "events": ["refund.failed"]})
    off = webhooks.create({"url": "https://shop.example.com/d", "events": ["*"]})
    webhooks.set_enabled(off.id, False)
    with SqlUnitOfWorkFactory(db)() as uow:  # rolled back: no event, no delivery
        uow.publish(Event("payment.completed", {}, T0))

    [event] = publish(db)
    publish(db, event_type="user.created")

    logs = {e.id: webhooks.deliveries(e.id)[0] for e in webhooks.list()}
    assert {endpoint_id for endpoint_id, log in logs.items() if log} == {completed.id, star.id}
    assert {d.event_id for log in logs.values() for d in log} == {event.id}
    d = logs[star.id][0]
    assert (d.id[:4], d.status, d.attempts, d.event_type, d.next_attempt_at) == ("whd_", "pending", 0,
                                                                                "payment.completed", T0)


def test_an_endpoint_round_trips_through_storage(db: Database):
    webhooks = service(db)
    created = webhooks.create({"url": "https://shop.example.com/hooks?x=1", "events": ["refund.succeeded",
                                                                                     "order.paid"],
                               "description": "ünïcode ✓"})

    webhooks.update(created.id, {"status": "disabled"})
    stored = webhooks.get(created.id)

    assert (stored.url, stored.event_types) == (created.url, created.event_types)
    assert stored.description == created.description
    assert stored.secret == created.secret and stored.status == EndpointStatus.DISABLED
    assert stored.created_at == created.created_at and stored.disabled_reason == "disabled by an admin"


def test_the_log_is_newest_first_and_its_cursor_walks_every_delivery_once(db: Database):
    webhooks = service(db)
    endpoint = webhooks.create({"url": "https://shop.example.com/hooks", "events": ["*"]})
    publish(db, n=7)

    seen, cursor = [], None
    while True:
        page, cursor = webhooks.deliveries(endpoint.id, limit=3, cursor=cursor)
        seen += page
        if cursor is None:
            break

    assert len(seen) == 7 and len({d.id for d in seen}) == 7
    assert [d.created_at for d in seen] == sorted((d.created_at for d in seen), reverse=True)


def test_ten_claimers_at_once_never_get_the_same_delivery_and_the_per_endpoint_bound_holds(
        open_db: Callable[[], Database], db: Database):
    webhooks = service(db)
    endpoints = [webhooks.create({"url": f"https://shop.example.com/{i}", "events": ["*"]}).id for i in range(4)]
    publish(db, n=10)  # 40 deliveries, 10 per endpoint
    start = threading.Barrier(10)

    def claim(n: int) -> list[list[tuple[str, str]]]:
        """Claim passes (as if each POST ended at once) until three in a row find nothing."""
        uow = SqlUnitOfWorkFactory(open_db())  # like another process
        passes, empty = [], 0
        start.wait(timeout=30)
        while empty < 3:
            with uow() as tx:
                claimed = tx.webhooks.claim_due(now=T0 + timedelta(seconds=1), owner=f"p{n}",
                                                lease_until=T0 + timedelta(seconds=60), limit=5, in_flight={},
                                                per_endpoint=2)
                tx.commit()
            passes.append([(c.delivery.id, c.delivery.endpoint_id) for c in claimed])
            empty = 0 if claimed else empty + 1
        return passes

    with ThreadPoolExecutor(10) as pool:
        results = [one for passes in pool.map(claim, range(10)) for one in passes]

    ids = [delivery_id for one in results for delivery_id, _ in one]
    assert len(ids) == len(set(ids)) == 40  # each one exactly once
    assert all(len(one) <= 5 and max(Counter(e for _, e in one).values(), default=0) <= 2 for one in results)
    assert {e for one in results for _, e in one} == set(endpoints)


def test_a_live_lease_keeps_a_delivery_and_an_expired_one_lets_another_process_claim_it(db: Database):
    webhooks = service(db)
    webhooks.create({"url": "https://shop.example.com/hooks", "events": ["*"]})
    publish(db)
    uow = SqlUnitOfWorkFactory(db)

    def claim(owner: str, seconds: float) -> list:
        with uow() as tx:
            claimed = tx.webhooks.claim_due(now=T0 + timedelta(seconds=seconds), owner=owner,
                                            lease_until=T0 + timedelta(seconds=seconds + 30), limit=5,
                                            in_flight={}, per_endpoint=2)
            tx.commit()
        return claimed

    first = claim("p1", 1)
    while_leased = claim("p2", 20)
    after_expiry = claim("p2", 40)

    assert len(first) == 1 and while_leased == []
    assert [c.delivery.id for c in after_expiry] == [first[0].delivery.id]
    assert after_expiry[0].delivery.attempts == 2 and after_expiry[0].delivery.lease_owner == "p2"
    assert after_expiry[0].event.type == "payment.completed" and after_expiry[0].secret.startswith("whsec_")


def test_ten_endpoints_created_at_once_each_get_their_own_id_and_secret_and_every_event(
        open_db: Callable[[], Database], db: Database):
    start = threading.Barrier(10)

    def create(n: int) -> tuple[str, str]:
        webhooks = service(open_db(), SystemClock())
        start.wait(timeout=30)
        created = webhooks.create({"url": f"https://shop.example.com/{n}", "events": ["payment.completed"]})
        return created.id, created.secret

    with ThreadPoolExecutor(10) as pool:
        made = list(pool.map(create, range(10)))
    [event] = publish(db)

    webhooks = service(db)
    assert len({i for i, _ in made}) == 10 and len({s for _, s in made}) == 10
    assert {e.id for e in webhooks.list()} == {i for i, _ in made}
    assert all([d.event_id for d in webhooks.deliveries(i)[0]] == [event.id] for i, _ in made)


def test_ten_dead_in_a_row_disable_the_endpoint_in_storage_with_its_event(db: Database):
    clock = FakeClock(T0)
    uow = SqlUnitOfWorkFactory(db)
    webhooks = WebhookService(uow, clock, FakeResolver())
    endpoint = webhooks.create({"url": "https://shop.example.com/hooks", "events": ["*"]})
    publish(db, n=10)
    dispatcher = WebhookDispatcher(uow, ScriptedSender(SendResult(status_code=500)), clock,
                                   DispatchConfig("p1", per_endpoint=10, max_in_flight=10), RetrySchedule.parse("1"),
                                   rng=FixedRng(0.5), run_sync=run_sync)

    for _ in range(2):
        clock.advance(2)
        asyncio.run(dispatcher.run_until_idle())

    stored = webhooks.get(endpoint.id)
    page, _ = webhooks.deliveries(endpoint.id, status="dead")
    with uow(read_only=True) as tx:
        disabled = [e for e in tx.outbox.for_aggregate(endpoint.id) if e.type == "webhook_endpoint.disabled"]
    assert stored.status == EndpointStatus.DISABLED and stored.dead_in_a_row == 10 and len(page) == 10
    assert len(disabled) == 1 and disabled[0].customer_id is None
