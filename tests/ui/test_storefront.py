"""The storefront of Product Orders, through NiceGUI's simulated user: the price range filter, the quantity
steppers, the cart's lines, removing, emptying with a confirmation, and the cart as a sheet on phones."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import account, fill_cart, sign_in, the


def cart_quantities() -> dict[str, int]:
    """The customer's cart as the server holds it: product id -> quantity."""
    return {line.product.id: line.quantity for line in app.state.container.cart.view(account()).lines}


async def open_shop(user: User) -> None:
    await sign_in(user)
    await user.open("/shop")
    await user.should_see(marker="product-prod_012")


async def test_a_price_range_shows_only_the_products_priced_within_it(user: User):
    await open_shop(user)

    user.find(marker="min-price").type("20")
    user.find(marker="max-price").type("30")

    await user.should_not_see(marker="product-prod_012", retries=30)  # 12.00
    await user.should_see(marker="product-prod_005")  # 24.00
    await user.should_see(marker="product-prod_010")  # 27.50
    await user.should_not_see(marker="product-prod_009")  # 34.99
    await user.should_not_see(marker="price-error")


async def test_letters_in_a_price_explain_the_mistake_and_keep_the_last_good_results(user: User):
    await open_shop(user)
    user.find(marker="max-price").type("30")
    await user.should_not_see(marker="product-prod_009", retries=30)

    user.find(marker="min-price").type("ten")

    await user.should_see("The minimum price must be a decimal number, such as 10 or 19.99.", retries=30)
    await user.should_see(marker="product-prod_012")  # still the results of "up to 30"
    await user.should_not_see(marker="product-prod_009")
    assert the(user, "min-price").props["error"] is True


async def test_a_negative_price_is_refused_with_a_sentence(user: User):
    await open_shop(user)

    user.find(marker="max-price").type("-5")

    await user.should_see("The maximum price must be a non-negative number, such as 10 or 19.99.", retries=30)
    await user.should_see(marker="product-prod_012")


async def test_a_minimum_above_the_maximum_is_refused_and_the_results_stay(user: User):
    await open_shop(user)
    user.find(marker="min-price").type("40")
    await user.should_not_see(marker="product-prod_012", retries=30)

    user.find(marker="max-price").type("20")

    await user.should_see("The minimum price must not be more than the maximum price.", retries=30)
    await user.should_see(marker="product-prod_001")  # still the results of "from 40"
    await user.should_not_see(marker="product-prod_012")

    user.find(marker="max-price").clear().type("50")  # corrected: the message goes, the range applies

    await user.should_not_see(marker="price-error", retries=30)
    await user.should_not_see(marker="product-prod_001")
    await user.should_see(marker="product-prod_013")  # 45.00


async def test_filters_that_match_nothing_offer_to_clear_them(user: User):
    await open_shop(user)
    user.find(marker="search").type("mug")
    user.find(marker="min-price").type("100")

    await user.should_see("No products match these filters.", retries=30)
    user.find(marker="empty-action").click()

    await user.should_see(marker="product-prod_001", retries=30)
    await user.should_see(marker="product-prod_012")
    assert the(user, "search").value == ""
    assert the(user, "min-price").value == ""


async def test_the_card_stepper_chooses_how_many_to_add(user: User):
    await open_shop(user)

    user.find(marker="prod_012-plus").click()
    user.find(marker="prod_012-plus").click()
    await user.should_see(content="3", marker="prod_012-qty", retries=30)
    user.find(marker="add-prod_012").click()

    await user.should_see("3 in cart", retries=30)
    assert cart_quantities() == {"prod_012": 3}
    assert the(user, "prod_012-qty").text == "1"  # the next add starts from one

    user.find(marker="add-prod_012").click()

    await user.should_see("4 in cart", retries=30)
    assert cart_quantities() == {"prod_012": 4}


async def test_the_card_stepper_stops_at_the_stock_left_to_add(user: User):
    c = app.state.container
    c.catalog.update("prod_014", {"stock": 3})
    fill_cart(("prod_014", 1))
    await open_shop(user)
    await user.should_see("1 in cart")

    user.find(marker="prod_014-plus").click()
    await user.should_see(content="2", marker="prod_014-qty", retries=30)
    user.find(marker="prod_014-plus").click()  # only two more are left

    await user.should_see(content="2", marker="prod_014-qty", retries=30)
    assert not the(user, "prod_014-plus").enabled
    user.find(marker="add-prod_014").click()
    await user.should_see("3 in cart", retries=30)
    assert not the(user, "add-prod_014").enabled


