"""The refund: its request, its state machine (pending → succeeded | failed) and its events.

A refund is a provider call made for a completed payment. It is queued and drained like a payment:
through its provider's token bucket and circuit, the retry policy, and the rule that an outcome that
is not known is looked up before the call is made again. Its status stays `pending` while it is in
flight; `needs_lookup` says that a call may have refunded and must be asked about first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.clock import iso
from domain.model.errors import FieldError, IllegalTransition, ValidationFailed
from domain.model.events import Event
from domain.model.money import MAX_AMOUNT_MINOR
from domain.model.retry import RetryPolicy
from domain.model.statuses import RefundStatus

REASONS = ("requested_by_customer", "duplicate", "fraudulent", "other")


@dataclass(frozen=True)
class RefundRequest:
    """A validated refund submission: the amount (None: what is left to refund), why, and whether an
    order's stock comes back once its payment is refunded in full."""

    amount: int | None
    reason: str
    restock: bool

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> RefundRequest:
        errors: list[FieldError] = []
        amount = raw.get("amount")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)
                                   or not 1 <= amount <= MAX_AMOUNT_MINOR):
            errors.append(FieldError("amount", f"must be an integer from 1 to {MAX_AMOUNT_MINOR:,} minor units"))
        reason = raw.get("reason", "requested_by_customer")
        if reason not in REASONS:
            errors.append(FieldError("reason", f"must be one of {', '.join(REASONS)}"))
        restock = raw.get("restock", False)
        if not isinstance(restock, bool):
            errors.append(FieldError("restock", "must be true or false"))
        if errors:
            raise ValidationFailed.of(errors)
        return cls(amount, str(reason), bool(restock))

    def fingerprint(self, payment_id: str) -> str:
        """A digest of what the request asks for, to tell a replay from a reused key."""
        body = [payment_id, self.amount, self.reason, self.restock]
        return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Refund:
    id: str
    payment_id: str
    customer_id: str  # the payment's customer: who sees the refund's events
    amount: int
    currency: str
    reason: str
    status: RefundStatus
    created_at: datetime
    updated_at: datetime
    provider: str
    restock: bool = False
    transaction_id: str | None = None  # the provider's refund id
    failure_code: str | None = None
    failure_message: str | None = None
    idempotency_key: str | None = None
    retry_count: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    needs_lookup: bool = False
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    # A refund call whose answer is lost may still reach the provider until then (set at each call).
    stay_until: datetime | None = None
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def terminal(self) -> bool:
        return self.status is not RefundStatus.PENDING

    def _emit(self, event_type: str, now: datetime) -> None:
        # The payment's audit trail shows its refunds: the events are filed under the payment.
        self.events.append(Event(event_type, self.public(), now, customer_id=self.customer_id,
                                 aggregate_id=self.payment_id))

    def _pending(self) -> None:
        if self.status is not RefundStatus.PENDING:
            raise IllegalTransition(f"refund {self.id} is {self.status}")

    def _release(self) -> None:
        self.lease_owner = None
        self.lease_expires_at = None

    def record_created(self, now: datetime) -> None:
        self._emit("refund.created", now)

    def start_call(self, now: datetime, may_land_until: datetime | None = None) -> None:
        """A refund call is about to go out: until its answer is stored, the outcome is unknown, and if
        its answer is lost, the call may still reach the provider until `may_land_until`."""
        self._pending()
        self.attempts += 1
        self.needs_lookup = True
        self.stay_until = may_land_until
        self.next_attempt_at = None
        self.updated_at = now

    def succeed(self, provider_refund_id: str, now: datetime) -> None:
        self._pending()
        self.status = RefundStatus.SUCCEEDED
        self.transaction_id = provider_refund_id
        self.needs_lookup = False
        self.failure_code = self.failure_message = None
        self.next_attempt_at = None
        self.updated_at = now
        self._release()
        self._emit("refund.succeeded", now)

    def fail(self, code: str, message: str, now: datetime) -> None:
        self._pending()
        if self.needs_lookup:
            raise IllegalTransition(f"refund {self.id} may have been made; look it up before failing it")
        self.status = RefundStatus.FAILED
        self.failure_code, self.failure_message = code, message
        self.next_attempt_at = None
        self.updated_at = now
        self._release()
        self._emit("refund.failed", now)

    def record_failure(self, code: str, message: str, retryable: bool, policy: RetryPolicy, now: datetime) -> None:
        """The provider answered and refunded nothing: retry after the backoff when allowed, else fail."""
        self.needs_lookup = False
        self.stay_until = None
        if retryable and policy.may_retry(self.retry_count):
            self._pending()
            self.retry_count += 1
            self.next_attempt_at = now + policy.delay(self.retry_count)
            self.failure_code, self.failure_message = code, message
            self.updated_at = now
            self._release()
        else:
            self.fail(code, message, now)

    def outcome_unknown(self, code: str, message: str, look_again_at: datetime, now: datetime) -> None:
        self._pending()
        self.needs_lookup = True
        self.failure_code, self.failure_message = code, message
        self.next_attempt_at = look_again_at
        self.updated_at = now
        self._release()

    def nothing_refunded(self, now: datetime) -> None:
        """A refund call marked as in flight was never sent: a new call is safe."""
        self.needs_lookup = False
        self.stay_until = None
        self.updated_at = now

    def look_up_now(self, now: datetime) -> None:
        """The provider hinted that this refund's unknown outcome is settled: ask it at once."""
        if not self.needs_lookup:
            raise IllegalTransition(f"refund {self.id} has no outcome to look up")
        self.next_attempt_at = now
        self.updated_at = now

    def lost_call_not_refunded(self, policy: RetryPolicy, now: datetime) -> None:
        """A lookup found no refund for a call whose answer was lost: that call failed, and spends a
        retry, so lost answers cannot loop forever. With no retry left, the refund fails only once a
        lookup made after the lost call can no longer land has found nothing (a refund failed while
        it lands would free its amount for a second refund)."""
        code, message = "provider_answer_lost", "the provider's answer was lost, and no refund was made"
        if not policy.may_retry(self.retry_count) and self.stay_until is not None and self.stay_until > now:
            self.outcome_unknown(code, message, self.stay_until, now)  # needs_lookup stays set
            return
        self.record_failure(code, message, True, policy, now)

    def wait(self, until: datetime, code: str, message: str, now: datetime) -> None:
        """The provider takes no calls now (its circuit is open): try again at `until`, no retry spent."""
        self._pending()
        self.next_attempt_at = until
        self.failure_code, self.failure_message = code, message
        self.updated_at = now
        self._release()

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "paymentId": self.payment_id,
            "amount": self.amount,
            "currency": self.currency,
            "reason": self.reason,
            "status": self.status,
            "restock": self.restock,
            "failureCode": self.failure_code,
            "failureMessage": self.failure_message,
            "idempotencyKey": self.idempotency_key,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }
