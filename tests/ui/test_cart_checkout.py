"""The cart box on New Payment, and paying the cart, through NiceGUI's simulated user."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import account, enter_card, fill_cart, let_events_arrive, sign_in, the


async def test_without_a_cart_there_is_no_cart_box_and_the_amount_is_empty(user: User):
    await sign_in(user)

    await user.open("/payments/new")

    await user.should_see(marker="amount")
    await user.should_not_see(marker="cart-box")
    assert the(user, "amount").value == ""


async def test_a_cart_sets_the_amount_and_description_and_shows_the_green_box(user: User):
    await sign_in(user)
    fill_cart(("prod_001", 1), ("prod_005", 2))  # 299.99 + 2 × 24.00

    await user.open("/payments/new")

    await user.should_see("✓ Amount automatically set to cart total")
    assert the(user, "amount").value == "347.99"
    assert the(user, "description").value == "Payment for 3 item(s) from cart"
    assert "bg-green-1" in the(user, "cart-box").classes


async def test_the_button_reads_update_when_the_amount_is_the_total_and_use_otherwise(user: User):
    await sign_in(user)
    fill_cart(("prod_012", 3))  # 3 × 12.00
    await user.open("/payments/new")
    await user.should_see("Update Cart Total")

    user.find(marker="amount").clear().type("5.00")

    await user.should_see("Use Cart Total")
    await user.should_not_see("Amount automatically set to cart total")
    user.find(marker="use-cart-total").click()
    await user.should_see("Update Cart Total")
    assert the(user, "amount").value == "36.00"


async def test_the_amount_follows_the_cart_when_it_changes_elsewhere(user: User):
    await sign_in(user)
    fill_cart(("prod_012", 1))
    await user.open("/payments/new")
    assert the(user, "amount").value == "12.00"

    fill_cart(("prod_012", 4))  # e.g. from another tab or through the API

    await user.should_see("Cart: 4 item(s)", retries=30)
    assert the(user, "amount").value == "48.00"
    assert the(user, "description").value == "Payment for 4 item(s) from cart"


async def test_paying_the_cart_total_places_an_order_and_empties_the_cart(user: User):
    await sign_in(user)
    fill_cart(("prod_009", 2))
    await user.open("/payments/new")

    enter_card(user)
    user.find(marker="pay-button").click()

    await user.should_see(marker="payment-status", retries=30)
    c = app.state.container
    customer = account()
    orders = c.orders.list(customer)
    assert [o.total_amount for o in orders] == [6998]
    assert orders[0].items[0].product_id == "prod_009"
    assert c.cart.view(customer).lines == []


async def test_a_field_error_appears_beside_the_field(user: User):
    await sign_in(user)
    await user.open("/payments/new")

    user.find(marker="amount").type("10.00")
    user.find(marker="card-number").type("4242424242424241")
    user.find(marker="card-exp-month").type("12")
    user.find(marker="card-exp-year").type("2030")
    user.find(marker="card-cvc").type("12")
    user.find(marker="pay-button").click()

    await user.should_see("is not a valid card number")
    assert the(user, "card-number").error == "is not a valid card number"
    assert the(user, "card-cvc").error == "must be 3 or 4 digits"
    assert the(user, "amount").error is None


async def test_a_price_changed_after_the_form_showed_the_total_charges_nothing_and_says_so(user: User):
    await sign_in(user)
    fill_cart(("prod_012", 2))  # 2 × 12.00
    await user.open("/payments/new")
    await user.should_see("Update Cart Total")
    await let_events_arrive()  # the filling of the cart
    c = app.state.container

    # No await between the price change and Pay: the customer pressed Pay on the total they saw, 24.00.
    c.catalog.update("prod_012", {"unitPrice": "15.00"})
    enter_card(user)
    user.find(marker="pay-button").click()

    await user.should_see("the total is now", retries=30)
    assert c.orders.list(account()) == []
    assert c.payments.list(account())[0] == []
    await user.should_see("Cart: 2 item(s) · total $30.00", retries=30)
    assert the(user, "amount").value == "30.00"


async def test_the_cart_box_follows_a_price_change_of_a_product_in_the_cart(user: User):
    await sign_in(user)
    fill_cart(("prod_012", 2))
    await user.open("/payments/new")
    await user.should_see("Update Cart Total")
    await let_events_arrive()  # the filling of the cart

    app.state.container.catalog.update("prod_012", {"unitPrice": "15.00"})

    await user.should_see("Cart: 2 item(s) · total $30.00", retries=50)
    assert the(user, "amount").value == "30.00"
