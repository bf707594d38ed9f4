"""The unit of work: one transaction, committed only when asked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from domain.model.errors import DuplicateKey
from domain.model.events import Event
from domain.ports import (
    AttemptRepository,
    CartRepository,
    DeliveryRepository,
    IdempotencyRepository,
    NewEvents,
    OrderRepository,
    OutboxRepository,
    PaymentRepository,
    ProductRepository,
    ProviderEventRepository,
    RefundRepository,
    UserRepository,
    WebhookRepository,
)
from storage.customer_limits import take_pending_token
from storage.db import OUTBOX_CHANNEL, Database
from storage.deliveries import SqlDeliveryRepository
from storage.refunds import SqlRefundRepository
from storage.repositories import (
    SqlAttemptRepository,
    SqlIdempotencyRepository,
    SqlOutboxRepository,
    SqlPaymentRepository,
    SqlProviderEventRepository,
    SqlUserRepository,
)
from storage.shop import SqlCartRepository, SqlOrderRepository, SqlProductRepository
from storage.webhooks import SqlWebhookRepository


class SqlUnitOfWork:
    # The ports' types, not storage's: a repository that drifts from its protocol fails the type check
    # (and the attributes match domain.ports.UnitOfWork's, which a protocol requires of its members).
    users: UserRepository
    payments: PaymentRepository
    idempotency: IdempotencyRepository
    outbox: OutboxRepository
    products: ProductRepository
    carts: CartRepository
    orders: OrderRepository
    deliveries: DeliveryRepository
    attempts: AttemptRepository
    provider_events: ProviderEventRepository
    refunds: RefundRepository
    webhooks: WebhookRepository

    def __init__(self, db: Database, read_only: bool = False) -> None:
        self.db = db
        self.read_only = read_only

    def __enter__(self) -> SqlUnitOfWork:
        self._ctx = self.db.session(self.read_only)
        self.session = self._ctx.__enter__()
        self.new_events = NewEvents()
        self.users = SqlUserRepository(self.session)
        self.payments = SqlPaymentRepository(self.session, self.new_events)
        self.idempotency = SqlIdempotencyRepository(self.session)
        self.outbox = SqlOutboxRepository(self.session)
        self.products = SqlProductRepository(self.session)
        self.carts = SqlCartRepository(self.session)
        self.orders = SqlOrderRepository(self.session, self.new_events)
        self.deliveries = SqlDeliveryRepository(self.session)
        self.attempts = SqlAttemptRepository(self.session)
        self.provider_events = SqlProviderEventRepository(self.session)
        self.refunds = SqlRefundRepository(self.session, self.new_events)
        self.webhooks = SqlWebhookRepository(self.session, self.new_events)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.session.rollback()  # a no-op after commit(); undoes anything uncommitted
        finally:
            self._ctx.__exit__(*exc)

    def publish(self, event: Event) -> None:
        self.new_events.publish(event)

    def commit(self) -> None:
        # in this transaction, before it commits
        wrote_events = self.new_events.write(self.outbox, self.deliveries, self.webhooks) > 0
        if wrote_events and not self.db.is_sqlite:
            # Delivered to every listening process when (and only if) this transaction commits.
            self.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
        try:
            if wrote_events:  # a submission's: it takes its customer's token here, when one is pending
                take_pending_token(self.session)
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            raise DuplicateKey("a unique key is already taken") from None
        if wrote_events:
            self.db.events_committed()


class SqlUnitOfWorkFactory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, read_only)
