"""The fakes behave like the real storage where the tests rely on it.

tests/integration/test_storage_contract.py runs the same kind of checks on the fakes and on real
databases side by side; these are the fakes' own, quick ones.
"""

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.model.catalog import Product
from domain.model.errors import DuplicateKey
from domain.model.events import Event
from domain.model.idempotency import IdempotencyRecord
from domain.model.orders import Order, OrderItem
from domain.model.payments import PageCursor, PaymentRange
from domain.model.providers import LedgerCharge
from domain.model.statuses import DeliveryStatus
from tests.fakes import T0, FakeLedger, FakeUnitOfWorkFactory, make_payment


def record(scope: str = "usr_1", key: str = "k") -> IdempotencyRecord:
    return IdempotencyRecord(scope, key, "fp", "payment", "pay_1", T0)


def test_committed_changes_are_visible_to_the_next_transaction():
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.payments.add(make_payment())
        uow.commit()

    with factory() as uow:
        assert uow.payments.get("pay_1") is not None


def test_leaving_the_block_without_a_commit_discards_the_changes():
    factory = FakeUnitOfWorkFactory()

    with factory() as uow:
        uow.payments.add(make_payment())
        uow.publish(Event("payment.created", {}, T0))

    assert factory.payments() == [] and factory.events() == []


def test_an_exception_inside_the_block_discards_the_changes_even_after_an_earlier_commit():
    factory = FakeUnitOfWorkFactory()

    with pytest.raises(RuntimeError), factory() as uow:
        uow.payments.add(make_payment(payment_id="pay_a"))
        uow.commit()
        uow.payments.add(make_payment(payment_id="pay_b"))
        raise RuntimeError

    assert [p.id for p in factory.payments()] == ["pay_a"]


def test_a_changed_copy_is_not_stored_until_updated():
    factory = FakeUnitOfWorkFactory()
    factory.put_payment(make_payment())

    with factory() as uow:
        uow.payments.get("pay_1").status = "failed"
        uow.commit()

    assert factory.payment("pay_1").status == "pending"


def test_a_duplicate_idempotency_key_raises_duplicate_key_at_once_or_at_a_racing_commit():
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.idempotency.add(record())
        with pytest.raises(DuplicateKey):
            uow.idempotency.add(record())
        uow.idempotency.add(record(scope="usr_2"))

    first, second = factory(), factory()
    with first, second:
        first.idempotency.add(record())
        second.idempotency.add(record())
        first.commit()
        with pytest.raises(DuplicateKey):
            second.commit()

    assert list(factory.state.idempotency) == [("usr_1", "k")]


def test_the_outbox_assigns_increasing_sequence_numbers_across_commits():
    factory = FakeUnitOfWorkFactory()
    for i in range(3):
        with factory() as uow:
            uow.publish(Event("user.created", {"i": i}, T0))
            uow.commit()

    with factory() as uow:
        assert [e.seq for e in uow.outbox.after(0, 10)] == [1, 2, 3]
        assert [e.data["i"] for e in uow.outbox.after(1, 10)] == [1, 2]
        assert uow.outbox.last_seq() == 3


def test_claim_due_leases_due_payments_oldest_first_and_skips_live_leases():
    factory = FakeUnitOfWorkFactory()
    factory.put_payment(make_payment(payment_id="pay_new", at=T0 + timedelta(seconds=1)))
    factory.put_payment(make_payment(payment_id="pay_old"))
    factory.put_payment(make_payment(payment_id="pay_later", status="retrying",
                                     next_attempt_at=T0 + timedelta(seconds=9)))

    with factory() as uow:
        claimed = [uow.payments.claim_due(now=T0, owner="w", lease_until=T0 + timedelta(seconds=30))
                   for _ in range(3)]
        uow.commit()

    assert [p.id if p else None for p in claimed] == ["pay_old", "pay_new", None]
    assert factory.payment("pay_old").lease_owner == "w"


