"""Use cases of payments at the edge: submit (idempotently), read, list, audit trail."""

from __future__ import annotations

import base64
import binascii
import builtins
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.clock import Clock, new_id, utc
from domain.model.errors import Forbidden, NotFound, ValidationFailed
from domain.model.events import Event
from domain.model.idempotency import IdempotencyRecord
from domain.model.payments import (
    TRANSITIONS,
    PageCursor,
    Payment,
    PaymentRange,
    PaymentRequest,
    check_idempotency_key,
)
from domain.model.providers import Attempt
from domain.model.statuses import PaymentStatus
from domain.model.users import User
from domain.observability import log_fields
from domain.ports import PaymentProvider, UnitOfWork, UnitOfWorkFactory
from domain.services.card_vault import CardVault
from domain.services.idempotency import create_once, find_replay

log = logging.getLogger("paygate.payments")

MAX_PAGE = 200


class Paged(Protocol):
    """What a page's cursor is made of: the last item's creation time and id (payments, deliveries)."""

    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


def encode_cursor(item: Paged) -> str:
    raw = f"{utc(item.created_at).isoformat()}|{item.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageCursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, pid = raw.split("|", 1)
        return PageCursor(utc(datetime.fromisoformat(created)), pid)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.on("cursor", "is not a cursor this API returned") from None


def resolve_idempotency_key(body_key: object, header_key: str | None) -> str | None:
    key = check_idempotency_key(body_key)
    header = check_idempotency_key(header_key)
    if key and header and key != header:
        raise ValidationFailed.on("idempotencyKey", "differs from the Idempotency-Key header")
    return key or header


