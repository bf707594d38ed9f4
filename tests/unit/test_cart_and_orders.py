"""The cart and orders: server-side pricing, stock reservation and settlement by payment events.

The services run on fakes (tests/fakes.py) holding the demo users and catalogue (prod_001..prod_014, USD).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.model.cart import Cart, CartLine
from domain.model.catalog import Product
from domain.model.errors import (
    CartChanged,
    IdempotencyKeyReused,
    IllegalTransition,
    InsufficientStock,
    NotFound,
    ValidationFailed,
)
from domain.model.events import Event
from domain.model.orders import Order, OrderItem, parse_items
from tests.fakes import FakeShop, make_shop

T0 = datetime(2026, 1, 1, tzinfo=UTC)
APPROVED = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def product(pid: str = "prod_x", name: str = "Lamp", price_minor: int = 4500, *, stock: int = 5,
            active: bool = True, currency: str = "USD") -> Product:
    return Product(pid, name, "", price_minor, currency, "home", None, stock, active, T0, T0)


@pytest.fixture
def shop() -> FakeShop:
    return make_shop(demo=True)


@pytest.fixture
def customer(shop):
    return next(u for u in shop.users.list() if u.role == "customer")


@pytest.fixture
def admin(shop):
    return next(u for u in shop.users.list() if u.role == "admin")


@pytest.fixture
def other_customer(shop):
    return shop.users.create(email="other@example.com", password="s3cret-pass", name="Other")


def stock_of(shop, product_id: str) -> int:
    return shop.catalog.get(product_id).stock


def payment_of(shop, order):
    with shop.uow(read_only=True) as uow:
        return uow.payments.get(order.payment_id)


def outbox_types(shop, aggregate_id: str) -> list[str]:
    with shop.uow(read_only=True) as uow:
        return [e.type for e in uow.outbox.for_aggregate(aggregate_id)]


def settle(shop, order, event_type: str) -> bool:
    event = Event(event_type, {"id": order.payment_id, "orderId": order.id}, T0)
    return shop.orders.handle(event)


# --- cart lines ----------------------------------------------------------------------------
def test_a_cart_line_totals_its_quantity_at_the_unit_price():
    line = CartLine(product(price_minor=10, stock=50), 37)

    assert line.line_total == 370
    assert line.problem is None
    assert line.public()["available"] is True


@pytest.mark.parametrize(("changes", "quantity", "expected"), [
    ({"active": False}, 1, "Lamp is no longer available"),
    ({"stock": 0}, 1, "Lamp is out of stock"),
    ({"stock": 2}, 3, "only 2 of Lamp left"),
])
def test_a_cart_line_that_cannot_be_bought_names_the_product_and_the_reason(changes, quantity, expected):
    line = CartLine(replace(product(), **changes), quantity)

    assert line.problem == expected
    assert line.public()["available"] is False
    assert Cart([line]).problems == [expected]


def test_a_cart_sums_its_lines_exactly_in_minor_units():
    cart = Cart([CartLine(product("prod_a", price_minor=10), 37), CartLine(product("prod_b", price_minor=20), 53)])

    assert cart.total == 1430
    assert cart.item_count == 90
    assert cart.currency == "USD"


def test_an_empty_cart_has_no_currency_and_a_zero_total():
    cart = Cart([])

    assert (cart.total, cart.currency, cart.public()["items"]) == (0, None, [])


# --- CartService ---------------------------------------------------------------------------
def test_setting_a_quantity_stores_the_line_in_the_customers_cart(shop, customer):
    shop.cart.set_quantity(customer, "prod_001", 2)

    cart = shop.cart.view(customer)

    assert [(line.product.id, line.quantity) for line in cart.lines] == [("prod_001", 2)]
    assert cart.total == 2 * 29999


def test_setting_a_quantity_again_replaces_it(shop, customer):
    shop.cart.set_quantity(customer, "prod_001", 2)

    cart = shop.cart.set_quantity(customer, "prod_001", 5)

    assert [line.quantity for line in cart.lines] == [5]


def test_a_quantity_of_zero_removes_the_line(shop, customer):
    shop.cart.set_quantity(customer, "prod_001", 2)
    shop.cart.set_quantity(customer, "prod_002", 1)

    cart = shop.cart.set_quantity(customer, "prod_001", 0)

    assert [line.product.id for line in cart.lines] == ["prod_002"]


@pytest.mark.parametrize("quantity", [101, -1, "3", 2.0, True, None])
def test_a_quantity_that_is_not_a_whole_number_from_0_to_100_is_refused(shop, customer, quantity):
    with pytest.raises(ValidationFailed) as raised:
        shop.cart.set_quantity(customer, "prod_005", quantity)

    assert raised.value.details[0].field == "quantity"
    assert shop.cart.view(customer).lines == []


def test_more_than_the_stock_is_refused_as_insufficient_stock(shop, customer):
    with pytest.raises(InsufficientStock) as raised:
        shop.cart.set_quantity(customer, "prod_014", 21)  # 20 in stock

    assert "Linen Throw Blanket" in raised.value.message
    assert shop.cart.view(customer).lines == []


def test_an_unknown_product_cannot_go_into_the_cart(shop, customer):
    with pytest.raises(NotFound):
        shop.cart.set_quantity(customer, "prod_nope", 1)


def test_an_inactive_product_cannot_be_added(shop, customer):
    shop.catalog.update("prod_003", {"active": False})

    with pytest.raises(ValidationFailed):
        shop.cart.set_quantity(customer, "prod_003", 1)


def test_a_product_in_another_currency_cannot_join_the_cart(shop, customer):
    euro = shop.catalog.create({"name": "Croissant", "unitPrice": "1.20", "currency": "EUR",
                                     "category": "food", "stock": 5})
    shop.cart.set_quantity(customer, "prod_001", 1)

    with pytest.raises(ValidationFailed) as raised:
        shop.cart.set_quantity(customer, euro.id, 1)

    assert "EUR" in raised.value.message
    assert len(shop.cart.view(customer).lines) == 1


def test_each_customer_has_their_own_cart(shop, customer, other_customer):
    shop.cart.set_quantity(customer, "prod_001", 1)

    shop.cart.set_quantity(other_customer, "prod_002", 3)

    assert [line.product.id for line in shop.cart.view(customer).lines] == ["prod_001"]
    assert [line.product.id for line in shop.cart.view(other_customer).lines] == ["prod_002"]


def test_clearing_a_cart_empties_only_that_cart(shop, customer, other_customer):
    shop.cart.set_quantity(customer, "prod_001", 1)
    shop.cart.set_quantity(other_customer, "prod_002", 1)

    shop.cart.clear(customer)

    assert shop.cart.view(customer).lines == []
    assert len(shop.cart.view(other_customer).lines) == 1


def test_a_product_that_sold_out_stays_in_the_cart_flagged(shop, customer):
    shop.cart.set_quantity(customer, "prod_004", 2)

    shop.catalog.update("prod_004", {"stock": 0})

    cart = shop.cart.view(customer)
    assert [line.product.id for line in cart.lines] == ["prod_004"]
    assert cart.problems == ["Bluetooth Speaker is out of stock"]


# --- parse_items ---------------------------------------------------------------------------
def test_repeated_products_in_an_order_request_are_merged():
    items = parse_items([{"productId": "prod_001", "quantity": 2}, {"productId": "prod_002", "quantity": 1},
                         {"productId": "prod_001", "quantity": 3}])

    assert items == [("prod_001", 5), ("prod_002", 1)]


@pytest.mark.parametrize(("raw", "field"), [
    ([], "items"),
    (None, "items"),
    ([{"productId": "prod_001", "quantity": 0}], "items[0].quantity"),
    ([{"productId": "prod_001", "quantity": 101}], "items[0].quantity"),
    ([{"quantity": 1}], "items[0].productId"),
    ([{"productId": "prod_001", "quantity": 60}, {"productId": "prod_001", "quantity": 41}], "items"),
])
def test_a_bad_item_list_is_refused_naming_the_field(raw, field):
    with pytest.raises(ValidationFailed) as raised:
        parse_items(raw)

    assert field in {d.field for d in raised.value.details}


# --- the order state machine ---------------------------------------------------------------
def new_order() -> Order:
    return Order("ord_1", "usr_1", "pending_payment", [OrderItem("prod_1", "Lamp", 2, 4500)], 9000, "USD",
                 "pay_1", "", T0, T0)


def test_an_order_item_totals_its_line():
    assert OrderItem("prod_1", "Lamp", 3, 10).line_total == 30


def test_a_pending_order_becomes_paid_and_records_the_event():
    order = new_order()

    order.mark_paid(T0)

    assert order.status == "paid"
    assert [e.type for e in order.events] == ["order.paid"]
    assert order.events[0].data["status"] == "paid"


def test_a_pending_order_can_fail_its_payment():
    order = new_order()

    order.mark_payment_failed(T0)

    assert order.status == "payment_failed"
    assert [e.type for e in order.events] == ["order.payment_failed"]


@pytest.mark.parametrize("first", ["mark_paid", "mark_payment_failed"])
@pytest.mark.parametrize("second", ["mark_paid", "mark_payment_failed"])
def test_a_settled_order_never_changes_again(first, second):
    order = new_order()
    getattr(order, first)(T0)

    with pytest.raises(IllegalTransition):
        getattr(order, second)(T0)

    assert len(order.events) == 1


# --- OrderService.place --------------------------------------------------------------------
def test_placing_an_order_prices_it_on_the_server_and_reserves_the_stock(shop, customer):
    order, replayed = shop.orders.place(customer, {
        "items": [{"productId": "prod_001", "quantity": 2}, {"productId": "prod_012", "quantity": 3}],
        "amount": 1, "card": APPROVED})

    assert replayed is False
    assert order.status == "pending_payment"
    assert order.total_amount == 2 * 29999 + 3 * 1200
    assert (stock_of(shop, "prod_001"), stock_of(shop, "prod_012")) == (23, 297)


def test_the_orders_payment_is_for_the_order_total_and_points_back_at_the_order(shop, customer):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_002", "quantity": 2}]})

    payment = payment_of(shop, order)

    assert payment.amount == order.total_amount == 39800
    assert payment.order_id == order.id
    assert payment.customer_id == customer.id
    assert payment.status == "pending"


def test_placing_an_order_writes_order_created_to_the_outbox(shop, customer):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_002", "quantity": 1}]})

    assert outbox_types(shop, order.id) == ["order.created"]


def test_an_order_totals_ten_and_twenty_cent_prices_exactly(shop, customer):
    dime = shop.catalog.create({"name": "Dime Sweet", "unitPrice": Decimal("0.10"), "category": "food",
                                     "stock": 100})
    twenty = shop.catalog.create({"name": "Twenty Sweet", "unitPrice": Decimal("0.20"), "category": "food",
                                       "stock": 100})

    order, _ = shop.orders.place(customer, {"items": [{"productId": dime.id, "quantity": 37},
                                                           {"productId": twenty.id, "quantity": 53}]})

    assert order.total_amount == 1430
    assert payment_of(shop, order).amount == 1430


@pytest.mark.parametrize("product_id", ["prod_nope", "prod_006"])
def test_an_unknown_or_inactive_product_cannot_be_ordered(shop, customer, product_id):
    shop.catalog.update("prod_006", {"active": False})

    with pytest.raises(ValidationFailed) as raised:
        shop.orders.place(customer, {"items": [{"productId": product_id, "quantity": 1}]})

    assert raised.value.details[0].field == "items[0].productId"


def test_products_in_different_currencies_cannot_share_an_order(shop, customer):
    euro = shop.catalog.create({"name": "Croissant", "unitPrice": "1.20", "currency": "EUR",
                                     "category": "food", "stock": 5})

    with pytest.raises(ValidationFailed) as raised:
        shop.orders.place(customer, {"items": [{"productId": "prod_001", "quantity": 1},
                                                    {"productId": euro.id, "quantity": 1}]})

    assert "currency" in raised.value.message
    assert stock_of(shop, "prod_001") == 25


def test_an_order_for_more_than_the_stock_reserves_nothing(shop, customer):
    with pytest.raises(InsufficientStock) as raised:
        shop.orders.place(customer, {"items": [{"productId": "prod_001", "quantity": 3},
                                                    {"productId": "prod_014", "quantity": 21}]})

    assert "Linen Throw Blanket" in raised.value.message
    assert (stock_of(shop, "prod_001"), stock_of(shop, "prod_014")) == (25, 20)
    assert shop.orders.list(customer) == []


def test_ordering_the_cart_empties_it(shop, customer):
    shop.cart.set_quantity(customer, "prod_005", 2)
    shop.cart.set_quantity(customer, "prod_007", 1)

    order, _ = shop.orders.place(customer, {})

    assert [(i.product_id, i.quantity) for i in order.items] == [("prod_005", 2), ("prod_007", 1)]
    assert order.total_amount == 2 * 2400 + 1875
    assert shop.cart.view(customer).lines == []


def test_a_retried_cart_checkout_replays_the_order_although_the_cart_is_now_empty(shop, customer):
    shop.cart.set_quantity(customer, "prod_005", 2)
    first, _ = shop.orders.place(customer, {"idempotencyKey": "checkout-1"})

    again, replayed = shop.orders.place(customer, {"idempotencyKey": "checkout-1"})

    assert replayed is True
    assert again.id == first.id
    assert stock_of(shop, "prod_005") == 198


def test_an_explicit_empty_item_list_is_refused_rather_than_ordering_the_cart(shop, customer):
    shop.cart.set_quantity(customer, "prod_005", 2)

    with pytest.raises(ValidationFailed) as raised:
        shop.orders.place(customer, {"items": []})

    assert raised.value.details[0].field == "items"
    assert len(shop.cart.view(customer).lines) == 1
    assert stock_of(shop, "prod_005") == 200


def test_an_empty_cart_cannot_be_ordered(shop, customer):
    with pytest.raises(CartChanged) as raised:
        shop.orders.place(customer, {})

    assert "empty" in raised.value.message


def test_a_cart_with_an_inactive_product_is_refused_naming_it_and_kept(shop, customer):
    shop.cart.set_quantity(customer, "prod_008", 1)
    shop.catalog.update("prod_008", {"active": False})

    with pytest.raises(ValidationFailed) as raised:
        shop.orders.place(customer, {})

    assert "Running Shoes" in raised.value.message
    assert len(shop.cart.view(customer).lines) == 1


def test_a_failed_cart_order_keeps_the_cart_and_the_stock(shop, customer):
    shop.cart.set_quantity(customer, "prod_001", 1)
    shop.cart.set_quantity(customer, "prod_014", 5)
    shop.catalog.update("prod_014", {"stock": 0})

    with pytest.raises(InsufficientStock) as raised:
        shop.orders.place(customer, {})

    assert "Linen Throw Blanket" in raised.value.message
    assert stock_of(shop, "prod_001") == 25
    assert len(shop.cart.view(customer).lines) == 2


def test_the_same_idempotency_key_and_request_returns_the_same_order(shop, customer):
    request = {"items": [{"productId": "prod_009", "quantity": 1}], "idempotencyKey": "order-key-1"}
    first, _ = shop.orders.place(customer, request)

    again, replayed = shop.orders.place(customer, dict(request))

    assert replayed is True
    assert again.id == first.id
    assert stock_of(shop, "prod_009") == 79
    assert len(shop.orders.list(customer)) == 1


def test_the_same_idempotency_key_with_another_request_is_refused(shop, customer):
    shop.orders.place(customer, {"items": [{"productId": "prod_009", "quantity": 1}],
                                      "idempotencyKey": "order-key-1"})

    with pytest.raises(IdempotencyKeyReused):
        shop.orders.place(customer, {"items": [{"productId": "prod_009", "quantity": 2}],
                                          "idempotencyKey": "order-key-1"})

    assert stock_of(shop, "prod_009") == 79


def test_idempotency_keys_are_scoped_to_the_customer(shop, customer, other_customer):
    request = {"items": [{"productId": "prod_009", "quantity": 1}], "idempotencyKey": "shared-key"}
    mine, _ = shop.orders.place(customer, request)

    theirs, replayed = shop.orders.place(other_customer, dict(request))

    assert replayed is False
    assert theirs.id != mine.id


def test_a_customer_cannot_read_another_customers_order_but_an_admin_can(shop, customer, other_customer,
                                                                          admin):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_010", "quantity": 1}]})

    with pytest.raises(NotFound):
        shop.orders.get(other_customer, order.id)

    assert shop.orders.get(admin, order.id).id == order.id
    assert shop.orders.list(other_customer) == []
    assert [o.id for o in shop.orders.list(admin)] == [order.id]


# --- settlement ----------------------------------------------------------------------------
def test_a_completed_payment_marks_the_order_paid_and_keeps_the_stock_reserved(shop, customer):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_011", "quantity": 4}]})

    applied = settle(shop, order, "payment.completed")

    assert applied is True
    assert shop.orders.get(customer, order.id).status == "paid"
    assert stock_of(shop, "prod_011") == 66
    assert outbox_types(shop, order.id) == ["order.created", "order.paid"]


def test_a_failed_payment_marks_the_order_failed_and_releases_the_stock(shop, customer):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_011", "quantity": 4}]})

    applied = settle(shop, order, "payment.failed")

    assert applied is True
    assert shop.orders.get(customer, order.id).status == "payment_failed"
    assert stock_of(shop, "prod_011") == 70
    assert outbox_types(shop, order.id) == ["order.created", "order.payment_failed"]


def test_a_repeated_payment_event_changes_nothing(shop, customer):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_011", "quantity": 4}]})
    settle(shop, order, "payment.failed")

    again = settle(shop, order, "payment.failed")
    late_success = settle(shop, order, "payment.completed")

    assert (again, late_success) == (False, False)
    assert shop.orders.get(customer, order.id).status == "payment_failed"
    assert stock_of(shop, "prod_011") == 70
    assert outbox_types(shop, order.id) == ["order.created", "order.payment_failed"]


@pytest.mark.parametrize(("event_type", "data"), [
    ("payment.processing", {"orderId": "will be set"}),
    ("payment.completed", {}),
    ("payment.completed", {"orderId": "ord_unknown"}),
])
def test_events_that_settle_no_order_are_ignored(shop, customer, event_type, data):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_011", "quantity": 1}]})
    if data.get("orderId") == "will be set":
        data = {"orderId": order.id}

    applied = shop.orders.handle(Event(event_type, data, T0))

    assert applied is False
    assert shop.orders.get(customer, order.id).status == "pending_payment"


def test_a_finished_payment_reaches_its_order_through_a_delivery_to_the_orders_consumer(shop, customer):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_011", "quantity": 4}]})
    with shop.uow() as uow:
        payment = uow.payments.get(order.payment_id)
        payment.start_processing(T0)
        payment.complete("txn_1", T0)
        uow.payments.update(payment)
        uow.commit()

    delivered = shop.deliveries.run_all()

    assert delivered == 1
    assert shop.orders.get(customer, order.id).status == "paid"
    assert outbox_types(shop, order.id) == ["order.created", "order.paid"]
    assert shop.deliveries.run_all() == 0  # acknowledged: delivered once


# --- the total the customer confirmed; who may settle an order -----------------------------
def test_a_cart_whose_prices_changed_since_the_customer_confirmed_the_total_is_refused(shop, customer):
    shop.cart.set_quantity(customer, "prod_001", 1)
    confirmed = shop.cart.view(customer).total
    shop.catalog.update("prod_001", {"unitPrice": "399.99"})
    stock_before = stock_of(shop, "prod_001")

    with pytest.raises(CartChanged) as refused:
        shop.orders.place(customer, {}, expected_total=confirmed)

    assert "$399.99" in refused.value.message
    assert shop.orders.list(customer) == []
    assert stock_of(shop, "prod_001") == stock_before
    assert [line.product.id for line in shop.cart.view(customer).lines] == ["prod_001"]  # kept to review


def test_the_confirmed_total_places_the_order_when_the_prices_stand(shop, customer):
    shop.cart.set_quantity(customer, "prod_001", 1)

    order, _ = shop.orders.place(customer, {}, expected_total=shop.cart.view(customer).total)

    assert order.total_amount == 29999


def test_a_payment_that_is_not_the_orders_own_does_not_settle_it(shop, customer):
    order, _ = shop.orders.place(customer, {"items": [{"productId": "prod_002", "quantity": 1}]})

    settled = shop.orders.handle(Event("payment.completed", {"id": "pay_someone_elses", "orderId": order.id}, T0))

    assert not settled
    assert shop.orders.get(customer, order.id).status == "pending_payment"


def test_a_payment_request_takes_no_order_id_from_the_body(shop, customer):
    payment, _ = shop.payments.submit(customer, {"amount": 100, "currency": "USD", "orderId": "ord_big"})

    assert payment.order_id is None
