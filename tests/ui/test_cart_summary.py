"""The green Cart Summary box on New Payment: what it shows, and when it offers which button,
through NiceGUI's simulated user."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import fill_cart, let_events_arrive, sign_in, the

BUTTONS = ("use-cart-total", "update-cart-total")


def visible(user: User, marker: str) -> bool:
    try:
        user.find(marker=marker)  # finds visible elements only
    except AssertionError:
        return False
    return True


def buttons(user: User) -> list[str]:
    """The box's buttons that are visible, by marker."""
    return [marker for marker in BUTTONS if visible(user, marker)]


def texts(user: User, marker: str) -> list[str]:
    """The texts of the elements with this marker, sorted (the simulated user finds them unordered)."""
    return sorted(element.text for element in user.find(marker=marker).elements)


async def open_with_cart(user: User, *items: tuple[str, int]) -> None:
    await sign_in(user)
    fill_cart(*items)
    await user.open("/payments/new")
    await user.should_see("Cart Summary")
    await let_events_arrive()  # the filling of the cart, so that only the test's next change is on its way


async def test_the_box_shows_each_item_with_quantity_and_price_the_total_and_fills_the_form(user: User):
    await sign_in(user)
    fill_cart(("prod_001", 1), ("prod_005", 2))  # 299.99 + 2 × 24.00

    await user.open("/payments/new")

    await user.should_see("Cart Summary")
    await user.should_see("✓ Amount automatically set to cart total")
    catalog = app.state.container.catalog
    assert texts(user, "cart-line-name") == sorted([catalog.get("prod_001").name, catalog.get("prod_005").name])
    assert texts(user, "cart-line-quantity") == ["1 × $299.99", "2 × $24.00"]
    assert texts(user, "cart-line-total") == ["$299.99", "$48.00"]
    assert the(user, "cart-total").text == "$347.99"
    assert the(user, "cart-count").text == "Total for 3 item(s)"
    assert the(user, "amount").value == "347.99"
    assert the(user, "description").value == "Payment for 3 item(s) from cart"


async def test_the_box_is_light_green_with_a_green_border_not_a_black_one(user: User):
    await open_with_cart(user, ("prod_012", 1))

    classes = the(user, "cart-box").classes

    assert "bg-green-1" in classes
    assert "border-green-300" in classes  # a bare `border` draws in the text colour, black


async def test_while_the_amount_is_the_cart_total_neither_button_shows(user: User):
    await open_with_cart(user, ("prod_012", 3))

    assert the(user, "amount").value == "36.00"
    assert buttons(user) == []
    assert visible(user, "cart-auto-note")


async def test_an_amount_changed_by_hand_offers_use_cart_total_only(user: User):
    await open_with_cart(user, ("prod_012", 3))

    user.find(marker="amount").clear().type("5.00")

    assert buttons(user) == ["use-cart-total"]
    assert not visible(user, "cart-auto-note")
    user.find(marker="use-cart-total").click()
    assert the(user, "amount").value == "36.00"
    assert buttons(user) == []
    assert visible(user, "cart-auto-note")


async def test_a_cart_changed_after_the_amount_was_set_by_hand_offers_update_cart_total_only(user: User):
    await open_with_cart(user, ("prod_012", 3))
    user.find(marker="amount").clear().type("5.00")

    fill_cart(("prod_012", 4))  # from another tab, or through the API

    await user.should_see("$48.00", retries=50)
    assert the(user, "amount").value == "5.00"  # the hand-set amount stays
    assert buttons(user) == ["update-cart-total"]
    user.find(marker="update-cart-total").click()
    assert the(user, "amount").value == "48.00"
    assert buttons(user) == []


async def test_an_amount_cleared_by_hand_stays_cleared_when_the_cart_changes_elsewhere(user: User):
    await open_with_cart(user, ("prod_012", 3))
    user.find(marker="amount").clear()
    assert buttons(user) == ["use-cart-total"]

    fill_cart(("prod_012", 4))

    await user.should_see("$48.00", retries=50)
    assert not the(user, "amount").value  # cleared by hand: not filled again behind the person's back
    assert buttons(user) == ["update-cart-total"]


async def test_a_cart_changed_in_another_tab_moves_an_untouched_amount_and_description_with_it(user: User):
    await open_with_cart(user, ("prod_012", 1))
    assert the(user, "amount").value == "12.00"

    fill_cart(("prod_012", 4))

    await user.should_see("Total for 4 item(s)", retries=50)
    assert the(user, "amount").value == "48.00"
    assert the(user, "description").value == "Payment for 4 item(s) from cart"
    assert buttons(user) == []
    assert visible(user, "cart-auto-note")


async def test_a_description_written_by_hand_is_kept_when_the_cart_changes(user: User):
    await open_with_cart(user, ("prod_012", 1))
    user.find(marker="description").clear().type("Mugs for the office")

    fill_cart(("prod_012", 2))

    await user.should_see("Total for 2 item(s)", retries=50)
    assert the(user, "amount").value == "24.00"
    assert the(user, "description").value == "Mugs for the office"


async def test_a_cart_emptied_elsewhere_takes_the_box_and_its_amount_away(user: User):
    await open_with_cart(user, ("prod_012", 1))

    fill_cart(("prod_012", 0))

    await user.should_not_see(marker="cart-box", retries=50)
    assert the(user, "amount").value == ""
    assert the(user, "description").value == ""
