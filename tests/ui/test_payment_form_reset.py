"""After a payment the New Payment form starts fresh, so pressing Pay again cannot repeat it,
and the page shows what was paid: the order for a cart, the payment for a one-off."""

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


async def test_after_paying_the_cart_the_page_shows_the_order_with_its_items_total_and_status(user: User):
    await sign_in(user)

    await pay_the_cart(user)

    [order] = app.state.container.orders.list(account())
    await user.should_see(marker="order-status")
    await user.should_see(order.id)
    await user.should_see("2 × The Pragmatic Payments Book")
    assert the(user, "order-total").text == "$69.98"
    assert the(user, "order-status-badge").text in {"pending payment", "paid"}


async def test_pressing_pay_again_after_paying_the_cart_is_refused_for_want_of_an_amount(user: User):
    await sign_in(user)
    await pay_the_cart(user)

    enter_card(user)
    user.find(marker="pay-button").click()

    await user.should_see("enter an amount greater than zero")
    assert the(user, "amount").error == "enter an amount greater than zero"
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
