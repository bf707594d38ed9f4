"""Product Orders: adding to the cart, and a cart changed elsewhere, through NiceGUI's simulated user."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import sign_in


async def test_add_to_cart_updates_the_cart_panel_at_once(user: User):
    await sign_in(user)
    await user.open("/shop")
    await user.should_see(marker="cart-empty")

    user.find(marker="add-prod_012").click()

    await user.should_see("Cart (1)", retries=30)
    await user.should_see("1 in cart")


async def test_a_cart_changed_in_another_tab_shows_here_without_a_reload(user: User):
    await sign_in(user)
    await user.open("/shop")
    await user.should_see(marker="cart-empty")
    c = app.state.container
    customer = next(u for u in c.users.list() if u.email == "customer@example.com")

    c.cart.set_quantity(customer, "prod_009", 3)  # e.g. another tab, or the API

    await user.should_see("Cart (3)", retries=60)
    await user.should_see("3 in cart")
