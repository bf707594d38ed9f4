"""The payment: its fields, its state machine, and the validation of a submission."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from domain.clock import iso
from domain.model.cards import CardInput
from domain.model.errors import FieldError, IllegalTransition, ValidationFailed
from domain.model.events import Event
from domain.model.money import MAX_AMOUNT_MINOR, check_currency
from domain.model.retry import RetryPolicy
from domain.model.statuses import PaymentStatus

PAYMENT_METHODS = ("credit_card", "debit_card", "bank_transfer", "wallet")
TERMINAL = frozenset({PaymentStatus.COMPLETED, PaymentStatus.FAILED})
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.PROCESSING}),
    PaymentStatus.PROCESSING: frozenset({PaymentStatus.COMPLETED, PaymentStatus.FAILED, PaymentStatus.RETRYING}),
    PaymentStatus.RETRYING: frozenset({PaymentStatus.PROCESSING}),
    PaymentStatus.COMPLETED: frozenset(),
    PaymentStatus.FAILED: frozenset(),
}
MAX_DESCRIPTION = 500
MAX_IDEMPOTENCY_KEY = 255
MAX_TOKEN = 255


@dataclass(frozen=True)
class PaymentRequest:
    """A validated submission. The card, if any, is only in memory."""

    amount: int
    currency: str
    customer_id: str
    description: str
    payment_method: str
    card: CardInput | None = None
    order_id: str | None = None
    payment_method_token: str | None = None  # a provider's token for the card (Stripe Elements' pm_…)

    @classmethod
    def parse(cls, raw: dict[str, Any], *, customer_id: str, now: datetime) -> PaymentRequest:
        errors: list[FieldError] = []
        amount = raw.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_AMOUNT_MINOR:
            errors.append(FieldError("amount", f"must be an integer from 1 to {MAX_AMOUNT_MINOR:,} minor units"))
        currency = raw.get("currency")
        try:
            currency = check_currency(currency)
        except ValidationFailed as e:
            errors.extend(e.details)
        description = raw.get("description") or ""
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            errors.append(FieldError("description", f"must be text of at most {MAX_DESCRIPTION} characters"))
        method = raw.get("paymentMethod", "credit_card")
        if method not in PAYMENT_METHODS:
            errors.append(FieldError("paymentMethod", f"must be one of {', '.join(PAYMENT_METHODS)}"))
        card = None
        if raw.get("card") is not None:
            if not isinstance(raw["card"], dict):
                errors.append(FieldError("card", "must be an object"))
            else:
                try:
                    card = CardInput.parse(raw["card"], now)
                except ValidationFailed as e:
                    errors.extend(e.details)
        token = raw.get("paymentMethodToken")
        if token is not None:
            if not isinstance(token, str) or not 3 <= len(token) <= MAX_TOKEN or not token.isprintable():
                errors.append(FieldError("paymentMethodToken", f"must be a provider's token of at most {MAX_TOKEN} "
                                                               "characters"))
            elif raw.get("card") is not None:
                errors.append(FieldError("paymentMethodToken", "give either card or paymentMethodToken, not both"))
        if errors:
            raise ValidationFailed.of(errors)
        assert isinstance(amount, int) and isinstance(currency, str), "checked above"
        # No order id from the body: only OrderService ties a payment to an order.
        return cls(amount, currency, customer_id, description, method, card, payment_method_token=token)

    def fingerprint(self) -> str:
        """A digest of what the request asks for, to tell a replay from a reused key.

        The card enters only as brand, last 4 and expiry: a hash of a full card number
        would be guessable, so it is never computed.
        """
        card = None
        if self.card is not None:
            card = [self.card.brand, self.card.last4, self.card.exp_month, self.card.exp_year]
        body = [self.amount, self.currency, self.customer_id, self.description, self.payment_method, card,
                self.order_id, self.payment_method_token]
        return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def hold_name(owner: str) -> str:
    """The lease owner of a payment held for `owner`: a hold, not a claim, so `owner` may claim it."""
    return f"hold:{owner}"


def check_idempotency_key(key: object) -> str | None:
    if key is None or key == "":
        return None
    if not isinstance(key, str) or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ValidationFailed.on("idempotencyKey",
                                  f"must be printable text of at most {MAX_IDEMPOTENCY_KEY} characters")
    return key


@dataclass
class Payment:
    id: str
    customer_id: str
    amount: int
    currency: str
    description: str
    payment_method: str
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime
    card_brand: str | None = None
    card_last4: str | None = None
    # The card as each provider knows it: provider name -> that provider's token (never the number).
    card_tokens: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    retry_count: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    provider: str = "mock"
    transaction_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    order_id: str | None = None
    completed_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    # A call at `provider` may have charged (it timed out, lost its connection, or its process died
    # before the answer was stored): ask the provider before any other charge attempt.
    needs_lookup: bool = False
    # Until then, charge it again only at `provider`: a call lost there may still land late, and a call
    # there under the same idempotency key is safe, where a charge elsewhere would be a second charge.
    stay_until: datetime | None = None
    refunded_amount: int = 0  # the sum of its succeeded refunds, in minor units
    # The submitting request's id and W3C traceparent, so the drain (in any process) logs and traces
    # the payment as part of that request (domain/observability.py). Never in the public view.
    request_id: str | None = None
    traceparent: str | None = None
    # New events, not in the outbox yet: the unit of work writes them when it commits, if this
    # object was added or updated in it (domain.ports.NewEvents).
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    # --- state machine -------------------------------------------------------------------
    def _move(self, to: PaymentStatus, now: datetime) -> None:
        if to not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"payment {self.id} cannot go from {self.status} to {to}")
        self.status = to
        self.updated_at = now

    def _emit(self, event_type: str, now: datetime) -> None:
        self.events.append(Event(event_type, self.public(), now, customer_id=self.customer_id, aggregate_id=self.id))

    def record_created(self, now: datetime) -> None:
        self._emit("payment.created", now)

    def start_processing(self, now: datetime) -> None:
        self._move(PaymentStatus.PROCESSING, now)
        self.attempts += 1
        self.next_attempt_at = None
        self._emit("payment.processing", now)

    def start_charge(self, provider: str, now: datetime, may_land_until: datetime | None = None) -> None:
        """A charge call is about to go to `provider`: until its answer is stored, the outcome is
        unknown, and if its answer is lost, the call may still land there until `may_land_until`.
        Only a payment with no charge standing anywhere may go to a new provider."""
        if self.status != PaymentStatus.PROCESSING:
            raise IllegalTransition(f"payment {self.id} is {self.status}, not processing")
        if provider != self.provider and self.needs_lookup:
            raise IllegalTransition(f"payment {self.id}: the outcome at {self.provider} is not known yet")
        self.provider = provider
        self.needs_lookup = True
        self.stay_until = may_land_until
        self.updated_at = now

    def outcome_unknown(self, code: str, message: str, look_again_at: datetime, now: datetime) -> None:
        """The call's outcome is not known: stay processing, ask the provider at `look_again_at`."""
        if self.status != PaymentStatus.PROCESSING:
            raise IllegalTransition(f"payment {self.id} is {self.status}, not processing")
        self.needs_lookup = True
        self.failure_code, self.failure_message = code, message
        self.next_attempt_at = look_again_at
        self.updated_at = now
        self.lease_owner = None
        self.lease_expires_at = look_again_at  # claimable again (as an expired lease) from then on
        self._emit("payment.processing", now)

    def nothing_charged(self, now: datetime) -> None:
        """A charge call marked as in flight was never sent, or the provider said it failed: a new
        attempt (anywhere) is safe."""
        self.needs_lookup = False
        self.stay_until = None
        self.updated_at = now

    def lost_call_not_charged(self, code: str, message: str, policy: RetryPolicy, now: datetime) -> None:
        """A lookup found no charge for a call whose answer was lost (it timed out, lost its connection,
        or its process died): that call failed, with `code`. It spends a retry like any retryable
        failure, so a provider that keeps losing answers cannot hold a payment in a loop of charges and
        lookups; the retry is charged only at the same provider while the lost call may still land
        (`stay_until`). With no retry left, the payment fails only once a lookup made after that time
        has found nothing: until then it stays processing, to be looked up once more when the lost
        call can no longer land, since a payment failed while its charge lands would be charged."""
        if self.stays_at_provider(now) and not policy.may_retry(self.retry_count):
            self.outcome_unknown(code, message, self.stay_until or now, now)  # needs_lookup stays set
            return
        may_land_until = self.stay_until
        self.record_failure(code, message, True, policy, now)
        self.stay_until = may_land_until

    def stays_at_provider(self, now: datetime) -> bool:
        return self.stay_until is not None and self.stay_until > now

    def keep_token(self, provider: str, token: str, brand: str | None, last4: str | None) -> None:
        self.card_tokens = {**self.card_tokens, provider: token}
        if brand and not self.card_brand:
            self.card_brand = brand
        if last4 and not self.card_last4:
            self.card_last4 = last4

    def wait_for_provider(self, code: str, message: str, until: datetime, now: datetime) -> None:
        """No provider may take a call now (circuits open): wait, without spending a retry."""
        self._move(PaymentStatus.RETRYING, now)
        self.next_attempt_at = until
        self.failure_code, self.failure_message = code, message
        self._release()
        self._emit("payment.retry", now)

    def complete(self, transaction_id: str, now: datetime) -> None:
        self._move(PaymentStatus.COMPLETED, now)
        self.needs_lookup = False
        self.transaction_id = transaction_id
        self.failure_code = self.failure_message = None
        self.completed_at = now
        self._release()
        self._emit("payment.completed", now)

    def fail(self, code: str, message: str, now: datetime) -> None:
        if self.needs_lookup:
            raise IllegalTransition(f"payment {self.id} may have been charged; look it up before failing it")
        self._move(PaymentStatus.FAILED, now)
        self.failure_code, self.failure_message = code, message
        self._release()
        self._emit("payment.failed", now)

    def record_failure(self, code: str, message: str, retryable: bool, policy: RetryPolicy, now: datetime) -> None:
        """A failed provider call: retry after the backoff when allowed, else fail for good."""
        self.needs_lookup = False  # the provider answered: nothing was charged
        self.stay_until = None  # and nothing is in flight there
        if retryable and policy.may_retry(self.retry_count):
            self._move(PaymentStatus.RETRYING, now)
            self.retry_count += 1
            self.next_attempt_at = now + policy.delay(self.retry_count)
            self.failure_code, self.failure_message = code, message
            self._release()
            self._emit("payment.retry", now)
        else:
            self.fail(code, message, now)

    def _release(self) -> None:
        self.lease_owner = None
        self.lease_expires_at = None

    def hold(self, owner: str, until: datetime) -> None:
        """Keep the payment for `owner` until `until` (its card is only in that process's memory): no
        other process claims it before then, and `owner` may claim it at once (see hold_name)."""
        if self.terminal:
            raise IllegalTransition(f"payment {self.id} is {self.status}; nothing to hold")
        self.lease_owner, self.lease_expires_at = hold_name(owner), until

    @property
    def has_card(self) -> bool:
        """Whether the payment was made with a card (or a provider's token for one)."""
        return bool(self.card_last4 or self.card_tokens)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def public(self) -> dict[str, Any]:
        card = {"brand": self.card_brand, "last4": self.card_last4} if self.card_last4 else None
        return {
            "id": self.id,
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "customerId": self.customer_id,
            "description": self.description,
            "paymentMethod": self.payment_method,
            "card": card,
            "idempotencyKey": self.idempotency_key,
            "retryCount": self.retry_count,
            "nextAttemptAt": iso(self.next_attempt_at),
            "provider": self.provider,
            "transactionId": self.transaction_id,
            "failureCode": self.failure_code,
            "failureMessage": self.failure_message,
            "orderId": self.order_id,
            "refundedAmount": self.refunded_amount,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "completedAt": iso(self.completed_at),
        }


