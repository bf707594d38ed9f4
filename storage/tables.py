"""The database tables. Times are aware UTC datetimes (SQLModel stores them as UTC)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.model.statuses import DeliveryStatus


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=40)
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    active: bool = True
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime
    updated_at: datetime


class PaymentRow(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_due", "status", "next_attempt_at"),
        Index("ix_payments_customer_created", "customer_id", "created_at"),
        Index("ix_payments_created", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(max_length=40)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    description: str = Field(default="", max_length=500)
    payment_method: str = Field(max_length=20)
    status: str = Field(max_length=20)
    card_brand: str | None = Field(default=None, max_length=20)
    card_last4: str | None = Field(default=None, max_length=4)
    # {provider name: that provider's token}, as JSON: tokens only, never a card number.
    card_tokens: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    idempotency_key: str | None = Field(default=None, max_length=255)
    retry_count: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    provider: str = Field(default="mock", max_length=40)
    transaction_id: str | None = Field(default=None, max_length=100)
    failure_code: str | None = Field(default=None, max_length=60)
    failure_message: str | None = Field(default=None, max_length=500)
    order_id: str | None = Field(default=None, max_length=40, index=True)
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None
    needs_lookup: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    stay_until: datetime | None = None  # charged again only at `provider` until then (a lost call may land)
    refunded_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    request_id: str | None = Field(default=None, max_length=128)  # the submitting request's (docs/logging.md)
    traceparent: str | None = Field(default=None, max_length=64)  # its W3C trace context, when traced


class RefundRow(SQLModel, table=True):
    """A refund of a completed payment: queued, drained through the payment's provider, like a charge."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=40)
    payment_id: str = Field(max_length=40, index=True)
    customer_id: str = Field(max_length=40)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=40)
    status: str = Field(max_length=20)
    restock: bool = False
    provider: str = Field(max_length=40)
    transaction_id: str | None = Field(default=None, max_length=100)
    failure_code: str | None = Field(default=None, max_length=60)
    failure_message: str | None = Field(default=None, max_length=500)
    idempotency_key: str | None = Field(default=None, max_length=255)
    retry_count: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    needs_lookup: bool = False
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None
    stay_until: datetime | None = None  # a lost refund call may still land until then
    created_at: datetime
    updated_at: datetime


class MockRefundRow(SQLModel, table=True):
    """The mock provider's refund ledger: one row per real refund, keyed by the idempotency key."""

    __tablename__ = "mock_refunds"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=255)
    payment_id: str = Field(max_length=40, index=True)
    refund_id: str = Field(max_length=40)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    provider_refund_id: str = Field(max_length=100)
    refunded_at: datetime = Field(index=True)


class PaymentAttemptRow(SQLModel, table=True):
    """One provider call made for a payment (domain.model.providers.Attempt)."""

    __tablename__ = "payment_attempts"
    __table_args__ = (UniqueConstraint("payment_id", "number"), Index("ix_payment_attempts_started", "started_at"))

    id: int | None = Field(default=None, primary_key=True)
    payment_id: str = Field(max_length=40)
    number: int
    kind: str = Field(max_length=20)
    provider: str = Field(max_length=40)
    started_at: datetime
    latency_ms: int | None = None
    outcome: str | None = Field(default=None, max_length=20)  # None while the call is in flight
    code: str | None = Field(default=None, max_length=60)
    transaction_id: str | None = Field(default=None, max_length=100)


class CircuitRow(SQLModel, table=True):
    """One provider's circuit breaker, shared by every process (pybreaker's storage, storage/circuits.py)."""

    __tablename__ = "circuits"

    name: str = Field(primary_key=True, max_length=40)
    state: str = Field(default="closed", max_length=20)
    failures: int = 0
    successes: int = 0
    opened_at: datetime | None = None
    last_error_code: str | None = Field(default=None, max_length=60)
    last_error_message: str | None = Field(default=None, max_length=500)
    last_error_at: datetime | None = None


