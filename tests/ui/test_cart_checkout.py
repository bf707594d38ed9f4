"""Paying on New Payment through the simulated user: the cart as an order; the form's errors, hints and keys."""

from nicegui import app
from nicegui.testing import User

from app.pages.payment_fields import as_sentences, read_year
from domain.model.errors import CartChanged, FieldError, ValidationFailed
from domain.model.payments import MAX_DESCRIPTION
from tests.ui.helpers import account, enter_card, fill_cart, let_events_arrive, sign_in, the

FIELDS = ("amount", "description", "card-number", "card-exp-month", "card-exp-year", "card-cvc")


def errors(user: User) -> dict[str, str]:
    """The error shown beside each field of the form that has one."""
    return {marker: the(user, marker).error for marker in FIELDS if the(user, marker).error}


async def test_without_a_cart_there_is_no_cart_box_and_the_amount_is_empty(user: User):
    await sign_in(user)

    await user.open("/payments/new")

    await user.should_see(marker="amount")
    await user.should_not_see(marker="cart-box")
    assert the(user, "amount").value == ""


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


async def test_every_field_at_fault_gets_its_sentence_at_once(user: User):
    await sign_in(user)
    await user.open("/payments/new")

    user.find(marker="pay-button").click()

    await user.should_see("Enter an amount.")
    assert errors(user) == {"amount": "Enter an amount.", "card-number": "Enter the card number.",
                            "card-exp-month": "Enter the expiry month.", "card-exp-year": "Enter the expiry year.",
                            "card-cvc": "Enter the CVC (3 or 4 digits on the card)."}
    assert app.state.container.payments.list(account())[0] == []


async def test_wrong_values_are_each_said_in_a_sentence_beside_their_field(user: User):
    await sign_in(user)
    await user.open("/payments/new")

    user.find(marker="amount").type("10.005")
    user.find(marker="card-number").type("4242424242424241")
    user.find(marker="card-exp-month").type("13")
    user.find(marker="card-exp-year").type("203")
    user.find(marker="card-cvc").type("12")
    user.find(marker="pay-button").click()

    await user.should_see("The card number is not valid. Check it against the card.")
    assert errors(user) == {
        "amount": "USD amounts have at most 2 decimals.",
        "card-number": "The card number is not valid. Check it against the card.",
        "card-exp-month": "The expiry month is a number from 1 to 12.",
        "card-exp-year": "Enter the expiry year as 2 or 4 digits, such as 30 or 2030.",
        "card-cvc": "The CVC is 3 or 4 digits."}
    assert app.state.container.payments.list(account())[0] == []


async def test_a_field_error_goes_away_when_the_field_is_edited(user: User):
    await sign_in(user)
    await user.open("/payments/new")
    user.find(marker="pay-button").click()
    await user.should_see("Enter an amount.")

    user.find(marker="amount").type("10.00")

    assert the(user, "amount").error is None
    assert the(user, "card-cvc").error == "Enter the CVC (3 or 4 digits on the card)."


async def test_the_limits_are_shown_as_hints_before_anything_is_saved(user: User):
    await sign_in(user)

    await user.open("/payments/new")

    assert the(user, "description").props["hint"] == f"Optional · up to {MAX_DESCRIPTION} characters"
    assert the(user, "description").props["maxlength"] == MAX_DESCRIPTION
    assert the(user, "amount").props["hint"] == "In USD, up to 2 decimals, at most $999,999.99"
    assert the(user, "card-cvc").props["hint"] == "3 or 4 digits"
    user.find(marker="currency").click()
    user.find("JPY").click()
    assert the(user, "amount").props["hint"] == "In JPY, whole numbers, at most ¥99,999,999"


async def test_a_two_digit_expiry_year_is_read_as_20yy(user: User):
    await sign_in(user)
    await user.open("/payments/new")
    user.find(marker="amount").type("10.00")
    enter_card(user)
    user.find(marker="card-exp-year").clear().type("20")  # December 2020: expired, so read as 2020, not 20

    user.find(marker="pay-button").click()

    await user.should_see("The card has expired.")
    user.find(marker="card-exp-year").clear().type("30")
    user.find(marker="pay-button").click()
    await user.should_see(marker="payment-status", retries=30)
    assert [p.amount for p in app.state.container.payments.list(account())[0]] == [1000]


def test_the_form_reads_two_digits_as_this_century_and_four_as_they_are():
    assert [read_year(text) for text in ("30", "07", "2030", " 31 ", "203", "", "3x")] == \
        [2030, 2007, 2030, 2031, None, None, None]


def test_the_services_own_errors_are_turned_into_sentences_beside_their_fields_or_for_the_form():
    cvc = as_sentences(ValidationFailed.of([FieldError("card.cvc", "must be 3 or 4 digits")]))
    item = as_sentences(ValidationFailed.of([FieldError("items[0].productId", "Ceramic Mug is not available")]))
    changed = as_sentences(CartChanged("the cart changed or was already ordered; review it and try again"))

    assert isinstance(cvc, ValidationFailed)
    assert [(d.field, d.message) for d in cvc.details] == [("card.cvc", "The CVC must be 3 or 4 digits.")]
    assert not isinstance(item, ValidationFailed) and item.message == "Ceramic Mug is not available."
    assert changed.message == "The cart changed or was already ordered; review it and try again."


async def test_enter_in_a_field_pays_as_the_button_does(user: User):
    await sign_in(user)
    await user.open("/payments/new")
    user.find(marker="amount").type("12.50")
    enter_card(user)

    user.find(marker="card-cvc").trigger("keydown.enter")

    await user.should_see(marker="payment-status", retries=30)
    assert [p.amount for p in app.state.container.payments.list(account())[0]] == [1250]


async def test_a_price_changed_after_the_form_showed_the_total_charges_nothing_and_says_so(user: User):
    await sign_in(user)
    fill_cart(("prod_012", 2))  # 2 × 12.00
    await user.open("/payments/new")
    await user.should_see("✓ Amount automatically set to cart total")
    await let_events_arrive()  # the filling of the cart
    c = app.state.container

    # No await between the price change and Pay: the customer pressed Pay on the total they saw, 24.00.
    c.catalog.update("prod_012", {"unitPrice": "15.00"})
    enter_card(user)
    user.find(marker="pay-button").click()

    await user.should_see("The total is now $30.00; review the cart and pay again.", retries=30)
    assert c.orders.list(account()) == []
    assert c.payments.list(account())[0] == []
    await user.should_see("Total for 2 item(s)", retries=30)
    await user.should_see("$30.00", retries=30)
    assert the(user, "amount").value == "30.00"


async def test_the_cart_box_follows_a_price_change_of_a_product_in_the_cart(user: User):
    await sign_in(user)
    fill_cart(("prod_012", 2))
    await user.open("/payments/new")
    await user.should_see("✓ Amount automatically set to cart total")
    await let_events_arrive()  # the filling of the cart

    app.state.container.catalog.update("prod_012", {"unitPrice": "15.00"})

    await user.should_see("$30.00", retries=50)
    assert the(user, "amount").value == "30.00"
