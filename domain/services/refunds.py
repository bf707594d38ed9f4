"""Refunds: create one (idempotently, never beyond the payment), list them, and what a refund that
succeeded means for its payment and order."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain.clock import Clock, new_id
from domain.model.errors import Forbidden, NotFound, PaymentNotRefundable, RefundExceedsPayment
from domain.model.idempotency import IdempotencyRecord
from domain.model.money import format_money
from domain.model.orders import Order
from domain.model.payments import Payment
from domain.model.refunds import Refund, RefundRequest
from domain.model.statuses import OrderStatus, PaymentStatus, RefundStatus
from domain.model.users import User
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.services.idempotency import create_once, find_replay
from domain.services.payments import resolve_idempotency_key


class RefundService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, on_submitted: Callable[[], None] = lambda: None) -> None:
        self.uow = uow
        self.clock = clock
        self.on_submitted = on_submitted

    def create(self, actor: User, payment_id: str, raw: dict[str, Any],
               header_key: str | None = None) -> tuple[Refund, bool]:
        """Queue a refund of a completed payment; return (refund, replayed).

        The payment's row is locked first (FOR UPDATE on PostgreSQL; SQLite's one writer), so
        concurrent refunds of one payment are decided one after the other against what the earlier
        ones took: they never add up to more than the payment."""
        if not actor.is_admin:
            raise Forbidden("only an admin may refund")
        key = resolve_idempotency_key(raw.get("idempotencyKey"), header_key)
        request = RefundRequest.parse(raw)
        fingerprint = request.fingerprint(payment_id)
        now = self.clock.now()
        refund_id = new_id("re")

        def create() -> Refund:
            with self.uow() as uow:
                if key:
                    uow.idempotency.add(IdempotencyRecord(actor.id, key, fingerprint, "refund", refund_id, now))
                payment = uow.payments.get(payment_id, for_update=True)
                if payment is None:
                    raise NotFound("payment not found")
                if payment.status != PaymentStatus.COMPLETED:
                    raise PaymentNotRefundable(f"only a completed payment can be refunded; this one is "
                                               f"{payment.status}")
                left = payment.amount - uow.refunds.committed_total(payment_id)
                amount = request.amount if request.amount is not None else left
                if amount < 1 or amount > left:
                    raise RefundExceedsPayment(
                        f"At most {format_money(max(left, 0), payment.currency)} ({max(left, 0)} minor units) is "
                        f"left to refund on this payment of {format_money(payment.amount, payment.currency)}.")
                refund = Refund(refund_id, payment_id, payment.customer_id, amount, payment.currency, request.reason,
                                RefundStatus.PENDING, now, now, payment.provider, restock=request.restock,
                                idempotency_key=key)
                refund.record_created(now)
                uow.refunds.add(refund)
                uow.commit()
                return refund

        replay = (lambda: find_replay(self.uow, actor.id, key, fingerprint, "refund",
                                      lambda tx, rid: tx.refunds.get(rid))) if key else None
        refund, replayed = create_once(create, replay)
        if not replayed:
            self.on_submitted()
        return refund, replayed

    def list(self, actor: User, payment_id: str) -> builtins.list[Refund]:
        """The payment's refunds, oldest first, for its owner or an admin (another's payment: 404)."""
        with self.uow(read_only=True) as uow:
            payment = uow.payments.get(payment_id)
            if payment is None or (not actor.is_admin and payment.customer_id != actor.id):
                raise NotFound("payment not found")
            return uow.refunds.for_payment(payment_id)


def settle_refund(uow: UnitOfWork, refund: Refund, provider_refund_id: str, now: datetime) -> None:
    """A refund succeeded: record it on its payment, and once the payment is refunded in full, mark
    its order refunded and (if a refund of it asked) put the stock back. In the caller's transaction."""
    refund.succeed(provider_refund_id, now)
    uow.refunds.update(refund)
    payment = uow.payments.get(refund.payment_id, for_update=True)
    if payment is None:  # pragma: no cover - a refund is created only for a stored payment
        return
    payment.refunded_amount += refund.amount
    payment.updated_at = now
    uow.payments.update(payment)
    if payment.refunded_amount >= payment.amount and payment.order_id:
        order = uow.orders.get(payment.order_id, for_update=True)
        if order is not None and order.status == OrderStatus.PAID:
            _refund_order(uow, order, payment, refund, now)


def _refund_order(uow: UnitOfWork, order: Order, payment: Payment, last: Refund, now: datetime) -> None:
    order.mark_refunded(now)
    uow.orders.update(order)
    restock = last.restock or any(r.restock for r in uow.refunds.for_payment(payment.id)
                                  if r.status == RefundStatus.SUCCEEDED)
    if restock:
        for item in order.items:
            uow.products.release(item.product_id, item.quantity)
