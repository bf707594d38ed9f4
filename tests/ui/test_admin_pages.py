"""Admin pages: Product Management's form, User Management's self-protection, the 'not allowed' page."""

from nicegui import app
from nicegui.testing import User

from domain.model.catalog import ProductQuery
from tests.ui.helpers import sign_in


def the(user: User, marker: str):
    elements = user.find(marker=marker).elements
    assert len(elements) == 1, f"expected one element marked {marker!r}, found {len(elements)}"
    return next(iter(elements))


async def test_the_product_form_shows_errors_beside_the_fields_and_creates_nothing(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/products")
    before = len(app.state.container.catalog.browse(ProductQuery(
        include_inactive=True)))

    user.find(marker="add-product").click()
    user.find(marker="product-name").type("Tea Pot")
    user.find(marker="product-price").type("1.234")
    user.find(marker="product-category").type("Home & Garden!")
    user.find(marker="save-product").click()

    await user.should_see("has more than 2 decimals for USD", retries=30)
    assert the(user, "product-price").error == "Price has more than 2 decimals for USD."
    assert the(user, "product-category").error is not None
    assert the(user, "product-name").error is None
    after = app.state.container.catalog.browse(ProductQuery(
        include_inactive=True))
    assert len(after) == before


async def test_an_admin_adds_a_product_that_then_appears_in_the_list(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/products")

    user.find(marker="add-product").click()
    user.find(marker="product-name").type("Tea Pot")
    user.find(marker="product-price").type("19.90")
    user.find(marker="product-category").type("home")
    user.find(marker="product-stock").clear().type("7")
    user.find(marker="save-product").click()

    await user.should_see("Saved Tea Pot", retries=30)
    created = [p for p in app.state.container.catalog.browse(
        ProductQuery()) if p.name == "Tea Pot"]
    assert [(p.unit_price_minor, p.stock, p.category) for p in created] == [(1990, 7, "home")]


async def test_a_customer_at_an_admin_url_gets_a_clear_not_allowed_page(user: User):
    await sign_in(user)

    await user.open("/admin/products")

    await user.should_see("Product Management is for administrators only.")
    await user.should_not_see(marker="add-product")


async def test_an_admin_cannot_delete_or_demote_themself_and_is_told_why(user: User):
    await sign_in(user, "admin@example.com", "admin123")

    await user.open("/admin/users")

    await user.should_see("This is you: you cannot delete yourself or remove your own admin role.")
    assert not the(user, "delete-admin@example.com").enabled
    assert the(user, "delete-customer@example.com").enabled


async def test_removing_a_product_asks_first_and_cancel_keeps_it(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/products")

    user.find(marker="delete-prod_012").click()
    await user.should_see(marker="confirm-dialog", retries=20)
    user.find(marker="confirm-no").click()

    await user.should_not_see(marker="confirm-dialog", retries=20)
    assert app.state.container.catalog.get("prod_012").active


async def test_removing_a_product_that_was_never_ordered_deletes_it_after_confirmation(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/products")

    user.find(marker="delete-prod_012").click()
    await user.should_see(marker="confirm-dialog", retries=20)
    user.find(marker="confirm-yes").click()

    await user.should_see("Deleted Ceramic Mug", retries=30)
    assert "prod_012" not in {p.id for p in app.state.container.catalog.browse(ProductQuery(include_inactive=True))}


async def test_the_user_form_marks_every_field_at_fault_at_once_in_sentences_with_limits_as_hints(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/users")
    user.find("Create a user").click()
    assert the(user, "new-name").props["hint"] == "Up to 100 characters"
    assert the(user, "new-password").props["hint"] == "At least 8 characters"

    user.find(marker="new-email").type("not-an-email")
    user.find(marker="new-password").type("short")
    user.find(marker="create-user-button").click()

    await user.should_see("Please correct the 3 fields marked in red.")
    assert the(user, "new-email").error == "Email must be a valid email address."
    assert the(user, "new-name").error == "Name must be 1 to 100 characters."
    assert the(user, "new-password").error == "Password must be at least 8 characters."
    assert "not-an-email" not in {u.email for u in app.state.container.users.list()}