def test_list_pages_newest_first_after_a_cursor():
    factory = FakeUnitOfWorkFactory()
    for i in range(4):
        factory.put_payment(make_payment(payment_id=f"pay_{i}", at=T0 + timedelta(seconds=i)))

    with factory() as uow:
        page = uow.payments.list(customer_id=None, status=None, limit=2,
                                 after=PageCursor(T0 + timedelta(seconds=3), "pay_3"))

    assert [p.id for p in page] == ["pay_2", "pay_1"]


def test_list_keeps_only_payments_within_the_range_of_dates_and_amounts():
    factory = FakeUnitOfWorkFactory()
    for i in range(4):
        factory.put_payment(make_payment(payment_id=f"pay_{i}", at=T0 + timedelta(days=i)))
    for payment_id, amount in (("pay_1", 500), ("pay_2", 1500)):
        factory.put_payment(replace(factory.payment(payment_id), amount=amount))
    factory.put_payment(replace(factory.payment("pay_2"), id="pay_yen", currency="JPY"))  # ¥1,500: not $15
    within = PaymentRange(created_from=T0 + timedelta(days=1), created_before=T0 + timedelta(days=3),
                          min_amount=1000, max_amount=2000, currency="USD")

    with factory() as uow:
        page = uow.payments.list(customer_id=None, status=None, limit=10, after=None, within=within)

    assert [p.id for p in page] == ["pay_2"]


def test_the_ledger_keeps_the_first_charge_for_a_key():
    ledger = FakeLedger()
    first = LedgerCharge("pay_1", 100, "USD", "txn_a", T0)

    ledger.record(first)

    kept = ledger.record(LedgerCharge("pay_1", 100, "USD", "txn_b", T0))

    assert kept == first
    assert ledger.list("pay_1", 10) == [first]


# --- events reach the outbox at commit --------------------------------------------------------
def make_order(order_id: str = "ord_1") -> Order:
    return Order(order_id, "usr_1", "pending_payment", [OrderItem("prod_1", "Lamp", 2, 4500)], 9000, "USD",
                 "pay_1", "", T0, T0)


def test_the_new_events_of_an_added_aggregate_reach_the_outbox_at_commit_and_leave_the_aggregate():
    factory = FakeUnitOfWorkFactory()
    payment = make_payment()
    payment.record_created(T0)

    with factory() as uow:
        uow.payments.add(payment)
        assert factory.events() == []  # nothing before the commit
        uow.commit()

    assert factory.event_types("pay_1") == ["payment.created"]
    assert payment.events == []


def test_a_changed_copy_that_is_not_saved_writes_neither_its_state_nor_its_events():
    factory = FakeUnitOfWorkFactory()
    factory.put_payment(make_payment())

    with factory() as uow:
        uow.payments.get("pay_1").start_processing(T0)
        uow.commit()

    assert factory.payment("pay_1").status == "pending"
    assert factory.events() == []


def test_events_reach_the_outbox_in_the_order_their_aggregates_were_saved_then_published():
    factory = FakeUnitOfWorkFactory()
    order, payment = make_order(), make_payment(order_id="ord_1")
    cart_updated = Event("cart.updated", {}, T0, customer_id="usr_1")

    with factory() as uow:
        order.record_created(T0)
        uow.orders.add(order)
        payment.record_created(T0)
        uow.payments.add(payment)
        uow.publish(cart_updated)
        uow.commit()

    assert [(e.type, e.seq) for e in factory.events()] == [
        ("order.created", 1), ("payment.created", 2), ("cart.updated", 3)]


def test_a_second_commit_writes_only_the_events_recorded_since_the_first():
    factory = FakeUnitOfWorkFactory()
    payment = make_payment()

    with factory() as uow:
        payment.record_created(T0)
        uow.payments.add(payment)
        uow.commit()
        payment.start_processing(T0)
        uow.payments.update(payment)
        uow.commit()

    assert factory.event_types() == ["payment.created", "payment.processing"]