class PaymentService:
    def __init__(self, uow: UnitOfWorkFactory, providers: Sequence[PaymentProvider], clock: Clock,
                 on_submitted: Callable[[], None] = lambda: None, vault: CardVault | None = None,
                 holder: str = "", hold_seconds: float = 30.0) -> None:
        """`providers` in routing order, the primary first. A card that some provider can make into a
        token only by a call stays in `vault` (this process's memory), and the payment is held for
        `holder` (this process), whose drain makes that call (docs/providers.md)."""
        if not providers:
            raise ValueError("at least one provider")
        self.uow = uow
        self.providers = list(providers)
        self.clock = clock
        self.on_submitted = on_submitted
        self.vault = vault if vault is not None else CardVault(clock)
        self.holder = holder
        self.hold_seconds = hold_seconds

    # --- submit ------------------------------------------------------------------------
    def submit(self, actor: User, raw: dict[str, Any], header_key: str | None = None) -> tuple[Payment, bool]:
        """Store a new pending payment and its event; return (payment, replayed)."""
        key = resolve_idempotency_key(raw.get("idempotencyKey"), header_key)
        customer_id = raw.get("customerId") or actor.id
        if not isinstance(customer_id, str):
            raise ValidationFailed.on("customerId", "must be a string")
        if not actor.is_admin and customer_id != actor.id:
            raise Forbidden("a customer may pay only as themself")
        now = self.clock.now()
        request = PaymentRequest.parse(raw, customer_id=customer_id, now=now)
        fingerprint = request.fingerprint()
        # Insert first and let the unique (caller, key) pair find a replay: one transaction on the
        # common path instead of a read and a write.
        payment = self.new_payment(request, key, now)

        def create() -> Payment:
            with self.uow() as uow:
                if key:
                    uow.idempotency.add(IdempotencyRecord(actor.id, key, fingerprint, "payment", payment.id, now))
                if customer_id != actor.id:  # an admin paying for someone: that someone must exist
                    customer = uow.users.get(customer_id)
                    if customer is None or not customer.active:
                        raise ValidationFailed.on("customerId", "is not an active user's id")
                self.add_payment(uow, payment)
                uow.commit()
            return payment

        try:
            payment_or_replay, replayed = create_once(create, (lambda: self._replay(actor, key, fingerprint))
                                                      if key else None)
        except BaseException:
            self.vault.drop(payment.id)
            raise
        if replayed:
            self.vault.drop(payment.id)
        payment = payment_or_replay
        if not replayed:
            log.info("payment submitted", extra={"payment_id": payment.id, "order_id": payment.order_id,
                                                 "user_id": payment.customer_id, "amount": payment.amount,
                                                 "currency": payment.currency})
            self.on_submitted()
        return payment, replayed

    def new_payment(self, request: PaymentRequest, key: str | None, now: datetime) -> Payment:
        """Build a pending payment. The card becomes each provider's token where that needs no call;
        where it does, the card waits in this process's vault and the payment is held for it."""
        context = log_fields()
        payment = Payment(
            id=new_id("pay"),
            customer_id=request.customer_id,
            amount=request.amount,
            currency=request.currency,
            description=request.description,
            payment_method=request.payment_method,
            status=PaymentStatus.PENDING,
            created_at=now,
            updated_at=now,
            idempotency_key=key,
            provider=self.providers[0].name,
            order_id=request.order_id,
            # The submitting request's (domain/observability.py): the drain logs and traces it as theirs.
            request_id=context.get("request_id"),
            traceparent=context.get("traceparent"),
        )
        if request.payment_method_token is not None:
            owner = next((p for p in self.providers if p.owns_token(request.payment_method_token)), None)
            if owner is None:
                raise ValidationFailed.on("paymentMethodToken", "is not a token of a configured provider ("
                                          + ", ".join(p.name for p in self.providers) + ")")
            payment.card_tokens = {owner.name: request.payment_method_token}
            payment.provider = owner.name
        elif request.card is not None:
            card = request.card
            payment.card_brand, payment.card_last4 = card.brand, card.last4
            tokens = {p.name: p.tokenize(card) for p in self.providers}
            payment.card_tokens = {name: t.token for name, t in tokens.items() if t is not None}
            if any(t is None for t in tokens.values()):
                self.vault.put(payment.id, card)
                payment.hold(self.holder, now + timedelta(seconds=self.hold_seconds))
        elif not any(p.charges_without_card for p in self.providers):
            raise ValidationFailed.on("card", "a card or a paymentMethodToken is required")
        return payment

    @staticmethod
    def add_payment(uow: UnitOfWork, payment: Payment) -> None:
        """Insert a new payment with its payment.created event, in the caller's transaction."""
        payment.record_created(payment.created_at)
        uow.payments.add(payment)

    def _replay(self, actor: User, key: str, fingerprint: str) -> Payment | None:
        return find_replay(self.uow, actor.id, key, fingerprint, "payment", lambda tx, pid: tx.payments.get(pid))

    # --- read --------------------------------------------------------------------------
    def get(self, actor: User, payment_id: str) -> Payment:
        with self.uow(read_only=True) as uow:
            payment = uow.payments.get(payment_id)
        if payment is None or (not actor.is_admin and payment.customer_id != actor.id):
            raise NotFound("payment not found")  # another customer's payment does not exist for you
        return payment

    def list(self, actor: User, *, status: str | None = None, limit: int = 50,
             cursor: str | None = None, within: PaymentRange | None = None,
             customer_id: str | None = None) -> tuple[list[Payment], str | None]:
        """A page of payments, newest first: the actor's own, or for an admin everyone's (one customer's
        when `customer_id` is given; a customer's own `customer_id` cannot widen what they see)."""
        if status is not None and status not in TRANSITIONS:
            raise ValidationFailed.on("status", f"must be one of {', '.join(TRANSITIONS)}")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed.on("limit", f"must be from 1 to {MAX_PAGE}")
        if within is not None:
            within.check()
        after = decode_cursor(cursor) if cursor else None
        with self.uow(read_only=True) as uow:
            page = uow.payments.list(customer_id=customer_id if actor.is_admin else actor.id, status=status,
                                     limit=limit + 1, after=after, within=within)
        next_cursor = encode_cursor(page[limit - 1]) if len(page) > limit else None
        return page[:limit], next_cursor

    def attempts(self, actor: User, payment_id: str) -> builtins.list[Attempt]:
        self.get(actor, payment_id)
        with self.uow(read_only=True) as uow:
            return uow.attempts.for_payment(payment_id)

    def events(self, actor: User, payment_id: str) -> builtins.list[Event]:
        self.get(actor, payment_id)
        with self.uow(read_only=True) as uow:
            return uow.outbox.for_aggregate(payment_id)
