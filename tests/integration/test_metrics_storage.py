"""The grouped counts `/metrics` reads for the fleet, on SQLite and PostgreSQL: webhook deliveries and
payments by status, whichever process wrote them."""

from __future__ import annotations

import asyncio

from domain.clock import FakeClock
from domain.model.statuses import PaymentStatus
from domain.model.webhooks import RetrySchedule, SendResult
from domain.services.webhook_dispatcher import DispatchConfig, WebhookDispatcher
from domain.services.webhooks import WebhookService
from storage.db import Database
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import T0, make_payment, run_sync
from tests.integration.test_webhook_storage import publish
from tests.unit.test_webhooks import FakeResolver, ScriptedSender
from tests.unit.test_webhooks_model import FixedRng


def test_webhook_deliveries_are_counted_by_status(db: Database) -> None:
    clock = FakeClock(T0)
    uow = SqlUnitOfWorkFactory(db)
    webhooks = WebhookService(uow, clock, FakeResolver())
    webhooks.create({"url": "https://shop.example.com/hooks", "events": ["*"]})
    webhooks.create({"url": "https://other.example.com/hooks", "events": ["payment.completed"]})
    publish(db, n=2)
    dispatcher = WebhookDispatcher(uow, ScriptedSender(SendResult(status_code=500)), clock,
                                   DispatchConfig("p1", per_endpoint=10, max_in_flight=10), RetrySchedule.parse("1"),
                                   rng=FixedRng(0.5), run_sync=run_sync)
    for _ in range(2):
        clock.advance(2)
        asyncio.run(dispatcher.run_until_idle())
    publish(db, n=1, event_type="refund.succeeded")  # only the first endpoint takes it

    with uow(read_only=True) as tx:
        counts = tx.webhooks.count_by_status()

    assert counts == {"dead": 4, "pending": 1}


def test_payments_are_counted_by_status(db: Database) -> None:
    uow = SqlUnitOfWorkFactory(db)
    with uow() as tx:
        for i, status in enumerate((PaymentStatus.PENDING, PaymentStatus.PENDING, PaymentStatus.COMPLETED)):
            tx.payments.add(make_payment(status=status, payment_id=f"pay_{i}"))
        tx.commit()

    with uow(read_only=True) as tx:
        counts = tx.payments.count_by_status()

    assert counts == {"pending": 2, "completed": 1}
