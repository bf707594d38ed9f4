"""The domain's error hierarchy; the edges translate these to HTTP statuses or UI messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[FieldError] = details or []


class ValidationFailed(DomainError):
    code = "validation_error"

    @classmethod
    def on(cls, field_name: str, message: str) -> ValidationFailed:
        return cls(f"{field_name}: {message}", [FieldError(field_name, message)])

    @classmethod
    def of(cls, errors: list[FieldError]) -> ValidationFailed:
        """One error naming every field at fault; the message sums up the first three."""
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
        return cls(summary or "the request is invalid", list(errors))


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class InsufficientStock(Conflict):
    code = "conflict"


class EndpointDisabled(Conflict):
    """Nothing is sent to a disabled webhook endpoint, a retry on request included."""

    code = "endpoint_disabled"


class PaymentNotRefundable(Conflict):
    """Only a completed payment can be refunded."""

    code = "payment_not_refundable"


class RefundExceedsPayment(DomainError):
    """The refunds of a payment (pending and succeeded) would add up to more than its amount."""

    code = "refund_exceeds_payment"


class CartChanged(Conflict):
    """The cart changed (or was checked out) between reading it and ordering it."""

    code = "cart_changed"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"


class InvalidCredentials(DomainError):
    code = "invalid_credentials"


@dataclass
class RateLimited(DomainError):
    retry_after_seconds: int = 1
    message: str = "too many attempts, try again later"
    details: list[FieldError] = field(default_factory=list)

    code = "rate_limited"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)


class DuplicateKey(Conflict):
    """Storage found a unique key taken (often by a concurrent transaction)."""


def every_field(*checks: Callable[[], Any]) -> tuple[Any, ...]:
    """Run every check and return their results in order; when some fail, raise one ValidationFailed
    naming every field at fault (not only the first), so a form can mark them all at once."""
    results: list[Any] = []
    errors: list[FieldError] = []
    for check in checks:
        try:
            results.append(check())
        except ValidationFailed as e:
            errors.extend(e.details)
            results.append(None)
    if errors:
        raise ValidationFailed.of(errors)
    return tuple(results)