def test_a_rolled_back_transaction_writes_no_events_and_owes_no_deliveries():
    factory = FakeUnitOfWorkFactory()
    factory.put_payment(make_payment(status="processing", order_id="ord_1"))

    with factory() as uow:
        payment = uow.payments.get("pay_1")
        payment.complete("txn_1", T0)
        uow.payments.update(payment)
        uow.publish(Event("cart.updated", {}, T0))

    assert factory.events() == [] and factory.deliveries() == []


# --- deliveries ------------------------------------------------------------------------------
def finish(factory: FakeUnitOfWorkFactory, payment_id: str, order_id: str | None) -> None:
    factory.put_payment(make_payment(payment_id=payment_id, status="processing", order_id=order_id))
    with factory() as uow:
        payment = uow.payments.get(payment_id)
        payment.complete("txn_1", T0)
        uow.payments.update(payment)
        uow.commit()


def test_an_orders_payment_event_is_owed_to_the_orders_consumer_in_the_same_commit():
    factory = FakeUnitOfWorkFactory()

    finish(factory, "pay_1", order_id="ord_1")
    finish(factory, "pay_2", order_id=None)  # a one-off payment settles no order

    (delivery,) = factory.deliveries()
    assert (delivery.consumer, delivery.event_id, delivery.status) == (
        "orders", factory.events("pay_1")[0].id, DeliveryStatus.PENDING)


def test_a_claimed_delivery_is_leased_then_retried_later_or_done():
    factory = FakeUnitOfWorkFactory()
    finish(factory, "pay_1", order_id="ord_1")
    lease = T0 + timedelta(seconds=30)

    with factory() as uow:
        claimed = uow.deliveries.claim_due(now=T0, owner="w", lease_until=lease)
        again = uow.deliveries.claim_due(now=T0, owner="w2", lease_until=lease)
        uow.deliveries.retry_later(claimed.id, T0 + timedelta(seconds=2), "Boom" * 100)
        too_early = uow.deliveries.claim_due(now=T0 + timedelta(seconds=1), owner="w", lease_until=lease)
        retried = uow.deliveries.claim_due(now=T0 + timedelta(seconds=2), owner="w", lease_until=lease)
        uow.deliveries.done(retried.id, T0 + timedelta(seconds=3))
        uow.commit()

    assert (claimed.consumer, claimed.attempts, claimed.event.type) == ("orders", 1, "payment.completed")
    assert claimed.event.seq == 1
    assert (again, too_early) == (None, None)
    assert retried.attempts == 2
    (row,) = factory.deliveries()
    assert (row.status, row.done_at, row.lease_owner, len(row.last_error)) == (
        DeliveryStatus.DONE, T0 + timedelta(seconds=3), None, 200)


# --- products and carts ----------------------------------------------------------------------
def lamp(stock: int = 3, active: bool = True) -> Product:
    return Product("prod_1", "Lamp", "", 4500, "USD", "home", None, stock, active, T0, T0)


def test_reserving_takes_stock_only_while_enough_is_left_of_an_active_product():
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.products.add(lamp(stock=3))
        uow.products.add(replace(lamp(), id="prod_2", active=False))

        results = [uow.products.reserve("prod_1", 2), uow.products.reserve("prod_1", 2),
                   uow.products.reserve("prod_1", 1), uow.products.reserve("prod_2", 1)]
        uow.products.release("prod_1", 5)

        assert results == [True, False, True, False]
        assert uow.products.get("prod_1").stock == 5


def test_taking_a_cart_empties_it_only_when_it_holds_exactly_the_lines_read():
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.carts.set("usr_1", "prod_1", 2, T0)
        uow.carts.set("usr_1", "prod_2", 1, T0)

        changed = uow.carts.take("usr_1", [("prod_1", 3), ("prod_2", 1)])
        partial = uow.carts.take("usr_1", [("prod_1", 2)])
        assert uow.carts.items("usr_1") == [("prod_1", 2), ("prod_2", 1)]
        taken = uow.carts.take("usr_1", [("prod_2", 1), ("prod_1", 2)])

        assert (changed, partial, taken) == (False, False, True)
        assert uow.carts.items("usr_1") == []
