"""One cart becomes at most one order, however many checkouts of it run at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.bootstrap import Container, build
from domain.model.errors import CartChanged
from domain.model.users import User
from tests.conftest import make_settings

RACERS = 20


@pytest.fixture
def racing_container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    container = build(make_settings(tmp_path, database_url=db_url, rate_limit_capacity=100,
                                    rate_limit_per_second=100.0))
    container.init_storage()
    yield container
    container.db.dispose()


def customer(container: Container) -> User:
    with container.uow(read_only=True) as uow:
        return uow.users.get_by_email("customer@example.com")


def check_out_at_once(container: Container, buyer: User, body: dict) -> list[str]:
    start = threading.Barrier(RACERS)

    def check_out(_: int) -> str:
        start.wait(timeout=30)
        try:
            _order, replayed = container.orders.place(buyer, dict(body))
        except CartChanged:
            return "cart_changed"
        return "replayed" if replayed else "created"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        return list(pool.map(check_out, range(RACERS)))


def test_twenty_checkouts_of_one_cart_give_one_order_one_charge_and_one_reservation(racing_container):
    c = racing_container
    buyer = customer(c)
    stock_before = c.catalog.get("prod_001").stock
    c.cart.set_quantity(buyer, "prod_001", 2)

    results = check_out_at_once(c, buyer, {})

    assert Counter(results) == {"created": 1, "cart_changed": RACERS - 1}
    orders = c.orders.list(buyer)
    assert len(orders) == 1
    assert c.catalog.get("prod_001").stock == stock_before - 2
    assert c.cart.view(buyer).lines == []
    with c.uow(read_only=True) as uow:
        payments = uow.payments.list(customer_id=buyer.id, status=None, limit=100, after=None)
    assert [p.order_id for p in payments] == [orders[0].id]
    asyncio.run(c.processor.drain())
    assert len(c.ledger.list(None, 100)) == 1


def test_twenty_checkouts_of_one_cart_with_one_key_give_one_order_and_replays(racing_container):
    c = racing_container
    buyer = customer(c)
    stock_before = c.catalog.get("prod_002").stock
    c.cart.set_quantity(buyer, "prod_002", 1)

    results = check_out_at_once(c, buyer, {"idempotencyKey": "checkout-once"})

    assert Counter(results) == {"created": 1, "replayed": RACERS - 1}
    assert len(c.orders.list(buyer)) == 1
    assert c.catalog.get("prod_002").stock == stock_before - 1


def test_a_cart_changed_between_reading_and_ordering_is_refused_and_nothing_is_reserved(racing_container):
    c = racing_container
    buyer = customer(c)
    c.cart.set_quantity(buyer, "prod_003", 1)
    stock_before = c.catalog.get("prod_003").stock
    real_uow = c.orders.uow
    changed = False

    def uow_that_changes_the_cart_after_the_read(*args, **kwargs):
        nonlocal changed
        if not kwargs.get("read_only") and not changed:  # the cart was read; another tab changes it now
            changed = True
            c.cart.set_quantity(buyer, "prod_003", 3)
        return real_uow(*args, **kwargs)

    c.orders.uow = uow_that_changes_the_cart_after_the_read
    with pytest.raises(CartChanged):
        c.orders.place(buyer, {})

    assert c.orders.list(buyer) == []
    assert c.catalog.get("prod_003").stock == stock_before
    assert [(line.product.id, line.quantity) for line in c.cart.view(buyer).lines] == [("prod_003", 3)]


def test_renames_racing_with_orders_never_give_reserved_stock_back(racing_container):
    c = racing_container
    buyers = []
    for i in range(10):
        buyers.append(c.users.create(email=f"racer{i}@example.com", password="s3cret-pass", name=f"Racer {i}"))
    stock_before = c.catalog.get("prod_004").stock
    start = threading.Barrier(20)

    def buy(buyer: User) -> None:
        start.wait(timeout=30)
        c.orders.place(buyer, {"items": [{"productId": "prod_004", "quantity": 1}]})

    def rename(i: int) -> None:
        start.wait(timeout=30)
        c.catalog.update("prod_004", {"name": f"Bluetooth Speaker v{i}"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(buy, b) for b in buyers] + [pool.submit(rename, i) for i in range(10)]
        for f in futures:
            f.result()

    assert c.catalog.get("prod_004").stock == stock_before - 10
