"""Ports: what the domain needs from the outside world. Storage and app implement them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from domain.events import Event

if TYPE_CHECKING:
    from domain.catalog import Product
    from domain.deliveries import Delivery
    from domain.orders import Order
from domain.payments import Payment
from domain.users import User


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, hashed: str) -> bool: ...

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one verify, for unknown accounts."""
        ...


class UserRepository(Protocol):
    def get(self, user_id: str) -> User | None: ...

    def get_by_email(self, email: str) -> User | None: ...

    def list(self) -> list[User]: ...

    def add(self, user: User) -> None: ...

    def update(self, user: User) -> None: ...

    def delete(self, user_id: str) -> None: ...


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str  # the calling user's id
    key: str
    fingerprint: str
    resource_type: str
    resource_id: str
    created_at: datetime


class IdempotencyRepository(Protocol):
    def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None:
        """Insert; a concurrent insert of the same (scope, key) makes the commit fail."""
        ...


@dataclass(frozen=True)
class PageCursor:
    created_at: datetime
    id: str


class PaymentRepository(Protocol):
    def get(self, payment_id: str, for_update: bool = False) -> Payment | None: ...

    def add(self, payment: Payment) -> None: ...

    def update(self, payment: Payment) -> None: ...

    def list(self, *, customer_id: str | None, status: str | None, limit: int,
             after: PageCursor | None) -> list[Payment]: ...

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Payment | None:
        """Lease one due payment: pending, retrying past its time, or one whose lease expired."""
        ...

    def renew_lease(self, payment_id: str, owner: str, lease_until: datetime) -> bool: ...

    def release(self, payment_id: str, owner: str) -> None: ...

    def count_by_status(self) -> dict[str, int]: ...

    def recent_failures(self, limit: int) -> list[Payment]: ...

    def stats(self, customer_id: str | None, since: datetime) -> tuple[dict[str, int], dict[str, int]]: ...

    def finished_since(self, since: datetime) -> list[tuple[datetime, str]]: ...


class OutboxRepository(Protocol):
    def add(self, event: Event) -> None: ...

    def after(self, seq: int, limit: int) -> list[Event]: ...

    def for_aggregate(self, aggregate_id: str) -> list[Event]: ...

    def recent(self, customer_id: str | None, limit: int, prefixes: tuple[str, ...] = ...) -> list[Event]: ...

    def seq_of(self, event_id: str) -> int | None: ...

    def last_seq(self) -> int: ...


class ProductRepository(Protocol):
    def get(self, product_id: str) -> Product | None: ...

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

    def list(self, *, customer_id: str | None, limit: int) -> list[Order]: ...

    def product_is_ordered(self, product_id: str) -> bool: ...


class DeliveryRepository(Protocol):
    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime) -> Delivery | None: ...

    def done(self, delivery_id: int, at: datetime) -> None: ...

    def retry_later(self, delivery_id: int, at: datetime, error: str) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, read_only: bool = False) -> UnitOfWork:
        """A new transaction; `read_only` lets storage skip the write lock."""
        ...


class UnitOfWork(Protocol):
    """A transaction: rolls back unless commit() was called inside the `with` block."""

    users: UserRepository
    payments: PaymentRepository
    idempotency: IdempotencyRepository
    outbox: OutboxRepository
    products: ProductRepository
    carts: CartRepository
    orders: OrderRepository
    deliveries: DeliveryRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: Any) -> None: ...

    def commit(self) -> None: ...
