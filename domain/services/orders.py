"""Use cases of orders: place one (priced on the server, stock reserved, paid through a payment in the
same transaction), read them, and settle them when their payment finishes."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.clock import Clock, new_id
from domain.model.errors import (
    CartChanged,
    FieldError,
    InsufficientStock,
    NotFound,
    ValidationFailed,
)
from domain.model.events import Event
from domain.model.idempotency import IdempotencyRecord
from domain.model.money import MAX_AMOUNT_MINOR, format_money
from domain.model.orders import ORDER_TRANSITIONS, Order, OrderItem, fingerprint, parse_items
from domain.model.payments import PaymentRequest
from domain.model.statuses import OrderStatus
from domain.model.users import User
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.services.cart import load_cart
from domain.services.idempotency import create_once, find_replay
from domain.services.payments import (
    MAX_PAGE,
    PaymentService,
    decode_cursor,
    encode_cursor,
    resolve_idempotency_key,
)

log = logging.getLogger("paygate.orders")


class OrderService:
    def __init__(self, uow: UnitOfWorkFactory, payments: PaymentService, clock: Clock,
                 on_placed: Callable[[], None] = lambda: None) -> None:
        self.uow = uow
        self.payments = payments
        self.clock = clock
        self.on_placed = on_placed

    def place(self, actor: User, raw: dict[str, Any], header_key: str | None = None,
              expected_total: int | None = None) -> tuple[Order, bool]:
        """Price on the server, reserve stock, create the order and its payment in one transaction.

        Without `items` the customer's cart is ordered, and emptied in the same transaction.
        `expected_total` is the total the customer confirmed (the UI shows one): when the prices
        changed since, the order is refused (CartChanged) rather than charged at the new total.
        """
        key = resolve_idempotency_key(raw.get("idempotencyKey"), header_key)
        from_cart = raw.get("items") is None  # an explicit empty list is refused, never the cart
        now = self.clock.now()
        # Validate the payment part first (card, method, description) with a placeholder amount.
        template = PaymentRequest.parse({**raw, "amount": 1, "currency": "USD"}, customer_id=actor.id, now=now)
        if from_cart:
            with self.uow(read_only=True) as uow:
                cart = load_cart(uow, actor.id)
            items = [(line.product.id, line.quantity) for line in cart.lines]
        else:
            items = parse_items(raw["items"])
        # A cart checkout is identified by its request (which has no items), so that a retry
        # after the first attempt emptied the cart replays the order.
        digest = fingerprint([] if from_cart else items, template)
        if key:
            replay = self._replay(actor, key, digest)
            if replay is not None:
                return replay, True
        if not items:
            # 409, not 422: the request is well formed; the cart's state refuses it. A checkout that
            # lost a race to a concurrent one of the same cart lands here too, and must read the same.
            raise CartChanged("the cart is empty (it may just have been ordered)")

        made: list[str] = []  # payment ids built by create(), whose cards may wait in the vault

        def create() -> Order:
            with self.uow() as uow:
                # First, so that of concurrent checkouts of one cart only one goes on (the others
                # wait for its row locks on PostgreSQL, or its write lock on SQLite, and find it gone).
                if from_cart and not uow.carts.take(actor.id, items):
                    raise CartChanged("the cart changed or was already ordered; review it and try again")
                order = self._create(uow, actor, items, template, key, digest, now)
                made.append(order.payment_id or "")
                if expected_total is not None and order.total_amount != expected_total:
                    raise CartChanged(f"the total is now {format_money(order.total_amount, order.currency)}; "
                                      "review the cart and pay again")
                uow.commit()
            return order

        stored: str | None = None
        try:
            order, replayed = create_once(create, (lambda: self._replay(actor, key, digest)) if key else None)
            stored = None if replayed else order.payment_id
        except CartChanged:
            # A concurrent request with the same key may have ordered this cart: that is its replay.
            replay = self._replay(actor, key, digest) if key else None
            if replay is None:
                raise
            order, replayed = replay, True
        finally:
            for payment_id in made:  # cards of payments that were never stored leave memory now
                if payment_id != stored:
                    self.payments.vault.drop(payment_id)
        if not replayed:
            log.info("payment submitted", extra={"payment_id": order.payment_id, "order_id": order.id,
                                                 "user_id": order.customer_id, "amount": order.total_amount,
                                                 "currency": order.currency})
            self.on_placed()
        return order, replayed

    def _create(self, uow: UnitOfWork, actor: User, items: list[tuple[str, int]], template: PaymentRequest,
                key: str | None, digest: str, now: datetime) -> Order:
        lines: list[OrderItem] = []
        errors: list[FieldError] = []
        currencies = set()
        for i, (product_id, quantity) in enumerate(items):
            product = uow.products.get(product_id)
            if product is None or not product.active:
                label = f"{product.name} ({product_id})" if product is not None else product_id
                errors.append(FieldError(f"items[{i}].productId", f"{label} is not available"))
                continue
            currencies.add(product.currency)
            lines.append(OrderItem(product.id, product.name, quantity, product.unit_price_minor))
        if len(currencies) > 1:
            errors.append(FieldError("items", "all products of an order must have the same currency"))
        if errors:
            raise ValidationFailed.of(errors)
        total = sum(line.line_total for line in lines)
        if total > MAX_AMOUNT_MINOR:
            raise ValidationFailed.on("items", "the order total is too large")
        for line in lines:
            if not uow.products.reserve(line.product_id, line.quantity):
                raise InsufficientStock(f"not enough stock of {line.name}")
        order = Order(new_id("ord"), actor.id, OrderStatus.PENDING_PAYMENT, lines, total, currencies.pop(), None,
                      template.description, now, now)
        request = PaymentRequest(total, order.currency, actor.id, template.description or f"Order {order.id}",
                                 template.payment_method, template.card, order_id=order.id,
                                 payment_method_token=template.payment_method_token)
        payment = self.payments.new_payment(request, None, now)
        order.payment_id = payment.id
        order.record_created(now)
        uow.orders.add(order)
        PaymentService.add_payment(uow, payment)
        if key:
            uow.idempotency.add(IdempotencyRecord(actor.id, key, digest, "order", order.id, now))
        return order

    def _replay(self, actor: User, key: str, digest: str) -> Order | None:
        return find_replay(self.uow, actor.id, key, digest, "order", lambda tx, oid: tx.orders.get(oid))

    def get(self, actor: User, order_id: str) -> Order:
        with self.uow(read_only=True) as uow:
            order = uow.orders.get(order_id)
        if order is None or (not actor.is_admin and order.customer_id != actor.id):
            raise NotFound("order not found")
        return order

    def list(self, actor: User, limit: int = 200) -> list[Order]:
        with self.uow(read_only=True) as uow:
            return uow.orders.list(customer_id=None if actor.is_admin else actor.id, limit=limit)

    def page(self, actor: User, *, status: str | None = None, customer_id: str | None = None,
             created_from: datetime | None = None, created_before: datetime | None = None,
             limit: int = 20, cursor: str | None = None) -> tuple[builtins.list[Order], str | None]:
        """One page of the orders `actor` may see, newest first, filtered in the query; and the next page's
        cursor (None on the last page). A customer sees their own only: another customer's id finds nothing."""
        if status is not None and status not in ORDER_TRANSITIONS:
            raise ValidationFailed.on("status", f"must be one of {', '.join(ORDER_TRANSITIONS)}")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed.on("limit", f"must be from 1 to {MAX_PAGE}")
        if created_from is not None and created_before is not None and created_from >= created_before:
            raise ValidationFailed.on("To", "must not be before the start date")
        after = decode_cursor(cursor) if cursor else None
        if not actor.is_admin:
            if customer_id not in (None, actor.id):
                return [], None
            customer_id = actor.id
        with self.uow(read_only=True) as uow:
            found = uow.orders.list(customer_id=customer_id, status=status, limit=limit + 1, after=after,
                                    created_from=created_from, created_before=created_before)
        next_cursor = encode_cursor(found[limit - 1]) if len(found) > limit else None
        return found[:limit], next_cursor

    # --- settlement, driven by payment events (delivered at least once) --------------------
    def on_payment_event(self, uow: UnitOfWork, event: Event) -> bool:
        """Settle the order of a finished payment; a repeated delivery changes nothing."""
        order_id = event.data.get("orderId")
        if event.type not in ("payment.completed", "payment.failed") or not order_id:
            return False
        order = uow.orders.get(order_id, for_update=True)
        if order is None or order.status != OrderStatus.PENDING_PAYMENT:
            return False
        if event.data.get("id") != order.payment_id:  # only the order's own payment settles it
            return False
        now = self.clock.now()
        if event.type == "payment.completed":
            order.mark_paid(now)
        else:
            order.mark_payment_failed(now)
            for item in order.items:  # the compensating step: give the reserved stock back
                uow.products.release(item.product_id, item.quantity)
        uow.orders.update(order)
        return True

    def handle(self, event: Event) -> bool:
        with self.uow() as uow:
            applied = self.on_payment_event(uow, event)
            uow.commit()
        return applied