class ProviderEventRow(SQLModel, table=True):
    """An inbound provider webhook event, stored once by its id (duplicates change nothing)."""

    __tablename__ = "provider_events"

    provider: str = Field(primary_key=True, max_length=40)
    event_id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=80)
    received_at: datetime
    outcome: str = Field(max_length=40)  # what it changed: settled, ignored, ...


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    scope: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    resource_type: str = Field(max_length=20)
    resource_id: str = Field(max_length=40)
    created_at: datetime


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"

    seq: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    id: str = Field(unique=True, max_length=40)
    type: str = Field(max_length=40)
    aggregate_id: str | None = Field(default=None, max_length=40, index=True)
    customer_id: str | None = Field(default=None, max_length=40)
    data: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class RateLimiterRow(SQLModel, table=True):
    __tablename__ = "rate_limiter"

    name: str = Field(primary_key=True, max_length=40)
    tokens_micro: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class CustomerLimitRow(SQLModel, table=True):
    """One user's submission bucket (per-customer API limits); storage/customer_limits.py updates it."""

    __tablename__ = "customer_limits"

    user_id: str = Field(primary_key=True, max_length=40)
    tokens_micro: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class MockChargeRow(SQLModel, table=True):
    """The mock provider's ledger: one row per real charge, keyed by the idempotency key."""

    __tablename__ = "mock_charges"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=255)
    payment_id: str = Field(max_length=40, index=True)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    transaction_id: str = Field(max_length=100)
    charged_at: datetime = Field(index=True)


class MockAttemptRow(SQLModel, table=True):
    __tablename__ = "mock_attempts"

    idempotency_key: str = Field(primary_key=True, max_length=255)
    attempts: int = 0


class ProductRow(SQLModel, table=True):
    __tablename__ = "products"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    unit_price_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    category: str = Field(max_length=40, index=True)
    image_url: str | None = Field(default=None, max_length=500)
    metadata_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    stock: int = 0
    active: bool = True
    created_at: datetime
    updated_at: datetime


class CartItemRow(SQLModel, table=True):
    __tablename__ = "cart_items"

    customer_id: str = Field(primary_key=True, max_length=40)
    product_id: str = Field(primary_key=True, max_length=40)
    quantity: int
    added_at: datetime


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_created", "customer_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(max_length=40)
    status: str = Field(max_length=20)
    total_amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    payment_id: str | None = Field(default=None, max_length=40)
    description: str = Field(default="", max_length=500)
    created_at: datetime
    updated_at: datetime


class OrderItemRow(SQLModel, table=True):
    __tablename__ = "order_items"

    order_id: str = Field(primary_key=True, max_length=40)
    position: int = Field(primary_key=True)
    product_id: str = Field(max_length=40, index=True)
    name: str = Field(max_length=120)
    quantity: int
    unit_price_minor: int = Field(sa_column=Column(BigInteger, nullable=False))


class DeliveryRow(SQLModel, table=True):
    """One event owed to one consumer; claimed with a lease and retried until acknowledged."""

    __tablename__ = "event_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "consumer"), Index("ix_deliveries_due", "status", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=40)
    consumer: str = Field(max_length=40)
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=200)
    done_at: datetime | None = None


class LoginFailureRow(SQLModel, table=True):
    """One failed sign-in for one key (an email or a client address), shared by every process."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"), Index("ix_login_failures_at", "at"))

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    at: datetime


class HeartbeatRow(SQLModel, table=True):
    """One row per process, written by /health: proof that the database still takes writes."""

    __tablename__ = "heartbeats"

    owner: str = Field(primary_key=True, max_length=80)
    at: datetime


class WebhookEndpointRow(SQLModel, table=True):
    """A merchant's endpoint that public events are posted to (domain.model.webhooks.WebhookEndpoint)."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(primary_key=True, max_length=40)
    url: str = Field(max_length=2048)
    event_types: str = Field(sa_column=Column(Text, nullable=False))  # a JSON list of types, or ["*"]
    description: str = Field(default="", max_length=500)
    status: str = Field(max_length=20)
    secret: str = Field(max_length=100)
    dead_in_a_row: int = 0
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime
    updated_at: datetime


class WebhookDeliveryRow(SQLModel, table=True):
    """One public event owed to one endpoint: claimed with a lease, retried on the schedule."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_webhook_deliveries_log", "endpoint_id", "created_at", "id"))

    id: str = Field(primary_key=True, max_length=40)
    endpoint_id: str = Field(max_length=40)
    event_id: str = Field(max_length=40)
    event_type: str = Field(max_length=60)
    status: str = Field(max_length=20)
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None
