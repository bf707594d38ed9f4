"""My Orders and the order page with NiceGUI's simulated user: whose orders one sees, the filters, pages, the
order whole (items, totals, payment, refunds), "not found" for what is not one's own, and live status.
The drains run when a test runs them, so each step is seen in its turn."""


import pytest
from nicegui import app
from nicegui.testing import User

from app.pages.widgets import order_url, payment_url
from domain.model.orders import Order
from tests.ui.helpers import account, by_hand, sign_in, the, until

CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
ADMIN = ("admin@example.com", "admin123")
OTHER = ("other@example.com", "password456")


@pytest.fixture(autouse=True)
def drains_wait_for_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGATE_DRAIN_INTERVAL_SECONDS", "3600")  # read as the app starts


def other_customer() -> None:
    app.state.container.users.create(email=OTHER[0], password=OTHER[1], name="Other Customer")


def place(*items: tuple[str, int], email: str = "customer@example.com") -> Order:
    """An order of (product id, quantity) lines by `email`, paid with a card; its payment not processed yet."""
    order, _ = by_hand().orders.place(account(email), {
        "items": [{"productId": pid, "quantity": quantity} for pid, quantity in items], "card": CARD})
    return order


async def settle(order: Order, email: str = "customer@example.com") -> None:
    """Process the order's payment; wait until the app's delivery job has marked the order paid."""
    c = by_hand()
    await c.processor.drain()
    await until(lambda: c.orders.get(account(email), order.id).status == "paid")


def texts(user: User, marker: str) -> list[str]:
    """The texts of the elements with this marker, in the order they were drawn."""
    return [str(e.text) for e in sorted(user.find(marker=marker).elements, key=lambda e: e.id)]


def text(user: User, marker: str) -> str:
    return str(the(user, marker).text)


async def shown_orders(user: User, count: int) -> list[str]:
    """The ids the list shows, once it shows `count` of them."""
    await until(lambda: len(texts(user, "order-id")) == count)
    return texts(user, "order-id")


# --- My Orders ------------------------------------------------------------------------------------------------
async def test_a_customer_sees_their_own_orders_newest_first_and_no_one_elses(user: User):
    await sign_in(user)
    other_customer()
    first = place(("prod_009", 2))
    theirs = place(("prod_010", 1), email=OTHER[0])
    second = place(("prod_001", 1), ("prod_005", 3))

    await user.open("/orders")

    assert await shown_orders(user, 2) == [second.id, first.id]
    assert theirs.id not in texts(user, "order-id")
    assert texts(user, "order-items") == ["Premium Headphones × 1, Organic Cotton T-Shirt × 3",
                                          "The Pragmatic Payments Book × 2"]
    assert texts(user, "order-total") == ["$371.99", "$69.98"]
    assert texts(user, "order-status") == ["pending payment", "pending payment"]
    assert [link.props["href"] for link in sorted(user.find(marker="order-link").elements, key=lambda e: e.id)] \
        == [order_url(second.id), order_url(first.id)]
    await user.should_not_see(marker="order-customer")


async def test_my_orders_is_in_the_navigation_after_payment_history(user: User):
    await sign_in(user)

    await user.open("/")

    markers = [m for e in the(user, "nav").descendants() for m in e._markers if m.startswith("nav-")]
    assert markers.index("nav-orders") == markers.index("nav-payments") + 1


async def test_an_admin_sees_every_order_with_the_customers_name_and_email(user: User):
    await sign_in(user, *ADMIN)
    other_customer()
    place(("prod_009", 1))
    place(("prod_010", 1), email=OTHER[0])

    await user.open("/orders")

    await shown_orders(user, 2)
    assert texts(user, "order-customer") == ["Other Customer · other@example.com",
                                             "Demo Customer · customer@example.com"]


async def test_an_admin_filters_by_customer(user: User):
    await sign_in(user, *ADMIN)
    other_customer()
    place(("prod_009", 1))
    theirs = place(("prod_010", 1), email=OTHER[0])
    await user.open("/orders")
    await shown_orders(user, 2)

    the(user, "customer-filter").set_value(account(OTHER[0]).id)

    assert await shown_orders(user, 1) == [theirs.id]


async def test_the_status_filter_keeps_orders_of_that_status(user: User):
    await sign_in(user)
    paid = place(("prod_009", 1))
    await settle(paid)
    place(("prod_010", 1))
    await user.open("/orders")
    await shown_orders(user, 2)

    the(user, "status-filter").set_value("paid")

    assert await shown_orders(user, 1) == [paid.id]
    the(user, "status-filter").set_value("refunded")
    await user.should_see("No orders match these filters.", retries=50)


