"""After a payment the New Payment form starts fresh, so pressing Pay again cannot repeat it,
and the page shows what was paid: the order for a cart, the payment for a one-off."""

from urllib.parse import quote

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import account, enter_card, fill_cart, sign_in, the

CLEARED = ("amount", "description", "card-number", "card-exp-month", "card-exp-year", "card-cvc")


def payments_of_the_customer() -> list:
    page, _ = app.state.container.payments.list(account())
    return page


async def pay_the_cart(user: User) -> None:
    fill_cart(("prod_009", 2))  # 2 × 34.99
    await user.open("/payments/new")
    await user.should_see("✓ Amount automatically set to cart total")
    enter_card(user)
    user.find(marker="pay-button").click()
    await user.should_see(marker="payment-status", retries=30)


async def test_after_paying_the_cart_the_form_is_empty_and_the_cart_box_gone(user: User):
    await sign_in(user)

    await pay_the_cart(user)

    assert {marker: the(user, marker).value for marker in CLEARED} == dict.fromkeys(CLEARED, "")
    await user.should_not_see(marker="cart-box")


async def test_after_paying_the_cart_the_page_confirms_the_order_with_its_number_items_and_total(user: User):
    await sign_in(user)

    await pay_the_cart(user)

    [order] = app.state.container.orders.list(account())
    await user.should_see(marker="order-status")
    await user.should_see("Thank you, your order is placed")
    assert the(user, "order-id").text == order.id
    assert the(user, "order-item-name").text == app.state.container.catalog.get("prod_009").name
    assert the(user, "order-item-quantity").text == "2 × $34.99"
    assert the(user, "order-total").text == "$69.98"
    assert the(user, "order-link").props["href"] == "/orders/" + quote(order.id, safe="")


async def test_the_order_confirmation_follows_the_order_and_its_payment_to_paid(user: User):
    await sign_in(user)

    await pay_the_cart(user)

    await user.should_see("paid", retries=50)
    assert the(user, "order-status-badge").text == "paid"
    await user.should_see("completed", retries=50)
    assert the(user, "payment-status-badge").text == "completed"


async def test_an_order_whose_payment_fails_shows_payment_failed(user: User):
    await sign_in(user)
    fill_cart(("prod_009", 1))
    await user.open("/payments/new")
    await user.should_see("✓ Amount automatically set to cart total")
    enter_card(user, "4000000000000002")  # declined

    user.find(marker="pay-button").click()

    await user.should_see("payment failed", retries=50)
    assert the(user, "order-status-badge").text == "payment failed"
    await user.should_see("Failed: ", retries=50)


async def test_pressing_pay_again_after_paying_the_cart_is_refused_for_want_of_an_amount(user: User):
    await sign_in(user)
    await pay_the_cart(user)

    enter_card(user)
    user.find(marker="pay-button").click()

    await user.should_see("Enter an amount.")
    assert the(user, "amount").error == "Enter an amount."
    assert [p.amount for p in payments_of_the_customer()] == [6998]


async def test_after_a_one_off_payment_the_form_is_empty_and_the_page_shows_the_payment(user: User):
    await sign_in(user)
    await user.open("/payments/new")
    user.find(marker="amount").type("10.00")
    user.find(marker="description").type("Lunch")
    enter_card(user)

    user.find(marker="pay-button").click()

    await user.should_see(marker="payment-status", retries=30)
    [payment] = payments_of_the_customer()
    await user.should_see(payment.id)
    await user.should_see("$10.00")
    await user.should_not_see(marker="order-status")
    assert {marker: the(user, marker).value for marker in CLEARED} == dict.fromkeys(CLEARED, "")
