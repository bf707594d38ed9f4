"""The fakes and the real storage keep one contract: each check here runs on the fake unit of work, on
SQLite and on PostgreSQL (when PAYGATE_TEST_POSTGRES_URL is set), through the ports only.

What a unit test learns on the fakes therefore holds on the databases: which events reach the outbox,
in what order, which deliveries they are owed to, and how products, carts and orders are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from domain.model.catalog import Product
from domain.model.events import Event
from domain.model.orders import Order, OrderItem
from domain.ports import UnitOfWorkFactory
from storage.db import Database
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import postgres_url
from tests.fakes import T0, FakeUnitOfWorkFactory, make_payment
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

LEASE = T0 + timedelta(seconds=30)


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    postgres_url() is None, reason=SKIP_REASON))])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    if request.param == "fake":
        yield FakeUnitOfWorkFactory()
        return
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'paygate.db'}")
        db.create_all()
        yield SqlUnitOfWorkFactory(db)
        db.dispose()
        return
    with fresh_postgres_schema() as url:
        db = Database(url)
        db.create_all()
        yield SqlUnitOfWorkFactory(db)
        db.dispose()


def make_order(order_id: str = "ord_1", items: list[OrderItem] | None = None) -> Order:
    items = items or [OrderItem("prod_1", "Lamp", 2, 4500), OrderItem("prod_2", "Mug", 1, 1200)]
    return Order(order_id, "usr_1", "pending_payment", items, sum(i.line_total for i in items), "USD", "pay_1",
                 "gift", T0, T0)


def lamp(product_id: str = "prod_1", **changes: object) -> Product:
    return replace(Product(product_id, "Lamp", "Warm light", 4500, "USD", "home", None, 3, True, T0, T0,
                           {"brand": "Lumen"}), **changes)


def outbox(uow: UnitOfWorkFactory) -> list[Event]:
    with uow(read_only=True) as tx:
        return tx.outbox.after(0, 100)


def finish(uow: UnitOfWorkFactory, payment_id: str, order_id: str | None) -> Event:
    """Store a processing payment, then complete it; return its payment.completed event."""
    with uow() as tx:
        tx.payments.add(make_payment(payment_id=payment_id, status="processing", order_id=order_id))
        tx.commit()
    with uow() as tx:
        payment = tx.payments.get(payment_id, for_update=True)
        payment.complete("txn_1", T0)
        tx.payments.update(payment)
        tx.commit()
    return outbox(uow)[-1]


# --- events ----------------------------------------------------------------------------------
def test_a_commit_writes_the_events_of_saved_aggregates_then_published_ones_in_order(uow):
    order, payment = make_order(), make_payment(order_id="ord_1")
    published = Event("cart.updated", {"itemCount": 0}, T0, customer_id="usr_1")

    with uow() as tx:
        order.record_created(T0)
        tx.orders.add(order)
        payment.record_created(T0)
        tx.payments.add(payment)
        tx.publish(published)
        tx.commit()

    events = outbox(uow)
    assert [(e.type, e.aggregate_id) for e in events] == [
        ("order.created", "ord_1"), ("payment.created", "pay_1"), ("cart.updated", None)]
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert (order.events, payment.events) == ([], [])
    with uow(read_only=True) as tx:
        assert tx.outbox.seq_of(published.id) == events[-1].seq == tx.outbox.last_seq()
        assert [e.type for e in tx.outbox.for_aggregate("pay_1")] == ["payment.created"]
        assert tx.outbox.after(events[0].seq, 1) == [events[1]]


def test_a_changed_copy_that_is_not_saved_writes_neither_its_state_nor_its_events(uow):
    with uow() as tx:
        tx.payments.add(make_payment())
        tx.commit()

    with uow() as tx:
        tx.payments.get("pay_1").start_processing(T0)
        tx.commit()

    with uow(read_only=True) as tx:
        assert tx.payments.get("pay_1").status == "pending"
    assert outbox(uow) == []


def test_a_transaction_left_without_a_commit_writes_no_event_and_owes_no_delivery(uow):
    with uow() as tx:
        tx.payments.add(make_payment(status="processing", order_id="ord_1"))
        tx.commit()

    with uow() as tx:
        payment = tx.payments.get("pay_1")
        payment.complete("txn_1", T0)
        tx.payments.update(payment)
        tx.publish(Event("cart.updated", {}, T0))

    assert outbox(uow) == []
    with uow() as tx:
        assert tx.deliveries.claim_due(now=T0, owner="w", lease_until=LEASE) is None


def test_a_second_commit_of_one_transaction_writes_only_the_newer_events(uow):
    payment = make_payment()

    with uow() as tx:
        payment.record_created(T0)
        tx.payments.add(payment)
        tx.commit()
        payment.start_processing(T0)
        tx.payments.update(payment)
        tx.commit()

    assert [e.type for e in outbox(uow)] == ["payment.created", "payment.processing"]


# --- deliveries ------------------------------------------------------------------------------
def test_only_an_orders_finished_payment_is_owed_to_the_orders_consumer(uow):
    finish(uow, "pay_oneoff", order_id=None)
    completed = finish(uow, "pay_1", order_id="ord_1")

    with uow() as tx:
        delivery = tx.deliveries.claim_due(now=T0, owner="w", lease_until=LEASE)
        nothing_else = tx.deliveries.claim_due(now=T0, owner="w", lease_until=LEASE)
        tx.commit()

    assert (delivery.consumer, delivery.event, delivery.attempts) == ("orders", completed, 1)
    assert nothing_else is None


def test_a_delivery_is_leased_retried_after_its_time_and_done_once(uow):
    finish(uow, "pay_1", order_id="ord_1")

    with uow() as tx:
        first = tx.deliveries.claim_due(now=T0, owner="w", lease_until=LEASE)
        leased = tx.deliveries.claim_due(now=T0, owner="w2", lease_until=LEASE)
        tx.deliveries.retry_later(first.id, T0 + timedelta(seconds=2), "Boom")
        tx.commit()
    with uow() as tx:
        too_early = tx.deliveries.claim_due(now=T0 + timedelta(seconds=1), owner="w", lease_until=LEASE)
        second = tx.deliveries.claim_due(now=T0 + timedelta(seconds=2), owner="w", lease_until=LEASE)
        tx.deliveries.done(second.id, T0 + timedelta(seconds=3))
        tx.commit()
    with uow() as tx:
        after_done = tx.deliveries.claim_due(now=T0 + timedelta(hours=1), owner="w", lease_until=LEASE)

    assert (leased, too_early, after_done) == (None, None, None)
    assert (second.id, second.attempts) == (first.id, 2)


# --- products, carts, orders -----------------------------------------------------------------
def test_products_are_stored_listed_updated_reserved_and_deleted(uow):
    with uow() as tx:
        tx.products.add(lamp("prod_2"))
        tx.products.add(lamp("prod_1"))
        tx.products.update(lamp("prod_1", name="Desk Lamp", created_at=T0 + timedelta(days=1)))
        reserved = [tx.products.reserve("prod_1", 2), tx.products.reserve("prod_1", 2)]
        tx.products.release("prod_2", 4)
        tx.commit()

    with uow() as tx:
        listed = tx.products.list()
        tx.products.update(lamp("prod_2", active=False))
        inactive = tx.products.reserve("prod_2", 1)
        tx.products.delete("prod_1")
        tx.commit()

    assert reserved == [True, False]
    assert [(p.id, p.name, p.stock) for p in listed] == [("prod_1", "Desk Lamp", 1), ("prod_2", "Lamp", 7)]
    assert listed[0].created_at == T0  # an update leaves the creation time alone
    assert listed[0].metadata == {"brand": "Lumen"}
    assert inactive is False
    with uow(read_only=True) as tx:
        assert tx.products.get("prod_1") is None
        assert tx.products.get("prod_2").stock == 3  # the active=False update wrote the given stock


def test_cart_lines_keep_their_place_and_a_cart_is_taken_only_as_it_was_read(uow):
    with uow() as tx:
        tx.carts.set("usr_1", "prod_9", 1, T0 + timedelta(seconds=2))
        tx.carts.set("usr_1", "prod_1", 3, T0 + timedelta(seconds=1))
        tx.carts.set("usr_1", "prod_9", 4, T0 + timedelta(seconds=9))  # a change keeps the line's place
        tx.carts.set("usr_2", "prod_1", 7, T0)
        tx.commit()

    with uow() as tx:
        lines = tx.carts.items("usr_1")
        changed = tx.carts.take("usr_1", [("prod_1", 3), ("prod_9", 1)])
    with uow() as tx:
        partial = tx.carts.take("usr_1", [("prod_1", 3)])
    with uow() as tx:
        taken = tx.carts.take("usr_1", [("prod_1", 3), ("prod_9", 4)])
        tx.carts.remove_product_everywhere("prod_1")
        tx.commit()

    assert lines == [("prod_1", 3), ("prod_9", 4)]
    assert (changed, partial, taken) == (False, False, True)
    with uow(read_only=True) as tx:
        assert (tx.carts.items("usr_1"), tx.carts.items("usr_2")) == ([], [])


def test_orders_are_stored_with_their_items_in_order_and_update_only_their_status(uow):
    older = make_order("ord_a", [OrderItem("prod_3", "Book", 1, 999)])
    newer = replace(make_order("ord_b"), created_at=T0 + timedelta(seconds=1))
    with uow() as tx:
        tx.orders.add(older)
        tx.orders.add(newer)
        tx.commit()

    with uow() as tx:
        order = tx.orders.get("ord_b", for_update=True)
        order.mark_paid(T0 + timedelta(seconds=5))
        order.description = "not a column an update writes"
        tx.orders.update(order)
        tx.commit()

    with uow(read_only=True) as tx:
        stored = tx.orders.get("ord_b")
        listed = tx.orders.list(customer_id="usr_1", limit=10)
        ordered = [tx.orders.product_is_ordered(p) for p in ("prod_2", "prod_3", "prod_4")]
        assert tx.orders.list(customer_id="usr_2", limit=10) == []
    assert (stored.status, stored.updated_at, stored.description) == ("paid", T0 + timedelta(seconds=5), "gift")
    assert stored.items == newer.items
    assert [o.id for o in listed] == ["ord_b", "ord_a"]
    assert ordered == [True, True, False]
    assert [e.type for e in outbox(uow)] == ["order.paid"]
