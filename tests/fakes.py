"""Hand-written fakes of the domain's ports, for unit tests: no database, no threads, no real waiting.

Each fake repository is held to its protocol in domain/ports.py: the fake unit of work declares its
repositories with the protocols' types (a type checker then catches a fake that drifts), and
tests/unit/test_fakes.py compares every fake method's signature with its port's. The unit of work
copies the committed state on entering and writes it back on `commit()`; leaving the `with` block
without a commit throws the copy away, like a rolled-back transaction. Objects handed out are
copies, so a test (or the code under test) that changes one without calling `update` changes
nothing stored. Events reach the outbox as in storage: through `domain.ports.NewEvents` at commit,
which also writes the delivery rows of the subscribed consumers.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import dataclasses
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.clock import FakeClock
from domain.model.catalog import Product
from domain.model.deliveries import Delivery
from domain.model.errors import DuplicateKey
from domain.model.events import Event
from domain.model.idempotency import IdempotencyRecord
from domain.model.orders import Order
from domain.model.payments import PageCursor, Payment, PaymentRange, PaymentStats, hold_name
from domain.model.providers import Attempt, CallResult, CircuitState, LedgerCharge, LedgerRefund
from domain.model.refunds import Refund
from domain.model.statuses import DeliveryStatus, OrderStatus, PaymentStatus, RefundStatus
from domain.model.users import User
from domain.model.webhooks import Claimed, WebhookDelivery, WebhookEndpoint
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
from domain.services.cart import CartService
from domain.services.catalog import CatalogService
from domain.services.deliveries import DeliveryWorker
from domain.services.mock_provider import MockConfig, MockProvider
from domain.services.orders import OrderService
from domain.services.payments import PaymentService
from domain.services.users import UserService
from storage.seed import seed_demo_catalog, seed_demo_users


@dataclass
class CartLineRow:
    quantity: int
    added_at: datetime


@dataclass
class DeliveryRow:
    """One event owed to one consumer, as storage.tables.DeliveryRow keeps it."""

    id: int
    event_id: str
    consumer: str
    next_attempt_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    done_at: datetime | None = None


@dataclass
class FakeState:
    """Everything the fake database holds."""

    users: dict[str, User] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    last_seq: int = 0
    products: dict[str, Product] = field(default_factory=dict)
    carts: dict[str, dict[str, CartLineRow]] = field(default_factory=dict)  # customer -> product -> line
    orders: dict[str, Order] = field(default_factory=dict)
    deliveries: dict[int, DeliveryRow] = field(default_factory=dict)
    last_delivery_id: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    provider_events: dict[tuple[str, str], str] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    webhook_endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    webhook_deliveries: dict[str, WebhookDelivery] = field(default_factory=dict)


class FakeUserRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, user_id: str, for_update: bool = False) -> User | None:
        return self._state.users.get(user_id)

    def get_by_email(self, email: str) -> User | None:
        return next((u for u in self._state.users.values() if u.email == email), None)

    def list(self) -> list[User]:
        return sorted(self._state.users.values(), key=lambda u: (u.created_at, u.id))

    def add(self, user: User) -> None:
        if user.id in self._state.users or self.get_by_email(user.email) is not None:
            raise DuplicateKey("a unique key is already taken")
        self._state.users[user.id] = user

    def update(self, user: User) -> None:
        if user.id in self._state.users:
            self._state.users[user.id] = user

    def delete(self, user_id: str) -> None:
        self._state.users.pop(user_id, None)


def _stored(aggregate: Any) -> Any:
    """The copy a repository keeps: events live in the outbox, not on the row."""
    stored = copy.deepcopy(aggregate)
    stored.events = []
    return stored


class FakePaymentRepository:
    def __init__(self, state: FakeState, events: NewEvents) -> None:
        self._state = state
        self._events = events

    def get(self, payment_id: str, for_update: bool = False) -> Payment | None:
        payment = self._state.payments.get(payment_id)
        return copy.deepcopy(payment) if payment else None

    def add(self, payment: Payment) -> None:
        if payment.id in self._state.payments:
            raise DuplicateKey("a unique key is already taken")
        self._state.payments[payment.id] = _stored(payment)
        self._events.saw(payment)

    def update(self, payment: Payment) -> None:
        if payment.id in self._state.payments:
            self._state.payments[payment.id] = _stored(payment)
        self._events.saw(payment)

    def list(self, *, customer_id: str | None, status: str | None, limit: int,
             after: PageCursor | None, within: PaymentRange | None = None) -> list[Payment]:
        rows = [p for p in self._state.payments.values()
                if (customer_id is None or p.customer_id == customer_id)
                and (status is None or p.status == status)
                and (within is None or within.holds(p))
                and (after is None or (p.created_at, p.id) < (after.created_at, after.id))]
        rows.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        return [copy.deepcopy(p) for p in rows[:limit]]

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime,
                  unknown_only: bool = False) -> Payment | None:
        def due(p: Payment) -> bool:
            if unknown_only and not p.needs_lookup:
                return False
            return (p.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
                    or (p.status == PaymentStatus.RETRYING and p.next_attempt_at is not None
                        and p.next_attempt_at <= now))

        def free(p: Payment) -> bool:
            held_for_me = p.lease_owner == hold_name(owner) and (p.next_attempt_at is None or p.next_attempt_at <= now)
            return p.lease_expires_at is None or p.lease_expires_at < now or held_for_me

        candidates = sorted((p for p in self._state.payments.values() if due(p) and free(p)),
                            key=lambda p: p.created_at)
        if not candidates:
            return None
        payment = candidates[0]
        payment.lease_owner, payment.lease_expires_at = owner, lease_until
        return copy.deepcopy(payment)

    def renew_lease(self, payment_id: str, owner: str, lease_until: datetime) -> bool:
        payment = self._state.payments.get(payment_id)
        if payment is None or payment.lease_owner != owner:
            return False
        payment.lease_expires_at = lease_until
        return True

    def release(self, payment_id: str, owner: str) -> None:
        payment = self._state.payments.get(payment_id)
        if payment is not None and payment.lease_owner == owner:
            payment.lease_owner = payment.lease_expires_at = None

    def count_by_status(self) -> dict[str, int]:
        return dict(Counter(p.status for p in self._state.payments.values()))

    def recent_failures(self, limit: int) -> builtins.list[Payment]:
        failed = [p for p in self._state.payments.values() if p.failure_code is not None]
        failed.sort(key=lambda p: p.updated_at, reverse=True)
        return [copy.deepcopy(p) for p in failed[:limit]]

    def stats(self, customer_id: str | None, since: datetime) -> PaymentStats:
        mine = [p for p in self._state.payments.values()
                if customer_id is None or p.customer_id == customer_id]
        volume: Counter[str] = Counter()
        for p in mine:
            if p.status == PaymentStatus.COMPLETED and p.completed_at is not None and p.completed_at >= since:
                volume[p.currency] += p.amount
        return PaymentStats(dict(Counter(p.status for p in mine)), dict(volume))

    def finished_since(self, since: datetime) -> builtins.list[tuple[datetime, str]]:
        return sorted((p.updated_at, p.status) for p in self._state.payments.values()
                      if p.status in (PaymentStatus.COMPLETED, PaymentStatus.FAILED) and p.updated_at >= since)


class FakeAttemptRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def add(self, attempt: Attempt) -> Attempt:
        if any(a.payment_id == attempt.payment_id and a.number == attempt.number for a in self._state.attempts):
            raise DuplicateKey("this attempt number is taken")
        stored = dataclasses.replace(attempt, id=len(self._state.attempts) + 1)
        self._state.attempts.append(stored)
        return stored

    def finish(self, attempt: Attempt) -> None:
        self._state.attempts = [attempt if a.id == attempt.id else a for a in self._state.attempts]

    def for_payment(self, payment_id: str) -> builtins.list[Attempt]:
        return sorted((a for a in self._state.attempts if a.payment_id == payment_id), key=lambda a: a.number)

    def remove(self, attempt: Attempt) -> None:
        self._state.attempts = [a for a in self._state.attempts if a.id != attempt.id]

    def next_number(self, payment_id: str) -> int:
        return max((a.number for a in self._state.attempts if a.payment_id == payment_id), default=0) + 1

    def recent(self, since: datetime, limit: int) -> builtins.list[Attempt]:
        done = [a for a in self._state.attempts if a.started_at >= since and a.outcome is not None]
        return sorted(done, key=lambda a: a.started_at, reverse=True)[:limit]


class FakeRefundRepository:
    def __init__(self, state: FakeState, events: NewEvents) -> None:
        self._state = state
        self._events = events

    def get(self, refund_id: str, for_update: bool = False) -> Refund | None:
        refund = self._state.refunds.get(refund_id)
        return copy.deepcopy(refund) if refund else None

    def add(self, refund: Refund) -> None:
        if refund.id in self._state.refunds:
            raise DuplicateKey("a unique key is already taken")
        self._state.refunds[refund.id] = _stored(refund)
        self._events.saw(refund)

    def update(self, refund: Refund) -> None:
        if refund.id in self._state.refunds:
            self._state.refunds[refund.id] = _stored(refund)
        self._events.saw(refund)

    def for_payment(self, payment_id: str) -> builtins.list[Refund]:
        found = [r for r in self._state.refunds.values() if r.payment_id == payment_id]
        return [copy.deepcopy(r) for r in sorted(found, key=lambda r: (r.created_at, r.id))]

    def committed_total(self, payment_id: str) -> int:
        return sum(r.amount for r in self._state.refunds.values()
                   if r.payment_id == payment_id and r.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED))

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Refund | None:
        due = [r for r in self._state.refunds.values()
               if r.status == RefundStatus.PENDING and (r.next_attempt_at is None or r.next_attempt_at <= now)
               and (r.lease_expires_at is None or r.lease_expires_at < now)]
        if not due:
            return None
        refund = min(due, key=lambda r: r.created_at)
        refund.lease_owner, refund.lease_expires_at = owner, lease_until
        return copy.deepcopy(refund)

    def renew_lease(self, refund_id: str, owner: str, lease_until: datetime) -> bool:
        refund = self._state.refunds.get(refund_id)
        if refund is None or refund.lease_owner != owner:
            return False
        refund.lease_expires_at = lease_until
        return True

    def release(self, refund_id: str, owner: str) -> None:
        refund = self._state.refunds.get(refund_id)
        if refund is not None and refund.lease_owner == owner:
            refund.lease_owner = refund.lease_expires_at = None


class FakeProviderEventRepository:
    def __init__(self, state: FakeState, added: set[tuple[str, str]]) -> None:
        self._state = state
        self._added = added

    def add(self, provider: str, event_id: str, event_type: str, at: datetime, outcome: str) -> None:
        if (provider, event_id) in self._state.provider_events:
            raise DuplicateKey("this event is stored already")
        self._state.provider_events[(provider, event_id)] = outcome
        self._added.add(("provider_event", f"{provider}:{event_id}"))

    def seen(self, provider: str, event_id: str) -> bool:
        return (provider, event_id) in self._state.provider_events


class FakeIdempotencyRepository:
    def __init__(self, state: FakeState, added: set[tuple[str, str]]) -> None:
        self._state = state
        self._added = added

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self._state.idempotency.get((scope, key))

    def add(self, record: IdempotencyRecord) -> None:
        if (record.scope, record.key) in self._state.idempotency:
            raise DuplicateKey("this idempotency key is already taken")
        self._state.idempotency[(record.scope, record.key)] = record
        self._added.add((record.scope, record.key))


class FakeOutboxRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def add(self, event: Event) -> None:
        self._state.last_seq += 1
        self._state.outbox.append(dataclasses.replace(event, seq=self._state.last_seq))

    def after(self, seq: int, limit: int) -> list[Event]:
        return [e for e in self._state.outbox if e.seq is not None and e.seq > seq][:limit]

    def for_aggregate(self, aggregate_id: str) -> list[Event]:
        return [e for e in self._state.outbox if e.aggregate_id == aggregate_id]

    def recent(self, customer_id: str | None, limit: int,
               prefixes: tuple[str, ...] = ("payment.", "order.")) -> list[Event]:
        events = [e for e in reversed(self._state.outbox) if e.type.startswith(prefixes)
                  and (customer_id is None or e.customer_id == customer_id)]
        return events[:limit]

    def seq_of(self, event_id: str) -> int | None:
        return next((e.seq for e in self._state.outbox if e.id == event_id), None)

    def last_seq(self) -> int:
        return self._state.last_seq


class FakeProductRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def get(self, product_id: str, for_update: bool = False) -> Product | None:
        product = self._state.products.get(product_id)
        return copy.deepcopy(product) if product else None

    def list(self) -> list[Product]:
        return [copy.deepcopy(p) for _, p in sorted(self._state.products.items())]

    def add(self, product: Product) -> None:
        if product.id in self._state.products:
            raise DuplicateKey("a unique key is already taken")
        self._state.products[product.id] = copy.deepcopy(product)

    def update(self, product: Product) -> None:
        stored = self._state.products.get(product.id)
        if stored is not None:  # like the UPDATE in storage, which leaves created_at alone
            self._state.products[product.id] = dataclasses.replace(copy.deepcopy(product),
                                                                   created_at=stored.created_at)

    def delete(self, product_id: str) -> None:
        self._state.products.pop(product_id, None)

    def reserve(self, product_id: str, quantity: int) -> bool:
        product = self._state.products.get(product_id)
        if product is None or not product.active or product.stock < quantity:
            return False
        self._state.products[product_id] = dataclasses.replace(product, stock=product.stock - quantity)
        return True

    def release(self, product_id: str, quantity: int) -> None:
        product = self._state.products.get(product_id)
        if product is not None:
            self._state.products[product_id] = dataclasses.replace(product, stock=product.stock + quantity)


class FakeCartRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def items(self, customer_id: str) -> list[tuple[str, int]]:
        lines = self._state.carts.get(customer_id, {})
        ordered = sorted(lines.items(), key=lambda item: (item[1].added_at, item[0]))
        return [(product_id, line.quantity) for product_id, line in ordered]

    def set(self, customer_id: str, product_id: str, quantity: int, now: datetime) -> None:
        lines = self._state.carts.setdefault(customer_id, {})
        if product_id in lines:
            lines[product_id].quantity = quantity  # a change keeps the line's place
        else:
            lines[product_id] = CartLineRow(quantity, now)

    def remove(self, customer_id: str, product_id: str) -> None:
        self._state.carts.get(customer_id, {}).pop(product_id, None)

    def clear(self, customer_id: str) -> None:
        self._state.carts.pop(customer_id, None)

    def take(self, customer_id: str, lines: list[tuple[str, int]]) -> bool:
        held = {product_id: line.quantity for product_id, line in self._state.carts.get(customer_id, {}).items()}
        if len(dict(lines)) != len(lines) or held != dict(lines):
            return False
        self._state.carts.pop(customer_id, None)
        return True

    def remove_product_everywhere(self, product_id: str) -> None:
        for lines in self._state.carts.values():
            lines.pop(product_id, None)


class FakeOrderRepository:
    def __init__(self, state: FakeState, events: NewEvents) -> None:
        self._state = state
        self._events = events

    def get(self, order_id: str, for_update: bool = False) -> Order | None:
        order = self._state.orders.get(order_id)
        return copy.deepcopy(order) if order else None

    def add(self, order: Order) -> None:
        if order.id in self._state.orders:
            raise DuplicateKey("a unique key is already taken")
        self._state.orders[order.id] = _stored(order)
        self._events.saw(order)

    def update(self, order: Order) -> None:
        stored = self._state.orders.get(order.id)
        if stored is not None:  # storage updates these columns only
            stored.status = OrderStatus(order.status)
            stored.updated_at, stored.payment_id = order.updated_at, order.payment_id
        self._events.saw(order)

    def list(self, *, customer_id: str | None, limit: int, status: str | None = None,
             after: PageCursor | None = None, created_from: datetime | None = None,
             created_before: datetime | None = None) -> list[Order]:
        rows = [o for o in self._state.orders.values()
                if (customer_id is None or o.customer_id == customer_id)
                and (status is None or o.status == status)
                and (created_from is None or o.created_at >= created_from)
                and (created_before is None or o.created_at < created_before)
                and (after is None or (o.created_at, o.id) < (after.created_at, after.id))]
        rows.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        return [copy.deepcopy(o) for o in rows[:limit]]

    def product_is_ordered(self, product_id: str) -> bool:
        return any(i.product_id == product_id for o in self._state.orders.values() for i in o.items)


class FakeDeliveryRepository:
    def __init__(self, state: FakeState) -> None:
        self._state = state

    def add(self, event: Event, consumer: str) -> None:
        if any(d.event_id == event.id and d.consumer == consumer for d in self._state.deliveries.values()):
            raise DuplicateKey("a unique key is already taken")
        self._state.last_delivery_id += 1
        delivery_id = self._state.last_delivery_id
        self._state.deliveries[delivery_id] = DeliveryRow(delivery_id, event.id, consumer, event.created_at)

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Delivery | None:
        row = next((d for _, d in sorted(self._state.deliveries.items())
                    if d.status == DeliveryStatus.PENDING and d.next_attempt_at <= now
                    and (d.lease_expires_at is None or d.lease_expires_at < now)), None)
        if row is None:
            return None
        row.lease_owner, row.lease_expires_at = owner, lease_until
        row.attempts += 1
        event = next(e for e in self._state.outbox if e.id == row.event_id)
        return Delivery(row.id, row.consumer, event, row.attempts)

    def done(self, delivery_id: int, at: datetime) -> None:
        row = self._state.deliveries.get(delivery_id)
        if row is not None:
            row.status, row.done_at = DeliveryStatus.DONE, at
            row.lease_owner = row.lease_expires_at = None

    def retry_later(self, delivery_id: int, at: datetime, error: str) -> None:
        row = self._state.deliveries.get(delivery_id)
        if row is not None:
            row.next_attempt_at, row.last_error = at, error[:200]
            row.lease_owner = row.lease_expires_at = None


class FakeWebhookRepository:
    def __init__(self, state: FakeState, events: NewEvents) -> None:
        self._state = state
        self._events = events

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.id in self._state.webhook_endpoints:
            raise DuplicateKey("a unique key is already taken")
        self._state.webhook_endpoints[endpoint.id] = _stored(endpoint)
        self._events.saw(endpoint)

    def get_endpoint(self, endpoint_id: str, for_update: bool = False) -> WebhookEndpoint | None:
        endpoint = self._state.webhook_endpoints.get(endpoint_id)
        return copy.deepcopy(endpoint) if endpoint else None

    def endpoints(self, enabled_only: bool = False) -> builtins.list[WebhookEndpoint]:
        found = [e for e in self._state.webhook_endpoints.values() if e.enabled or not enabled_only]
        return [copy.deepcopy(e) for e in sorted(found, key=lambda e: (e.created_at, e.id))]

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.id in self._state.webhook_endpoints:
            self._state.webhook_endpoints[endpoint.id] = _stored(endpoint)
        self._events.saw(endpoint)

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._state.webhook_endpoints.pop(endpoint_id, None)
        for delivery_id in [d.id for d in self._state.webhook_deliveries.values() if d.endpoint_id == endpoint_id]:
            del self._state.webhook_deliveries[delivery_id]

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        if delivery.id in self._state.webhook_deliveries or any(
                (d.endpoint_id, d.event_id) == (delivery.endpoint_id, delivery.event_id)
                for d in self._state.webhook_deliveries.values()):
            raise DuplicateKey("a unique key is already taken")
        self._state.webhook_deliveries[delivery.id] = _stored(delivery)

    def get_delivery(self, delivery_id: str, for_update: bool = False) -> WebhookDelivery | None:
        delivery = self._state.webhook_deliveries.get(delivery_id)
        return copy.deepcopy(delivery) if delivery else None

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        if delivery.id in self._state.webhook_deliveries:
            self._state.webhook_deliveries[delivery.id] = _stored(delivery)
        self._events.saw(delivery)

    def count_by_status(self) -> dict[str, int]:
        return dict(Counter(d.status for d in self._state.webhook_deliveries.values()))

    def deliveries(self, endpoint_id: str, *, status: str | None, limit: int,
                   after: PageCursor | None) -> builtins.list[WebhookDelivery]:
        found = [d for d in self._state.webhook_deliveries.values()
                 if d.endpoint_id == endpoint_id and (status is None or d.status == status)
                 and (after is None or (d.created_at, d.id) < (after.created_at, after.id))]
        found.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        return [copy.deepcopy(d) for d in found[:limit]]

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime, limit: int,
                  in_flight: dict[str, int], per_endpoint: int) -> builtins.list[Claimed]:
        enabled = {e.id for e in self._state.webhook_endpoints.values() if e.enabled}
        due = sorted((d for d in self._state.webhook_deliveries.values()
                      if d.status in ("pending", "failed") and d.next_attempt_at is not None
                      and d.next_attempt_at <= now and d.endpoint_id in enabled
                      and (d.lease_expires_at is None or d.lease_expires_at < now)),
                     key=lambda d: (d.next_attempt_at or now, d.id))
        taken: dict[str, int] = dict(in_flight)
        claimed: list[Claimed] = []
        for d in due:
            if len(claimed) >= limit:
                break
            if taken.get(d.endpoint_id, 0) >= per_endpoint:
                continue
            taken[d.endpoint_id] = taken.get(d.endpoint_id, 0) + 1
            d.lease_owner, d.lease_expires_at = owner, lease_until
            d.attempts += 1
            endpoint = self._state.webhook_endpoints[d.endpoint_id]
            event = next(e for e in self._state.outbox if e.id == d.event_id)
            claimed.append(Claimed(copy.deepcopy(d), endpoint.url, endpoint.secret, event))
        return claimed


class FakeUnitOfWork:
    """One transaction over a FakeUnitOfWorkFactory's committed state."""

    # The ports' types, not the fakes': a fake that drifts from its protocol fails the type check.
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

    def __init__(self, factory: FakeUnitOfWorkFactory, read_only: bool = False) -> None:
        self._factory = factory
        self.read_only = read_only
        self._working: FakeState | None = None
        self._added_keys: set[tuple[str, str]] = set()
        self._added_events: set[tuple[str, str]] = set()
        self._new_events = NewEvents()
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        self._working = copy.deepcopy(self._factory.state)
        self._added_keys = set()
        self._added_events = set()
        self._new_events = NewEvents()
        self.users = FakeUserRepository(self._working)
        self.payments = FakePaymentRepository(self._working, self._new_events)
        self.idempotency = FakeIdempotencyRepository(self._working, self._added_keys)
        self.outbox = FakeOutboxRepository(self._working)
        self.products = FakeProductRepository(self._working)
        self.carts = FakeCartRepository(self._working)
        self.orders = FakeOrderRepository(self._working, self._new_events)
        self.deliveries = FakeDeliveryRepository(self._working)
        self.attempts = FakeAttemptRepository(self._working)
        self.provider_events = FakeProviderEventRepository(self._working, self._added_events)
        self.refunds = FakeRefundRepository(self._working, self._new_events)
        self.webhooks = FakeWebhookRepository(self._working, self._new_events)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._working = None  # whatever was not committed is gone

    def publish(self, event: Event) -> None:
        self._new_events.publish(event)

    def commit(self) -> None:
        assert self._working is not None, "commit() outside the `with` block"
        self._new_events.write(self.outbox, self.deliveries, self.webhooks)  # as storage does, before it commits
        if self._factory.before_commit is not None:
            hook, self._factory.before_commit = self._factory.before_commit, None
            hook()
        committed = self._factory.state
        # A key that another transaction committed since we entered fails this commit, like a unique index.
        if any(k in committed.idempotency for k in self._added_keys):
            raise DuplicateKey("this idempotency key is already taken")
        if any(tuple(k[1].split(":", 1)) in committed.provider_events for k in self._added_events):
            raise DuplicateKey("this provider event is stored already")
        self._factory.state = copy.deepcopy(self._working)
        self._added_keys.clear()
        self._factory.commits += 1
        self.committed = True