@dataclass(frozen=True)
class PaymentRange:
    """Which payments a listing keeps: created in [created_from, created_before), amount (minor units of
    `currency`) in [min_amount, max_amount]; None leaves that end open. Amounts mean something only in
    one currency (1000 is $10.00 but ¥1,000), so an amount range keeps only payments in `currency`."""

    created_from: datetime | None = None
    created_before: datetime | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    currency: str | None = None

    def check(self) -> None:
        """ValidationFailed for a range that is empty by construction (its ends the wrong way round), or an
        amount range without its currency."""
        if (self.min_amount is not None or self.max_amount is not None) and self.currency is None:
            raise ValidationFailed.on("Currency", "an amount range needs the currency of its amounts")
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            raise ValidationFailed.on("Max amount", "must not be below the minimum amount")
        if self.created_from is not None and self.created_before is not None \
                and self.created_from >= self.created_before:
            raise ValidationFailed.on("To", "must not be before the start date")

    def holds(self, payment: Payment) -> bool:
        return ((self.currency is None or payment.currency == self.currency)
                and (self.created_from is None or payment.created_at >= self.created_from)
                and (self.created_before is None or payment.created_at < self.created_before)
                and (self.min_amount is None or payment.amount >= self.min_amount)
                and (self.max_amount is None or payment.amount <= self.max_amount))


class PaymentStats(NamedTuple):
    """Payments of one customer (or all) at a glance."""

    counts: dict[str, int]
    """How many payments are in each status."""
    volume: dict[str, int]
    """Completed amounts since a moment, in minor units by currency."""


@dataclass(frozen=True)
class PageCursor:
    created_at: datetime
    id: str
