"""The storefront's storage: repositories on a real database, and stock under concurrent buyers."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container, build
from domain.clock import new_id
from domain.model.errors import InsufficientStock
from domain.model.events import Event
from domain.model.orders import Order, OrderItem
from domain.model.users import User
from tests.conftest import make_settings, postgres_url
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------------------
def add_buyers(container: Container, count: int) -> list[User]:
    """Customers written straight to storage (no password hashing: they never log in)."""
    now = datetime.now(UTC)
    buyers = [User(new_id("usr"), f"buyer{i}@example.com", f"Buyer {i}", "customer", "unused-hash", True, now, now)
              for i in range(count)]
    with container.uow() as uow:
        for buyer in buyers:
            uow.users.add(buyer)
        uow.commit()
    return buyers


def set_stock(container: Container, product_id: str, stock: int) -> None:
    container.catalog.update(product_id, {"stock": stock})


def stock_of(container: Container, product_id: str) -> int:
    return container.catalog.get(product_id).stock


def buy_at_once(container: Container, buyers: list[User], product_id: str) -> list[str]:
    """Every buyer orders one unit at the same moment, each in their own thread."""
    start = threading.Barrier(len(buyers))

    def buy(buyer: User) -> str:
        start.wait(timeout=30)
        try:
            container.orders.place(buyer, {"items": [{"productId": product_id, "quantity": 1}]})
        except InsufficientStock:
            return "sold out"
        return "bought"

    with ThreadPoolExecutor(max_workers=len(buyers)) as pool:
        return list(pool.map(buy, buyers))


def orders_of(container: Container) -> list[Order]:
    with container.uow(read_only=True) as uow:
        return uow.orders.list(customer_id=None, limit=1000)


@pytest.fixture
def pg_container(tmp_path) -> Iterator[Container]:
    """A container on a fresh PostgreSQL schema, dropped afterwards."""
    if not postgres_url():
        pytest.skip(SKIP_REASON)
    with fresh_postgres_schema() as url:
        container = build(make_settings(tmp_path, database_url=url))
        container.init_storage()
        try:
            yield container
        finally:
            container.db.dispose()


# --- stock reservation ---------------------------------------------------------------------
def test_reserving_takes_stock_only_while_enough_is_left(container):
    set_stock(container, "prod_001", 3)

    with container.uow() as uow:
        results = [uow.products.reserve("prod_001", 2), uow.products.reserve("prod_001", 2),
                   uow.products.reserve("prod_001", 1)]
        uow.commit()

    assert results == [True, False, True]
    assert stock_of(container, "prod_001") == 0


def test_an_inactive_product_cannot_be_reserved(container):
    container.catalog.update("prod_002", {"active": False})

    with container.uow() as uow:
        reserved = uow.products.reserve("prod_002", 1)
        uow.commit()

    assert reserved is False
    assert stock_of(container, "prod_002") == 40


def test_released_stock_comes_back(container):
    with container.uow() as uow:
        uow.products.release("prod_003", 5)
        uow.commit()

    assert stock_of(container, "prod_003") == 125


def test_a_reservation_that_is_not_committed_leaves_the_stock_alone(container):
    with container.uow() as uow:
        uow.products.reserve("prod_003", 5)

    assert stock_of(container, "prod_003") == 120


# --- carts and orders in storage -----------------------------------------------------------
def test_cart_lines_are_kept_per_customer_in_the_order_they_were_added(container):
    a, b = add_buyers(container, 2)

    with container.uow() as uow:
        uow.carts.set(a.id, "prod_009", 1, T0 + timedelta(seconds=2))
        uow.carts.set(a.id, "prod_001", 3, T0 + timedelta(seconds=1))
        uow.carts.set(b.id, "prod_001", 7, T0)
        uow.carts.set(a.id, "prod_009", 4, T0 + timedelta(seconds=9))  # a change keeps the line's place
        uow.commit()

    with container.uow(read_only=True) as uow:
        assert uow.carts.items(a.id) == [("prod_001", 3), ("prod_009", 4)]
        assert uow.carts.items(b.id) == [("prod_001", 7)]


def test_removing_a_product_everywhere_clears_it_from_every_cart(container):
    a, b = add_buyers(container, 2)
    with container.uow() as uow:
        for buyer in (a, b):
            uow.carts.set(buyer.id, "prod_001", 1, T0)
            uow.carts.set(buyer.id, "prod_002", 1, T0 + timedelta(seconds=1))
        uow.commit()

    with container.uow() as uow:
        uow.carts.remove_product_everywhere("prod_001")
        uow.carts.remove(b.id, "prod_002")
        uow.commit()

    with container.uow(read_only=True) as uow:
        assert uow.carts.items(a.id) == [("prod_002", 1)]
        assert uow.carts.items(b.id) == []


def test_an_order_and_its_items_are_stored_and_read_back_in_order(container):
    (buyer,) = add_buyers(container, 1)
    order = Order("ord_test", buyer.id, "pending_payment",
                  [OrderItem("prod_009", "Book", 2, 3499), OrderItem("prod_001", "Headphones", 1, 29999)],
                  36997, "USD", None, "birthday", T0, T0)

    with container.uow() as uow:
        uow.orders.add(order)
        uow.commit()

    with container.uow(read_only=True) as uow:
        stored = uow.orders.get("ord_test")
        assert stored == order
        assert uow.orders.product_is_ordered("prod_001")
        assert not uow.orders.product_is_ordered("prod_002")


def test_a_payment_event_of_an_order_is_queued_for_delivery_to_the_orders_consumer(container):
    completed = Event("payment.completed", {"id": "pay_x", "orderId": "ord_x"}, T0)
    unrelated = Event("payment.completed", {"id": "pay_y", "orderId": None}, T0)

    with container.uow() as uow:
        uow.publish(completed)
        uow.publish(unrelated)
        uow.commit()

    with container.uow() as uow:
        delivery = uow.deliveries.claim_due(now=datetime.now(UTC), owner="me",
                                            lease_until=datetime.now(UTC) + timedelta(seconds=30))
        uow.deliveries.done(delivery.id, datetime.now(UTC))
        uow.commit()
    assert (delivery.consumer, delivery.event.id, delivery.attempts) == ("orders", completed.id, 1)
    with container.uow(read_only=True) as uow:
        assert uow.deliveries.pending_count() == 0


# --- concurrent buyers ---------------------------------------------------------------------
def last_unit_goes_to_exactly_one_buyer(container: Container) -> None:
    buyers = add_buyers(container, 2)
    set_stock(container, "prod_001", 1)

    results = buy_at_once(container, buyers, "prod_001")

    assert Counter(results) == {"bought": 1, "sold out": 1}
    assert stock_of(container, "prod_001") == 0
    assert len(orders_of(container)) == 1


def test_two_buyers_of_the_last_unit_on_sqlite_get_one_order_and_one_refusal(container):
    last_unit_goes_to_exactly_one_buyer(container)


def test_two_buyers_of_the_last_unit_on_postgresql_get_one_order_and_one_refusal(pg_container):
    last_unit_goes_to_exactly_one_buyer(pg_container)


def test_ten_buyers_of_three_units_get_exactly_three_orders(container):
    buyers = add_buyers(container, 10)
    set_stock(container, "prod_014", 3)

    results = buy_at_once(container, buyers, "prod_014")

    assert Counter(results) == {"bought": 3, "sold out": 7}
    assert stock_of(container, "prod_014") == 0
    orders = orders_of(container)
    assert len(orders) == 3
    assert len({o.customer_id for o in orders}) == 3
    with container.uow(read_only=True) as uow:
        assert all(uow.payments.get(o.payment_id).order_id == o.id for o in orders)


def test_ten_buyers_of_three_units_on_postgresql_get_exactly_three_orders(pg_container):
    buyers = add_buyers(pg_container, 10)
    set_stock(pg_container, "prod_014", 3)

    results = buy_at_once(pg_container, buyers, "prod_014")

    assert Counter(results) == {"bought": 3, "sold out": 7}
    assert stock_of(pg_container, "prod_014") == 0
    assert len(orders_of(pg_container)) == 3


def test_two_api_clients_racing_for_the_last_unit_get_one_201_and_one_409(container, client, admin_headers,
                                                                          customer_headers, new_customer):
    other_headers = new_customer("racer@example.com")
    client.put("/api/products/prod_013", headers=admin_headers, json={"stock": 1})
    app = client.app
    start = threading.Barrier(2)

    def buy(headers: dict[str, str]) -> int:
        with TestClient(app, raise_server_exceptions=False) as own_client:
            start.wait(timeout=30)
            response = own_client.post("/api/orders", headers=headers,
                                       json={"items": [{"productId": "prod_013", "quantity": 1}]})
        return response.status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(buy, [customer_headers, other_headers]))

    assert statuses == [201, 409]
    assert client.get("/api/products/prod_013").json()["stock"] == 0
    assert len(client.get("/api/orders", headers=admin_headers).json()["data"]) == 1
