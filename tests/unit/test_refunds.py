"""Refunds on fakes: what may be refunded, idempotency, the refund drain (tokens, retries, unknown
outcomes looked up, exactly one refund at the provider), orders refunded and restocked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from domain.model.errors import (
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    PaymentNotRefundable,
    RefundExceedsPayment,
    ValidationFailed,
)
from domain.model.orders import Order
from domain.model.providers import CallKind, CallResult
from domain.model.statuses import OrderStatus
from domain.services.orders import OrderService
from domain.services.refund_processor import RefundProcessor
from domain.services.refunds import RefundService
from tests.fakes import make_user
from tests.unit.fleet import CARD, Fleet


class Refunds:
    """A fleet with a completed payment, an admin, and the refund service and drain."""

    def __init__(self, *providers: str, number: str = "4242424242424242", **fleet_args) -> None:
        self.fleet = Fleet(*(providers or ("mock",)), **fleet_args)
        self.admin = self.fleet.uow.put_user(make_user(role="admin", email="root@example.com", user_id="usr_admin"))
        self.service = RefundService(self.fleet.uow, self.fleet.clock)
        self.drain = RefundProcessor(self.fleet.processor)
        self.number = number

    async def paid(self, amount: int = 2500) -> str:
        pid = self.fleet.submit(card={**CARD, "number": self.number}, amount=amount)
        await self.fleet.settle()
        assert self.fleet.uow.payment(pid).status == "completed"
        return pid

    def refund(self, pid: str, **raw) -> str:
        refund, _ = self.service.create(self.admin, pid, raw)
        return refund.id

    async def settle(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            await self.drain.drain()
            waiting = [r.next_attempt_at for r in self.fleet.uow.state.refunds.values()
                       if r.status == "pending" and r.next_attempt_at is not None]
            if not waiting:
                return
            self.fleet.clock.set(max(self.fleet.clock.now(), min(waiting)) + timedelta(microseconds=1))
        raise AssertionError("refunds never settled")

    def stored(self, refund_id: str):
        return self.fleet.uow.state.refunds[refund_id]

    def ledger(self) -> list:
        return self.fleet.mock_ledger.refunds(None, 100)


# --- what may be refunded ------------------------------------------------------------------------
async def test_a_refund_without_an_amount_takes_what_is_left_and_succeeds_once_at_the_provider():
    rig = Refunds()
    pid = await rig.paid(2500)
    first = rig.refund(pid, amount=1000)
    rest = rig.refund(pid)

    await rig.settle()

    assert [rig.stored(r).amount for r in (first, rest)] == [1000, 1500]
    assert [rig.stored(r).status for r in (first, rest)] == ["succeeded", "succeeded"]
    assert sorted(r.amount for r in rig.ledger()) == [1000, 1500]
    payment = rig.fleet.uow.payment(pid)
    assert (payment.status, payment.refunded_amount) == ("completed", 2500)
    types = rig.fleet.uow.event_types(pid)
    assert types.count("refund.created") == 2 and types.count("refund.succeeded") == 2
    refund_calls = [a for a in rig.fleet.uow.state.attempts if a.kind == CallKind.REFUND]
    assert [(a.provider, a.outcome) for a in refund_calls] == [("mock", "approved"), ("mock", "approved")]


async def test_refunds_never_add_up_to_more_than_the_payment():
    rig = Refunds()
    pid = await rig.paid(2500)
    rig.refund(pid, amount=2000)

    with pytest.raises(RefundExceedsPayment, match=re.escape("At most $5.00 (500 minor units) is left to refund "
                                                             "on this payment of $25.00.")):
        rig.refund(pid, amount=501)
    rig.refund(pid, amount=500)
    with pytest.raises(RefundExceedsPayment, match=re.escape("At most $0.00 (0 minor units)")):
        rig.refund(pid)


async def test_only_a_completed_payment_can_be_refunded_by_an_admin():
    rig = Refunds()
    pending = rig.fleet.submit()
    with pytest.raises(PaymentNotRefundable):
        rig.refund(pending)
    with pytest.raises(NotFound):
        rig.refund("pay_nope")
    pid = await rig.paid()
    with pytest.raises(Forbidden):
        rig.service.create(rig.fleet.customer, pid, {})


@pytest.mark.parametrize(("raw", "field"), [
    ({"amount": 0}, "amount"), ({"amount": "5"}, "amount"), ({"amount": True}, "amount"),
    ({"reason": "bored"}, "reason"), ({"restock": "yes"}, "restock"),
])
async def test_a_bad_refund_request_names_its_field_and_stores_nothing(raw: dict, field: str):
    rig = Refunds()
    pid = await rig.paid()

    with pytest.raises(ValidationFailed) as refused:
        rig.refund(pid, **raw)

    assert [d.field for d in refused.value.details] == [field]
    assert rig.fleet.uow.state.refunds == {}


async def test_the_same_key_replays_the_refund_and_a_different_body_with_it_is_refused():
    rig = Refunds()
    pid = await rig.paid()
    first, replayed_first = rig.service.create(rig.admin, pid, {"amount": 700, "idempotencyKey": "r-1"})
    again, replayed = rig.service.create(rig.admin, pid, {"amount": 700, "idempotencyKey": "r-1"})

    assert (again.id, replayed_first, replayed) == (first.id, False, True)
    with pytest.raises(IdempotencyKeyReused):
        rig.service.create(rig.admin, pid, {"amount": 800, "idempotencyKey": "r-1"})
    assert len(rig.fleet.uow.state.refunds) == 1


# --- the drain ------------------------------------------------------------------------------------
async def test_a_refund_the_issuer_refuses_fails_and_leaves_the_payment_unrefunded():
    rig = Refunds(number="4000000000000283")
    pid = await rig.paid()
    rid = rig.refund(pid)

    await rig.settle()

    refund = rig.stored(rid)
    assert (refund.status, refund.failure_code) == ("failed", "refund_failed")
    assert rig.fleet.uow.payment(pid).refunded_amount == 0
    assert rig.ledger() == []
    assert rig.fleet.uow.event_types(pid)[-1] == "refund.failed"
    assert rig.refund(pid)  # what failed is not taken: the whole amount may be refunded again


async def test_a_retryable_error_is_retried_after_the_backoff_and_then_succeeds():
    rig = Refunds()
    pid = await rig.paid()
    rig.fleet.route("mock").provider.refund_script = [CallResult.error("provider_unavailable", "down")]
    rid = rig.refund(pid)

    await rig.drain.drain()
    waiting = rig.stored(rid)
    await rig.settle()

    assert (waiting.status, waiting.retry_count, waiting.failure_code) == ("pending", 1, "provider_unavailable")
    assert waiting.next_attempt_at is not None
    assert rig.stored(rid).status == "succeeded"
    assert len(rig.ledger()) == 1


async def test_a_refund_whose_answer_is_lost_is_looked_up_and_never_made_twice():
    rig = Refunds()
    pid = await rig.paid()
    mock = rig.fleet.route("mock").provider
    real_refund = mock.inner.refund

    async def refund_then_drop(request):
        await real_refund(request)  # the provider refunds ...
        raise ConnectionResetError("... and the answer is lost")

    mock.inner.refund = refund_then_drop
    rid = rig.refund(pid)
    await rig.drain.drain()
    unknown = rig.stored(rid)
    mock.inner.refund = real_refund

    await rig.settle()

    assert (unknown.status, unknown.needs_lookup, unknown.failure_code) == ("pending", True, "connection_lost")
    assert rig.stored(rid).status == "succeeded"
    assert len(rig.ledger()) == 1
    assert [e[0] for e in rig.fleet.log if e[0] in ("refund", "lookup_refund")] == ["refund", "lookup_refund"]


async def test_refund_calls_take_tokens_from_the_payments_provider_and_wait_for_its_open_circuit():
    rig = Refunds("mock", "stripe")
    pid = await rig.paid()
    rig.fleet.route("mock").circuit.opened_at = rig.fleet.clock.now()
    tokens_before = [e[1] for e in rig.fleet.log if e[0] == "token"]
    rid = rig.refund(pid)

    await rig.drain.drain()

    waiting = rig.stored(rid)
    assert (waiting.status, waiting.failure_code) == ("pending", "provider_unavailable")
    assert waiting.next_attempt_at == rig.fleet.clock.now() + timedelta(seconds=30)
    assert [e for e in rig.fleet.log if e[0] == "refund"] == []  # not sent to the fallback either
    rig.fleet.clock.set(waiting.next_attempt_at)

    await rig.settle()

    assert rig.stored(rid).status == "succeeded"
    tokens = [e[1] for e in rig.fleet.log if e[0] == "token"][len(tokens_before):]
    assert tokens == ["mock"]


# --- orders ---------------------------------------------------------------------------------------
async def paid_order(rig: Refunds) -> Order:
    """An order of two lamps (5 in stock, $12.00 each), paid: 3 lamps left."""
    from domain.model.catalog import Product

    fleet = rig.fleet
    fleet.uow.state.products["prod_lamp"] = Product("prod_lamp", "Lamp", "", 1200, "USD", "home", None, 5, True,
                                                    fleet.clock.now(), fleet.clock.now(), {})
    orders = OrderService(fleet.uow, fleet.service, fleet.clock)
    order, _ = orders.place(fleet.customer, {"items": [{"productId": "prod_lamp", "quantity": 2}], "card": CARD})
    await fleet.settle()
    with fleet.uow() as uow:  # the orders consumer settles the order (the delivery worker, in the app)
        orders.on_payment_event(uow, fleet.uow.events(order.payment_id)[-1])
        uow.commit()
    assert fleet.uow.state.orders[order.id].status == OrderStatus.PAID
    assert fleet.uow.state.products["prod_lamp"].stock == 3
    return order


async def test_an_order_refunded_in_full_becomes_refunded_and_its_stock_comes_back_when_asked():
    rig = Refunds()
    fleet = rig.fleet
    order = await paid_order(rig)

    rig.refund(order.payment_id, amount=1000, restock=True)
    await rig.settle()
    assert fleet.uow.state.orders[order.id].status == OrderStatus.PAID  # not in full yet
    rig.refund(order.payment_id)
    await rig.settle()

    assert fleet.uow.state.orders[order.id].status == OrderStatus.REFUNDED
    assert fleet.uow.state.products["prod_lamp"].stock == 5
    assert fleet.uow.event_types(order.id)[-1] == "order.refunded"


async def test_without_restock_an_order_refunded_in_full_becomes_refunded_and_its_stock_stays_sold():
    rig = Refunds()
    fleet = rig.fleet
    order = await paid_order(rig)

    rid = rig.refund(order.payment_id)  # the whole amount; `restock` left out: false
    await rig.settle()

    assert (rig.stored(rid).restock, rig.stored(rid).amount, rig.stored(rid).status) == (False, 2400, "succeeded")
    assert fleet.uow.state.orders[order.id].status == OrderStatus.REFUNDED
    assert fleet.uow.event_types(order.id)[-1] == "order.refunded"
    assert fleet.uow.state.products["prod_lamp"].stock == 3


# --- a provider's event settles a refund whose answer was lost -------------------------------------
async def test_a_provider_event_settles_a_refund_whose_answer_was_lost_once():
    from domain.services.provider_events import ProviderEvent, ProviderEvents, Settled

    rig = Refunds()
    pid = await rig.paid()
    rig.fleet.route("mock").provider.refund_script = [TimeoutError()]
    rid = rig.refund(pid, amount=700)
    await rig.drain.drain()
    assert rig.stored(rid).needs_lookup
    events = ProviderEvents(rig.fleet.uow, rig.fleet.clock)
    event = ProviderEvent("mock", "evt_r1", "charge.refunded", pid, None, None, refunds=(("rf_1", rid, "succeeded"),))

    assert events.receive(event) is Settled.REFUNDED
    assert events.receive(event) is Settled.DUPLICATE
    assert (rig.stored(rid).status, rig.stored(rid).transaction_id) == ("succeeded", "rf_1")
    assert rig.fleet.uow.payment(pid).refunded_amount == 700
    assert rig.fleet.uow.event_types(pid).count("refund.succeeded") == 1
    late = ProviderEvent("mock", "evt_r2", "charge.refunded", pid, None, None, refunds=(("rf_1", rid, "failed"),))
    assert events.receive(late) is Settled.IGNORED