class FakeUnitOfWorkFactory:
    """Makes FakeUnitOfWorks over one shared in-memory state; `state` is what has been committed."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.commits = 0
        # Runs once, just before the next commit: a way to let a "concurrent" transaction win a race.
        self.before_commit: Callable[[], None] | None = None

    def __call__(self, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, read_only)

    # --- what a test reads ---------------------------------------------------------------
    def payment(self, payment_id: str) -> Payment:
        return copy.deepcopy(self.state.payments[payment_id])

    def payments(self) -> list[Payment]:
        return [copy.deepcopy(p) for p in self.state.payments.values()]

    def events(self, aggregate_id: str | None = None) -> list[Event]:
        return [e for e in self.state.outbox if aggregate_id is None or e.aggregate_id == aggregate_id]

    def event_types(self, aggregate_id: str | None = None) -> list[str]:
        return [e.type for e in self.events(aggregate_id)]

    def deliveries(self) -> list[DeliveryRow]:
        return [copy.deepcopy(d) for _, d in sorted(self.state.deliveries.items())]

    def put_user(self, user: User) -> User:
        self.state.users[user.id] = user
        return user

    def put_payment(self, payment: Payment) -> Payment:
        self.state.payments[payment.id] = copy.deepcopy(payment)
        return payment


class FakeHasher:
    """hash(pw) = "hashed:" + pw; counts the checks so a test can see equal work for unknown accounts."""

    def __init__(self) -> None:
        self.verify_calls = 0
        self.dummy_verify_calls = 0

    def hash(self, password: str) -> str:
        return "hashed:" + password

    def verify(self, password: str, hashed: str) -> bool:
        self.verify_calls += 1
        return hashed == "hashed:" + password

    def dummy_verify(self, password: str) -> None:
        self.dummy_verify_calls += 1


class FakeLedger:
    """The mock provider's books, in memory (implements domain.providers.MockLedger)."""

    def __init__(self) -> None:
        self.charges: dict[str, LedgerCharge] = {}
        self.attempts: Counter[str] = Counter()
        self.refunds_by_key: dict[str, LedgerRefund] = {}

    def find(self, key: str) -> LedgerCharge | None:
        return self.charges.get(key)

    def record(self, charge: LedgerCharge) -> LedgerCharge:
        return self.charges.setdefault(charge.payment_id, charge)

    def next_attempt(self, key: str) -> int:
        self.attempts[key] += 1
        return self.attempts[key]

    def list(self, payment_id: str | None, limit: int) -> list[LedgerCharge]:
        charges = [c for c in self.charges.values() if payment_id is None or c.payment_id == payment_id]
        return sorted(charges, key=lambda c: c.charged_at, reverse=True)[:limit]

    def find_refund(self, key: str) -> LedgerRefund | None:
        return self.refunds_by_key.get(key)

    def record_refund(self, key: str, refund: LedgerRefund) -> LedgerRefund:
        return self.refunds_by_key.setdefault(key, refund)

    def refunds(self, payment_id: str | None, limit: int) -> builtins.list[LedgerRefund]:
        made = [r for r in self.refunds_by_key.values() if payment_id is None or r.payment_id == payment_id]
        return sorted(made, key=lambda r: r.refunded_at, reverse=True)[:limit]


