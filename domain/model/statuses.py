"""The statuses of the gateway's state machines: one vocabulary for the domain, storage and the UI.

StrEnums, so a status is stored, serialised and compared as its plain string value.
"""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    PENDING = "pending"
    """Stored and queued; no provider call yet."""
    PROCESSING = "processing"
    """Claimed by a process (with a lease) that is waiting for a token or calling the provider."""
    RETRYING = "retrying"
    """A retryable error; the next attempt is due at `next_attempt_at`."""
    COMPLETED = "completed"
    """Charged. Terminal."""
    FAILED = "failed"
    """Declined, or out of retries. Terminal."""

    @property
    def terminal(self) -> bool:
        return self in (PaymentStatus.COMPLETED, PaymentStatus.FAILED)


QUEUED = (PaymentStatus.PENDING, PaymentStatus.RETRYING, PaymentStatus.PROCESSING)
"""The statuses of payments still in the queue."""


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    """Created with its stock reserved; its payment has not finished."""
    PAID = "paid"
    """Its payment completed."""
    PAYMENT_FAILED = "payment_failed"
    """Its payment failed; the reserved stock was given back. Terminal."""
    REFUNDED = "refunded"
    """Its payment was refunded in full (its stock came back if a refund asked for it). Terminal."""


class RefundStatus(StrEnum):
    PENDING = "pending"
    """Queued, or in flight at the provider (a lease says which process has it)."""
    SUCCEEDED = "succeeded"
    """The provider refunded it. Terminal."""
    FAILED = "failed"
    """The provider refused, or it ran out of retries. Terminal."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Due (or waiting for its next attempt) for its consumer."""
    DONE = "done"
    """Handled and acknowledged by its consumer."""


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    """Owed every event it subscribes to; its deliveries are sent."""
    DISABLED = "disabled"
    """Owed nothing new and sent nothing; by an admin, or after 10 deliveries in a row ended dead."""


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"
    """Not tried yet (or sent again on request): due at `next_attempt_at`."""
    DELIVERED = "delivered"
    """The endpoint answered 2xx."""
    FAILED = "failed"
    """The last try failed; the next is due at `next_attempt_at` (the retry schedule)."""
    DEAD = "dead"
    """Every try of the schedule failed; only a retry on request sends it again."""
