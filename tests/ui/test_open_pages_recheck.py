"""An open page acts for its user only while the session still holds: each action checks it again,
and a change to the page's own user makes the page leave at once."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import account, enter_card, sign_in


def other_admin():
    return app.state.container.users.create(email="second-admin@example.com", password="password123",
                                            name="Second Admin", role="admin")


async def test_an_admin_demoted_meanwhile_cannot_save_a_user_and_leaves_the_admin_page(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/users")
    await user.should_see(marker="save-customer@example.com")
    second = other_admin()
    before = account("customer@example.com")

    # No await between the demotion and the click: the page has not heard of it when the button is pressed.
    user.find(marker="name-customer@example.com").clear().type("Renamed By A Former Admin")
    app.state.container.users.update(second, account("admin@example.com").id, role="customer")
    user.find(marker="save-customer@example.com").click()

    await user.should_not_see(marker="users-list", retries=30)
    assert account("customer@example.com") == before


async def test_an_admin_demoted_meanwhile_is_taken_off_the_admin_page_without_pressing_anything(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/users")
    await user.should_see(marker="users-list")

    app.state.container.users.update(other_admin(), account("admin@example.com").id, role="customer")

    await user.should_not_see(marker="users-list", retries=50)


async def test_a_customer_deactivated_meanwhile_is_signed_out_of_an_open_page(user: User):
    await sign_in(user)
    await user.open("/payments/new")
    await user.should_see(marker="pay-button")

    app.state.container.users.update(account("admin@example.com"), account().id, active=False)

    await user.should_see(marker="sign-in", retries=50)


async def test_a_customer_deactivated_meanwhile_cannot_pay_from_an_open_form(user: User):
    await sign_in(user)
    await user.open("/payments/new")
    user.find(marker="amount").type("10.00")
    enter_card(user)

    app.state.container.users.update(account("admin@example.com"), account().id, active=False)
    user.find(marker="pay-button").click()

    await user.should_see(marker="sign-in", retries=50)
    assert app.state.container.payments.list(account("admin@example.com"))[0] == []


async def test_an_admin_demoted_meanwhile_cannot_save_a_product(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/products")
    user.find(marker="edit-prod_012").click()
    await user.should_see(marker="product-form")

    user.find(marker="product-name").clear().type("Renamed Mug")
    app.state.container.users.update(other_admin(), account("admin@example.com").id, role="customer")
    user.find(marker="save-product").click()

    await user.should_not_see(marker="product-list", retries=50)
    assert app.state.container.catalog.get("prod_012").name == "Ceramic Mug"
