"""Ports: what the domain needs from the outside world. Storage and app implement them.

One class here is not a protocol: `NewEvents`, the part of every unit of work that must not differ
between storage and the fakes (which events reach the outbox, in what order, owed to whom), so that
both use this one.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, Protocol

from domain.clock import new_id
from domain.model.cards import CardInput
from domain.model.catalog import Product
from domain.model.deliveries import Delivery, subscribers
from domain.model.events import Event
from domain.model.idempotency import IdempotencyRecord
from domain.model.orders import Order
from domain.model.payments import PageCursor, Payment, PaymentRange, PaymentStats
from domain.model.providers import (
    Attempt,
    CallResult,
    CardToken,
    ChargeRequest,
    CircuitState,
    LedgerCharge,
    LedgerRefund,
    RefundRequest,
)
from domain.model.rate_limit import BucketConfig, Grant
from domain.model.refunds import Refund
from domain.model.users import User
from domain.model.webhooks import Claimed, SendResult, WebhookDelivery, WebhookEndpoint, is_public, owed


class RateLimiter(Protocol):
    config: BucketConfig

    def try_acquire(self) -> Grant:
        """Take one token if one is there; never blocks."""
        ...

    def give_back(self) -> None:
        """Return one granted token that was not used (its call was not sent), so it is not lost."""
        ...

    def available(self) -> float:
        """Tokens in the bucket now (for metrics)."""
        ...


class FailureStore(Protocol):
    """Where failed sign-ins are counted: memory for one process, the database for a fleet."""

    def failures(self, key: str, since: datetime) -> list[datetime]:
        """The key's failures after `since`, oldest first."""
        ...

    def add(self, keys: tuple[str, ...], at: datetime) -> None: ...

    def clear(self, key: str) -> None: ...

    def discard(self, key: str, at: datetime) -> None:
        """Forget the key's failure recorded at `at` (an attempt counted ahead that turned out fine)."""
        ...

    def prune(self, before: datetime) -> None:
        """Forget failures at or before `before`."""
        ...


class PaymentProvider(Protocol):
    """An adapter to one payment provider. Every method but `tokenize` is a call to the provider: the
    processor takes a token from this provider's bucket and asks its circuit breaker before each one.
    Adapters answer with a CallResult and do not raise for what the provider says; an exception out of
    a call is taken as an unknown outcome (the request may have left)."""

    name: str
    charges_without_card: bool  # whether a payment with no card at all may go here (the mock approves it)

    def owns_token(self, token: str) -> bool:
        """Whether a client-supplied `paymentMethodToken` is one of this provider's (Stripe: `pm_…`)."""
        ...

    def tokenize(self, card: CardInput) -> CardToken | None:
        """Exchange a card for this provider's token without a call (the mock), or None when making a
        token is a call (`create_token`). The number and CVC go no further than this."""
        ...

    async def create_token(self, card: CardInput) -> CallResult:
        """Make the card into a token by a call (Stripe's PaymentMethod); `card_token` holds it."""
        ...

    async def charge(self, request: ChargeRequest) -> CallResult:
        ...

    async def lookup(self, request: ChargeRequest) -> CallResult:
        """What became of an earlier charge with this request's idempotency key: APPROVED with its
        transaction id when a charge stands, DECLINED (code NOT_CHARGED) when none does, UNKNOWN when
        the provider could not tell."""
        ...

    async def refund(self, request: RefundRequest) -> CallResult:
        """Refund (part of) a charge; `transaction_id` of an APPROVED result is the provider's refund id."""
        ...

    async def lookup_refund(self, request: RefundRequest) -> CallResult:
        """What became of an earlier refund with this request's idempotency key: APPROVED with its id,
        DECLINED (code NOT_REFUNDED) when none stands, UNKNOWN when the provider could not tell."""
        ...

    async def open(self) -> None:
        """Get ready for calls (build clients) on this event loop, at start: not in a call's time,
        which lies between a token's grant and the provider's receipt."""
        ...

    async def aclose(self) -> None:
        """Close connections this adapter holds (on shutdown)."""
        ...