async def test_a_cart_line_shows_name_quantity_unit_price_and_line_total(user: User):
    fill_cart(("prod_012", 3), ("prod_011", 1))

    await open_shop(user)

    await user.should_see(content="Ceramic Mug", marker="line-name-prod_012")
    assert the(user, "line-prod_012-qty").text == "3"
    assert the(user, "line-price-prod_012").text == "$12.00 each"
    assert the(user, "line-total-prod_012").text == "$36.00"
    assert the(user, "cart-total").text == "$51.99"


async def test_the_line_stepper_changes_the_quantity_in_the_cart(user: User):
    fill_cart(("prod_012", 2))
    await open_shop(user)

    user.find(marker="line-prod_012-plus").click()
    await user.should_see(content="$36.00", marker="line-total-prod_012", retries=30)
    assert cart_quantities() == {"prod_012": 3}

    user.find(marker="line-prod_012-minus").click()
    await user.should_see(content="$24.00", marker="line-total-prod_012", retries=30)
    assert cart_quantities() == {"prod_012": 2}


async def test_the_remove_button_takes_the_line_out_of_the_cart(user: User):
    fill_cart(("prod_012", 2), ("prod_011", 1))
    await open_shop(user)

    user.find(marker="remove-prod_012").click()

    await user.should_not_see(marker="line-prod_012", retries=30)
    await user.should_see(marker="line-prod_011")
    assert cart_quantities() == {"prod_011": 1}


async def test_empty_cart_asks_first_and_keeps_the_cart_when_cancelled(user: User):
    fill_cart(("prod_012", 2))
    await open_shop(user)

    user.find(marker="empty-cart").click()
    await user.should_see("Empty your cart? All 2 item(s) in it will be removed.", retries=30)
    user.find(marker="confirm-no").click()

    await user.should_not_see(marker="confirm-dialog", retries=30)
    assert cart_quantities() == {"prod_012": 2}
    await user.should_see(marker="line-prod_012")


async def test_empty_cart_empties_it_when_confirmed(user: User):
    fill_cart(("prod_012", 2))
    await open_shop(user)

    user.find(marker="empty-cart").click()
    await user.should_see(marker="confirm-dialog", retries=30)
    user.find(marker="confirm-yes").click()

    await user.should_see(marker="cart-empty", retries=30)
    assert cart_quantities() == {}


async def test_the_cart_button_reads_proceed_to_payment_and_goes_to_new_payment(user: User):
    fill_cart(("prod_012", 1))
    await open_shop(user)

    await user.should_see(content="Proceed to Payment", marker="checkout")
    user.find(marker="checkout").click()

    await user.should_see(content="New Payment", marker="page-title", retries=30)


async def test_the_phone_cart_button_counts_items_and_opens_the_cart_as_a_sheet(user: User):
    fill_cart(("prod_012", 2))
    await open_shop(user)
    assert the(user, "cart-count").text == "2"
    with user.scope(marker="cart-sheet"):  # drawn only while open
        await user.should_not_see(marker="line-prod_012")

    user.find(marker="cart-button").click()

    with user.scope(marker="cart-sheet"):
        await user.should_see("Proceed to Payment")
        await user.should_see(content="$24.00", marker="line-total-prod_012")
    user.find(marker="close-sheet").click()
    with user.scope(marker="cart-sheet"):
        await user.should_not_see(marker="line-prod_012")


async def test_a_cart_changed_elsewhere_updates_the_phone_button_and_the_open_sheet(user: User):
    fill_cart(("prod_012", 1))
    await open_shop(user)
    user.find(marker="cart-button").click()
    await user.should_see(marker="cart-sheet", retries=30)

    fill_cart(("prod_012", 3))  # another tab, or the API

    await user.should_see(content="3", marker="cart-count", retries=60)
    with user.scope(marker="cart-sheet"):
        await user.should_see(content="$36.00", marker="line-total-prod_012", retries=30)


async def test_a_long_product_name_wraps_and_keeps_the_whole_name_as_its_tooltip(user: User):
    name = "Extraordinarily " * 7 + "Long Name"  # 121 characters, trimmed to 120 below
    name = name[:120]
    created = app.state.container.catalog.create({"name": name, "unitPrice": "9.99", "category": "home",
                                                  "stock": 5})
    fill_cart((created.id, 1))

    await open_shop(user)

    for marker in (f"name-{created.id}", f"line-name-{created.id}"):
        label = the(user, marker)
        assert label.text == name and label.props["title"] == name
        assert {"line-clamp-2", "break-words", "min-w-0"} <= set(label.classes)