class FakeCircuit:
    """A circuit breaker on the fake clock (implements domain.ports.Circuit): opens after `fail_max`
    unhealthy calls in a row, reads half-open `reset_seconds` later, closes on a healthy probe."""

    def __init__(self, clock: FakeClock, fail_max: int = 5, reset_seconds: float = 30.0) -> None:
        self.clock = clock
        self.fail_max = fail_max
        self.reset_seconds = reset_seconds
        self.failures = 0
        self.opened_at: datetime | None = None
        self.error: tuple[str, str, datetime] | None = None
        self.calls = 0

    def state(self) -> CircuitState:
        if self.opened_at is None:
            return CircuitState.CLOSED
        if (self.clock.now() - self.opened_at).total_seconds() >= self.reset_seconds:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def begin(self) -> object | None:
        if self.state() is CircuitState.OPEN:
            return None
        self.calls += 1
        return object()

    def last_error(self) -> tuple[str, str, datetime] | None:
        return self.error

    def probe_at(self) -> datetime | None:
        if self.opened_at is None:
            return None
        return self.opened_at + timedelta(seconds=self.reset_seconds)

    def end(self, ticket: object, result: CallResult) -> None:
        if not result.healthy:
            self.error = (result.code or "", result.message or "", self.clock.now())
        if result.healthy:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.state() is CircuitState.HALF_OPEN or self.failures >= self.fail_max:
            self.opened_at = self.clock.now()


