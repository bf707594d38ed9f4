"""Orders: priced on the server, stock reserved with the payment, settled by payment events."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.clock import iso
from domain.model.cart import MAX_QUANTITY, check_quantity
from domain.model.errors import (
    FieldError,
    IllegalTransition,
    ValidationFailed,
)
from domain.model.events import Event
from domain.model.payments import PaymentRequest
from domain.model.statuses import OrderStatus

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.PAYMENT_FAILED}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.PAYMENT_FAILED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


@dataclass(frozen=True)
class OrderItem:
    product_id: str
    name: str
    quantity: int
    unit_price_minor: int

    @property
    def line_total(self) -> int:
        return self.unit_price_minor * self.quantity

    def public(self) -> dict[str, Any]:
        return {"productId": self.product_id, "name": self.name, "quantity": self.quantity,
                "unitPriceMinor": self.unit_price_minor, "lineTotal": self.line_total}


@dataclass
class Order:
    id: str
    customer_id: str
    status: OrderStatus
    items: list[OrderItem]
    total_amount: int
    currency: str
    payment_id: str | None
    description: str
    created_at: datetime
    updated_at: datetime
    # New events, not in the outbox yet: the unit of work writes them when it commits, if this
    # object was added or updated in it (domain.ports.NewEvents).
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    def _move(self, to: OrderStatus, now: datetime, event_type: str) -> None:
        if to not in ORDER_TRANSITIONS[self.status]:
            raise IllegalTransition(f"order {self.id} cannot go from {self.status} to {to}")
        self.status = to
        self.updated_at = now
        self._emit(event_type, now)

    def _emit(self, event_type: str, now: datetime) -> None:
        self.events.append(Event(event_type, self.public(), now, customer_id=self.customer_id, aggregate_id=self.id))

    def record_created(self, now: datetime) -> None:
        self._emit("order.created", now)

    def mark_paid(self, now: datetime) -> None:
        self._move(OrderStatus.PAID, now, "order.paid")

    def mark_payment_failed(self, now: datetime) -> None:
        self._move(OrderStatus.PAYMENT_FAILED, now, "order.payment_failed")

    def mark_refunded(self, now: datetime) -> None:
        self._move(OrderStatus.REFUNDED, now, "order.refunded")

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "customerId": self.customer_id,
                "items": [i.public() for i in self.items], "totalAmount": self.total_amount,
                "currency": self.currency, "paymentId": self.payment_id, "description": self.description,
                "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at)}


def parse_items(raw_items: object) -> list[tuple[str, int]]:
    """[(productId, quantity)], duplicates merged; each problem names its field."""
    if not isinstance(raw_items, list) or not raw_items:
        raise ValidationFailed.on("items", "must be a non-empty list")
    errors: list[FieldError] = []
    merged: dict[str, int] = {}
    for i, item in enumerate(raw_items):
        if not isinstance(item, dict) or not isinstance(item.get("productId"), str):
            errors.append(FieldError(f"items[{i}].productId", "is required"))
            continue
        try:
            quantity = check_quantity(item.get("quantity"), f"items[{i}].quantity", minimum=1)
        except ValidationFailed as e:
            errors.extend(e.details)
            continue
        merged[item["productId"]] = merged.get(item["productId"], 0) + quantity
    for product_id, quantity in merged.items():
        if quantity > MAX_QUANTITY:
            errors.append(FieldError("items", f"at most {MAX_QUANTITY} of {product_id}"))
    if errors:
        raise ValidationFailed.of(errors)
    return list(merged.items())


def fingerprint(items: list[tuple[str, int]], request: PaymentRequest) -> str:
    card = [request.card.brand, request.card.last4, request.card.exp_month, request.card.exp_year] \
        if request.card else None
    body = [sorted(items), request.description, request.payment_method, card]
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()