class Circuit(Protocol):
    """One provider's circuit breaker, shared by every process (its state is in the database)."""

    def state(self) -> CircuitState:
        """The state now, for routing and display; an open circuit whose timeout has passed reads half-open."""
        ...

    def begin(self) -> object | None:
        """Just before a call: a ticket to pass to `end`, or None when the circuit is open (no call)."""
        ...

    def last_error(self) -> tuple[str, str, datetime] | None:
        """The last failure that counted against the circuit: (code, message, when)."""
        ...

    def probe_at(self) -> datetime | None:
        """When an open circuit lets the next call through (as a probe); None when it is not open."""
        ...

    def end(self, ticket: object, result: CallResult) -> None:
        """After the call: healthy when the provider answered as a working service (approved or declined);
        otherwise the failure counts towards opening the circuit and becomes its last error."""
        ...


class RefundRepository(Protocol):
    def get(self, refund_id: str, for_update: bool = False) -> Refund | None: ...

    def add(self, refund: Refund) -> None: ...

    def update(self, refund: Refund) -> None: ...

    def for_payment(self, payment_id: str) -> builtins.list[Refund]:
        """Oldest first."""
        ...

    def committed_total(self, payment_id: str) -> int:
        """The sum of the payment's refunds that are pending or succeeded (what may not be refunded again)."""
        ...

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Refund | None:
        """Lease one pending refund that is due (new, past its retry or lookup time, or whose lease expired)."""
        ...

    def renew_lease(self, refund_id: str, owner: str, lease_until: datetime) -> bool: ...

    def release(self, refund_id: str, owner: str) -> None: ...


class ProviderEventRepository(Protocol):
    def add(self, provider: str, event_id: str, event_type: str, at: datetime, outcome: str) -> None:
        """Store an inbound provider event by its id; the same id twice fails the commit (DuplicateKey)."""
        ...

    def seen(self, provider: str, event_id: str) -> bool: ...


class AttemptRepository(Protocol):
    def add(self, attempt: Attempt) -> Attempt:
        """Insert; returns the attempt with its id."""
        ...

    def finish(self, attempt: Attempt) -> None:
        """Write the start, outcome, latency, code and transaction id of an attempt added before its call."""
        ...

    def for_payment(self, payment_id: str) -> list[Attempt]:
        """Oldest first."""
        ...

    def remove(self, attempt: Attempt) -> None:
        """Take back the row of a call that was written ahead and then not sent."""
        ...

    def next_number(self, payment_id: str) -> int:
        """The payment's next attempt number, taken under the payment's row lock until the commit."""
        ...

    def recent(self, since: datetime, limit: int) -> list[Attempt]:
        """Finished attempts started after `since`, newest first (for latency figures)."""
        ...


class MockLedger(Protocol):
    """The mock provider's own books, shared by every gateway process."""

    def find(self, key: str) -> LedgerCharge | None:
        ...

    def record(self, charge: LedgerCharge) -> LedgerCharge:
        """Insert unless one exists for the key; return the one that stands."""
        ...

    def next_attempt(self, key: str) -> int:
        """Count one more attempt for the key and return the count (1 for the first)."""
        ...

    def list(self, payment_id: str | None, limit: int) -> list[LedgerCharge]:
        ...

    def find_refund(self, key: str) -> LedgerRefund | None: ...

    def record_refund(self, key: str, refund: LedgerRefund) -> LedgerRefund:
        """Insert unless one exists for the key; return the one that stands."""
        ...

    def refunds(self, payment_id: str | None, limit: int) -> builtins.list[LedgerRefund]:
        """Newest first."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, hashed: str) -> bool: ...

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one verify, for unknown accounts."""
        ...


class UserRepository(Protocol):
    def get(self, user_id: str, for_update: bool = False) -> User | None: ...

    def get_by_email(self, email: str) -> User | None: ...

    def list(self) -> list[User]: ...

    def add(self, user: User) -> None: ...

    def update(self, user: User) -> None: ...

    def delete(self, user_id: str) -> None: ...


class IdempotencyRepository(Protocol):
    def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None:
        """Insert; a concurrent insert of the same (scope, key) makes the commit fail."""
        ...