class InstantSleep:
    """An async sleep that returns at once: it records the delay and moves the fake clock by it.

    Before moving the clock it yields to the event loop a few times, so tasks that are ready run
    at the current fake time, as they would while a real sleep is pending.
    """

    def __init__(self, clock: FakeClock, settle_rounds: int = 5) -> None:
        self.clock = clock
        self.settle_rounds = settle_rounds
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        for _ in range(self.settle_rounds):
            await asyncio.sleep(0)
        self.clock.advance(seconds)
        await asyncio.sleep(0)



async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking step directly, on the event loop: no thread, deterministic order."""
    return fn(*args)


# --- builders -----------------------------------------------------------------------------
T0 = FakeClock().now()


def make_user(*, role: str = "customer", email: str | None = None, user_id: str | None = None,
              password: str = "correct-horse", active: bool = True, at: datetime = T0) -> User:
    user_id = user_id or f"usr_{role}_{email or 'x'}"
    return User(id=user_id, email=email or f"{user_id}@example.com", name=role.title(), role=role,
                password_hash="hashed:" + password, active=active, created_at=at, updated_at=at)


def make_payment(*, status: str = "pending", payment_id: str = "pay_1", customer_id: str = "usr_1",
                 at: datetime = T0, **fields: Any) -> Payment:
    return Payment(id=payment_id, customer_id=customer_id, amount=1000, currency="USD", description="test",
                   payment_method="credit_card", status=PaymentStatus(status), created_at=at, updated_at=at, **fields)


@dataclass
class FakeShop:
    """The storefront's services wired to fakes, as app/bootstrap.py wires them to storage."""

    uow: FakeUnitOfWorkFactory
    clock: FakeClock
    users: UserService
    catalog: CatalogService
    cart: CartService
    payments: PaymentService
    orders: OrderService
    deliveries: DeliveryWorker


def make_shop(*, demo: bool = False, clock: FakeClock | None = None) -> FakeShop:
    """A shop on fakes: fake unit of work, fake clock, the mock provider on a fake ledger; with `demo`,
    the demo users and catalogue of a first start (storage/seed.py: prod_001..prod_014, in USD)."""
    clock = clock or FakeClock(T0)
    uow = FakeUnitOfWorkFactory()
    provider = MockProvider(FakeLedger(), clock, MockConfig(min_latency_ms=0, max_latency_ms=0),
                            rng=random.Random(1), sleep=InstantSleep(clock), run_sync=run_sync)
    payments = PaymentService(uow, [provider], clock)
    orders = OrderService(uow, payments, clock)
    shop = FakeShop(uow, clock, UserService(uow, FakeHasher(), clock), CatalogService(uow, clock),
                    CartService(uow, clock), payments, orders,
                    DeliveryWorker(uow, {"orders": orders.on_payment_event}, clock, "worker-1"))
    if demo:
        seed_demo_users(shop.users)
        seed_demo_catalog(shop.catalog)
    return shop
