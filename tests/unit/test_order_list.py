"""My Orders' reads: one page of the orders a user may see, filtered by status, customer and creation day in
the query, newest first, with a cursor to the next page. On fakes (tests/fakes.py) with the demo catalogue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.model.errors import ValidationFailed
from domain.model.events import Event
from domain.model.orders import Order
from domain.model.users import User
from tests.fakes import T0, FakeShop, make_shop


@pytest.fixture
def shop() -> FakeShop:
    return make_shop(demo=True)


@pytest.fixture
def customer(shop: FakeShop) -> User:
    return next(u for u in shop.users.list() if u.role == "customer")


@pytest.fixture
def admin(shop: FakeShop) -> User:
    return next(u for u in shop.users.list() if u.role == "admin")


@pytest.fixture
def other(shop: FakeShop) -> User:
    return shop.users.create(email="other@example.com", password="s3cret-pass", name="Other")


def order(shop: FakeShop, buyer: User, *, hours_later: float = 1) -> Order:
    """An order of one book by `buyer`, placed `hours_later` after the previous one."""
    shop.clock.advance(hours_later * 3600)
    placed, _ = shop.orders.place(buyer, {"items": [{"productId": "prod_009", "quantity": 1}]})
    return placed


def paid(shop: FakeShop, placed: Order) -> None:
    assert shop.orders.handle(Event("payment.completed", {"id": placed.payment_id, "orderId": placed.id}, T0))


def ids(orders: list[Order]) -> list[str]:
    return [o.id for o in orders]


def test_a_customer_pages_through_their_own_orders_newest_first(shop, customer, other):
    mine = [order(shop, customer) for _ in range(5)]
    order(shop, other)

    first, cursor = shop.orders.page(customer, limit=3)
    second, last = shop.orders.page(customer, limit=3, cursor=cursor)

    assert ids(first) == ids(mine[::-1][:3])
    assert ids(second) == ids(mine[::-1][3:])
    assert last is None


def test_a_customer_asking_for_another_customers_orders_finds_none(shop, customer, other):
    order(shop, other)

    found, cursor = shop.orders.page(customer, customer_id=other.id)

    assert (found, cursor) == ([], None)


def test_an_admin_sees_everyones_orders_or_one_customers(shop, customer, other, admin):
    mine, theirs = order(shop, customer), order(shop, other)

    everyone, _ = shop.orders.page(admin)
    one, _ = shop.orders.page(admin, customer_id=other.id)

    assert ids(everyone) == [theirs.id, mine.id]
    assert ids(one) == [theirs.id]


def test_the_status_filter_keeps_that_status_only_even_beyond_the_first_page(shop, customer):
    settled = order(shop, customer)
    paid(shop, settled)
    for _ in range(4):
        order(shop, customer)

    found, cursor = shop.orders.page(customer, status="paid", limit=2)

    assert ids(found) == [settled.id]
    assert cursor is None


def test_the_date_range_keeps_orders_created_from_its_start_and_before_its_end(shop, customer):
    early, middle, late = order(shop, customer), order(shop, customer, hours_later=24), \
        order(shop, customer, hours_later=24)

    found, _ = shop.orders.page(customer, created_from=middle.created_at,
                                created_before=late.created_at)

    assert ids(found) == [middle.id]
    assert early.id not in ids(found)


@pytest.mark.parametrize("arguments", [{"status": "shipped"}, {"limit": 0},
                                       {"created_from": T0, "created_before": T0 - timedelta(days=1)},
                                       {"cursor": "not a cursor"}])
def test_bad_filters_are_refused_with_a_clear_message(shop, customer, arguments):
    with pytest.raises(ValidationFailed):
        shop.orders.page(customer, **arguments)