class PaymentRepository(Protocol):
    def get(self, payment_id: str, for_update: bool = False) -> Payment | None: ...

    def add(self, payment: Payment) -> None: ...

    def update(self, payment: Payment) -> None: ...

    def list(self, *, customer_id: str | None, status: str | None, limit: int,
             after: PageCursor | None, within: PaymentRange | None = None) -> list[Payment]: ...

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime,
                  unknown_only: bool = False) -> Payment | None:
        """Lease one due payment: pending, retrying past its time, or one whose lease expired (or was
        held for `owner`); oldest first. `unknown_only`: only those whose outcome must be looked up."""
        ...

    def renew_lease(self, payment_id: str, owner: str, lease_until: datetime) -> bool: ...

    def release(self, payment_id: str, owner: str) -> None: ...

    def count_by_status(self) -> dict[str, int]: ...

    def recent_failures(self, limit: int) -> builtins.list[Payment]: ...

    def stats(self, customer_id: str | None, since: datetime) -> PaymentStats: ...

    def finished_since(self, since: datetime) -> builtins.list[tuple[datetime, str]]: ...


class OutboxRepository(Protocol):
    def add(self, event: Event) -> None:
        """Append one event. Only a unit of work's commit calls this (see NewEvents): a use case hands
        its events to the unit of work, on an aggregate it saves or with `publish`."""
        ...

    def after(self, seq: int, limit: int) -> list[Event]: ...

    def for_aggregate(self, aggregate_id: str) -> list[Event]: ...

    def recent(self, customer_id: str | None, limit: int, prefixes: tuple[str, ...] = ...) -> list[Event]: ...

    def seq_of(self, event_id: str) -> int | None: ...

    def last_seq(self) -> int: ...


class ProductRepository(Protocol):
    def get(self, product_id: str, for_update: bool = False) -> Product | None: ...

    def list(self) -> list[Product]: ...

    def add(self, product: Product) -> None: ...

    def update(self, product: Product) -> None: ...

    def delete(self, product_id: str) -> None: ...

    def reserve(self, product_id: str, quantity: int) -> bool:
        """Take `quantity` from the stock atomically; False (and no change) when there is not enough."""
        ...

    def release(self, product_id: str, quantity: int) -> None: ...


class CartRepository(Protocol):
    def items(self, customer_id: str) -> list[tuple[str, int]]: ...

    def set(self, customer_id: str, product_id: str, quantity: int, now: datetime) -> None: ...

    def remove(self, customer_id: str, product_id: str) -> None: ...

    def clear(self, customer_id: str) -> None: ...

    def take(self, customer_id: str, lines: list[tuple[str, int]]) -> bool:
        """Empty the cart if it holds exactly `lines` (product, quantity); False, and no change, if not.

        Concurrent takes of one cart: at most one returns True (the others see its rows gone).
        """
        ...

    def remove_product_everywhere(self, product_id: str) -> None: ...


class OrderRepository(Protocol):
    def get(self, order_id: str, for_update: bool = False) -> Order | None: ...

    def add(self, order: Order) -> None: ...

    def update(self, order: Order) -> None: ...

    def list(self, *, customer_id: str | None, limit: int, status: str | None = None,
             after: PageCursor | None = None, created_from: datetime | None = None,
             created_before: datetime | None = None) -> list[Order]:
        """Newest first; created in [created_from, created_before), after the cursor; None keeps all."""
        ...

    def product_is_ordered(self, product_id: str) -> bool: ...


class DeliveryRepository(Protocol):
    def add(self, event: Event, consumer: str) -> None:
        """Owe `event` to `consumer`: one pending delivery, due at the event's time (see NewEvents)."""
        ...

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Delivery | None: ...

    def done(self, delivery_id: int, at: datetime) -> None: ...

    def retry_later(self, delivery_id: int, at: datetime, error: str) -> None: ...


class HostResolver(Protocol):
    """DNS: the addresses of a host name (an address given as the host is its own answer)."""

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address the host resolves to, as text; [] when it does not resolve. Blocks: callers
        run it off the event loop."""
        ...


class WebhookSender(Protocol):
    """Posts one signed delivery to a merchant's endpoint (app/webhook_sender.py: httpx, standardwebhooks)."""

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        """POST `body` signed with `secret` (headers webhook-id = `message_id`, webhook-timestamp = now,
        webhook-signature), to an address checked as domain.model.webhooks.refusal says, never following a
        redirect. Never raises for what the network or the endpoint does: a SendResult says it."""
        ...

    async def aclose(self) -> None: ...