async def test_the_date_range_filters_and_a_backwards_range_is_refused_in_a_sentence(user: User):
    await sign_in(user)
    order = place(("prod_009", 1))
    await user.open("/orders")
    await shown_orders(user, 1)
    today = order.created_at.date()

    user.find(marker="created-from").type(str(today.replace(day=1) if today.day > 1 else today))
    user.find(marker="created-to").type(str(today))
    user.find(marker="apply-filters").click()
    assert await shown_orders(user, 1) == [order.id]
    user.find(marker="created-from").clear().type(f"{today.year + 1}-01-01")
    user.find(marker="apply-filters").click()

    await user.should_see("To must not be before the start date.", retries=50)
    assert await shown_orders(user, 1) == [order.id]  # the list stays as it was
    user.find(marker="created-to").clear()
    user.find(marker="apply-filters").click()
    await user.should_see("No orders match these filters.", retries=50)


async def test_pages_of_ten_say_where_one_is(user: User):
    await sign_in(user)
    orders = [place(("prod_009", 1)) for _ in range(12)]
    await user.open("/orders")
    await shown_orders(user, 10)
    assert text(user, "page-position") == "Page 1 · showing 1–10"

    user.find(marker="page-older").click()

    assert await shown_orders(user, 2) == [orders[1].id, orders[0].id]
    assert text(user, "page-position") == "Page 2 · showing 11–12"


async def test_no_orders_yet_offers_to_browse_the_products(user: User):
    await sign_in(user)

    await user.open("/orders")

    await user.should_see("No orders yet. Orders you pay for in the shop show here.")
    assert the(user, "empty-action").props["href"] == "/shop"


async def test_a_row_turns_paid_live_and_a_new_order_appears(user: User):
    await sign_in(user)
    first = place(("prod_009", 1))
    await user.open("/orders")
    await shown_orders(user, 1)
    assert texts(user, "order-status") == ["pending payment"]

    await settle(first)
    await until(lambda: texts(user, "order-status") == ["paid"])
    second = place(("prod_010", 1))

    assert await shown_orders(user, 2) == [second.id, first.id]


# --- the order page -------------------------------------------------------------------------------------------
async def test_the_order_page_shows_items_totals_and_its_payment(user: User):
    await sign_in(user)
    order = place(("prod_009", 2), ("prod_005", 1))

    await user.open(order_url(order.id))

    await user.should_see(marker="order-number")
    assert text(user, "order-number") == order.id
    assert text(user, "order-status") == "pending payment"
    assert texts(user, "item-name") == ["The Pragmatic Payments Book", "Organic Cotton T-Shirt"]
    assert texts(user, "item-quantity") == ["2", "1"]
    assert texts(user, "item-unit-price") == ["$34.99", "$24.00"]
    assert texts(user, "item-line-total") == ["$69.98", "$24.00"]
    assert text(user, "items-total") == text(user, "order-total") == "$93.98"
    assert text(user, "order-created") != ""
    assert text(user, "payment-amount") == "$93.98"
    assert text(user, "payment-card") == "visa •••• 4242"
    assert text(user, "payment-status") == "pending"
    assert order.payment_id is not None
    assert the(user, "payment-link").props["href"] == payment_url(order.payment_id)
    await user.should_see(marker="no-refunds")
    await user.should_not_see(marker="order-customer")


async def test_an_admin_sees_who_ordered(user: User):
    await sign_in(user, *ADMIN)
    order = place(("prod_009", 1))

    await user.open(order_url(order.id))

    await user.should_see(marker="order-number")
    assert text(user, "order-customer") == "Demo Customer · customer@example.com"


@pytest.mark.parametrize("order_id", ["ord_000000000000000000000000", "'; drop table orders; --", "x" * 500,
                                      "ord_<script>"])
async def test_an_unknown_or_malformed_id_is_not_found(user: User, order_id: str):
    await sign_in(user)

    await user.open(order_url(order_id))

    await user.should_see(marker="order-not-found")
    await user.should_see("Order not found.")


async def test_another_customers_order_looks_like_one_that_does_not_exist(user: User):
    await sign_in(user)
    other_customer()
    theirs = place(("prod_009", 1), email=OTHER[0])

    await user.open(order_url(theirs.id))

    await user.should_see(marker="order-not-found")
    await user.should_not_see(marker="order-number")
    await user.should_not_see(theirs.id)


async def test_the_order_page_follows_the_order_to_paid_and_then_refunded_with_the_refund(user: User):
    await sign_in(user)
    order = place(("prod_009", 2))
    await user.open(order_url(order.id))
    await user.should_see(marker="order-number")
    assert order.payment_id is not None

    await settle(order)
    await until(lambda: text(user, "order-status") == "paid" and text(user, "payment-status") == "completed")
    c = by_hand()
    c.refunds.create(account(ADMIN[0]), order.payment_id, {})  # all of it
    await until(lambda: texts(user, "refund-status") == ["pending"])
    await c.refund_processor.drain()

    await until(lambda: text(user, "order-status") == "refunded")
    assert texts(user, "refund-status") == ["succeeded"]
    assert texts(user, "refund-amount") == ["$69.98"]
    assert text(user, "payment-refunded") == "$69.98 of $69.98"
