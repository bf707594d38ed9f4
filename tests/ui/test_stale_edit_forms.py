"""An edit form sends only what the admin changed in it: what changed elsewhere while it was open stays."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import account, sign_in

CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


async def test_renaming_a_product_in_a_dialog_opened_before_an_order_keeps_the_reserved_stock(user: User):
    c = app.state.container
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/products")
    user.find(marker="edit-prod_012").click()
    await user.should_see(marker="product-form")
    stock = c.catalog.get("prod_012").stock

    c.orders.place(account(), {"items": [{"productId": "prod_012", "quantity": 3}], "card": CARD})
    user.find(marker="product-name").clear().type("Big Ceramic Mug")
    user.find(marker="save-product").click()

    await user.should_see("Saved Big Ceramic Mug", retries=30)
    product = c.catalog.get("prod_012")
    assert (product.name, product.stock) == ("Big Ceramic Mug", stock - 3)


async def test_renaming_a_user_in_a_row_drawn_before_they_were_deactivated_keeps_them_inactive(user: User):
    c = app.state.container
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/users")
    await user.should_see(marker="name-customer@example.com")

    c.users.update(account("admin@example.com"), account().id, active=False)
    user.find(marker="name-customer@example.com").clear().type("Renamed Customer")
    user.find(marker="save-customer@example.com").click()

    await user.should_see("Saved customer@example.com", retries=30)
    customer = account()
    assert (customer.name, customer.active) == ("Renamed Customer", False)