class WebhookRepository(Protocol):
    """Merchant webhook endpoints and their deliveries (domain/model/webhooks.py)."""

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    def get_endpoint(self, endpoint_id: str, for_update: bool = False) -> WebhookEndpoint | None: ...

    def endpoints(self, enabled_only: bool = False) -> builtins.list[WebhookEndpoint]:
        """Oldest first."""
        ...

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    def delete_endpoint(self, endpoint_id: str) -> None:
        """The endpoint and its deliveries."""
        ...

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        """Owe an event to an endpoint; only NewEvents.write calls this, with the event."""
        ...

    def get_delivery(self, delivery_id: str, for_update: bool = False) -> WebhookDelivery | None: ...

    def update_delivery(self, delivery: WebhookDelivery) -> None: ...

    def count_by_status(self) -> dict[str, int]:
        """How many deliveries, of every endpoint, are in each status (for the fleet's metrics)."""
        ...

    def deliveries(self, endpoint_id: str, *, status: str | None, limit: int,
                   after: PageCursor | None) -> builtins.list[WebhookDelivery]:
        """The endpoint's deliveries, newest first (by creation, then id), after the cursor."""
        ...

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime, limit: int,
                  in_flight: dict[str, int], per_endpoint: int) -> builtins.list[Claimed]:
        """Lease up to `limit` due deliveries (pending or failed, whose next try has come, with no live
        lease) of enabled endpoints, the longest due first, each try counted; an endpoint with
        `in_flight[id]` already in flight here gets at most `per_endpoint` minus that. Concurrent
        claimers never get the same delivery (SKIP LOCKED on PostgreSQL, the write lock on SQLite)."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, read_only: bool = False) -> UnitOfWork:
        """A new transaction; `read_only` lets storage skip the write lock."""
        ...


class UnitOfWork(Protocol):
    """A transaction: rolls back unless commit() was called inside the `with` block.

    Every state change writes its domain events in its own transaction, one way: `commit()` writes the
    new events of each aggregate (payment, order) that was added or updated in the transaction, and
    those given to `publish` by changes that have no aggregate object (users, products, carts).
    """

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

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: Any) -> None: ...

    def publish(self, event: Event) -> None:
        """Write `event` to the outbox at commit: for a change that has no aggregate to carry it."""
        ...

    def commit(self) -> None:
        """Write the new events (NewEvents.write), then commit them with the changes."""
        ...


class Aggregate(Protocol):
    """An object that records its own domain events until a unit of work writes them."""

    events: list[Event]


class _Published:
    """The events given to `publish`: one more source of events, kept in order with the aggregates."""

    def __init__(self) -> None:
        self.events: list[Event] = []


class NewEvents:
    """The new events of one transaction, on their way to the outbox (cosmicpython's collect_new_events).

    Repositories call `saw` with each aggregate they add or update: a repository hands out copies, so
    an aggregate's state reaches storage only through add or update, and its events go with it (a copy
    that was changed but not saved writes neither). Events given to `publish` form one more source.
    At commit, `write` appends the events to the outbox, source by source in the order the sources were
    first seen and each source's in the order recorded, and owes each event to the consumers subscribed
    to it (domain.model.deliveries.SUBSCRIPTIONS), and each public event to the merchant webhook
    endpoints subscribed to it (domain.model.webhooks.owed), in the same transaction. Storage and the
    fake unit of work both commit through this, so they write alike.
    """

    def __init__(self) -> None:
        self._seen: list[Aggregate] = []
        self._published = _Published()

    def saw(self, aggregate: Aggregate) -> None:
        if all(seen is not aggregate for seen in self._seen):  # by identity: a dataclass may be unhashable
            self._seen.append(aggregate)

    def publish(self, event: Event) -> None:
        self._published.events.append(event)
        self.saw(self._published)

    def collect(self) -> list[Event]:
        """Take the new events out of every source seen since the last collect, in order."""
        new: list[Event] = []
        for source in self._seen:
            new.extend(source.events)
            source.events.clear()
        self._seen.clear()
        return new

    def write(self, outbox: OutboxRepository, deliveries: DeliveryRepository, webhooks: WebhookRepository) -> int:
        """Write the new events with their deliveries; how many events were written."""
        endpoints: list[WebhookEndpoint] | None = None  # read once, at the first public event
        events = self.collect()
        for event in events:
            outbox.add(event)
            for consumer in subscribers(event):
                deliveries.add(event, consumer)
            if is_public(event.type):  # and one delivery per merchant endpoint subscribed to it
                if endpoints is None:
                    endpoints = webhooks.endpoints(enabled_only=True)
                for delivery in owed(event, endpoints, lambda: new_id("whd")):
                    webhooks.add_delivery(delivery)
        return len(events)
