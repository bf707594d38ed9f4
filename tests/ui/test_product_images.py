"""Product Management's form: a picture uploaded (judged by its bytes) or given by address with a preview,
categories suggested, every error at once as a sentence, limits as hints; the list's empty state; one
generated picture for a product without its own, in the shop and in admin alike."""

from __future__ import annotations

import hashlib
from pathlib import Path

from nicegui import app, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from domain.model.catalog import ProductQuery
from tests.pictures import GIF, png
from tests.ui.helpers import sign_in, the


async def open_form(user: User, edit: str | None = None) -> None:
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/products")
    user.find(marker=f"edit-{edit}" if edit else "add-product").click()
    await user.should_see(marker="product-form", retries=20)


def products() -> list:
    return app.state.container.catalog.browse(ProductQuery(include_inactive=True))


def uploads(data_dir: Path) -> list[str]:
    folder = data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


async def test_an_image_address_is_previewed_before_saving(user: User):
    await open_form(user)

    user.find(marker="product-image").type("https://cdn.example.com/mug.png")

    preview = the(user, "image-preview")
    assert preview.source == "https://cdn.example.com/mug.png"
    assert preview.visible
    await user.should_see("Preview")


async def test_an_address_that_would_be_refused_gets_no_preview_and_says_why(user: User):
    await open_form(user)

    user.find(marker="product-image").type("http://cdn.example.com/mug.png")

    await user.should_not_see(marker="image-preview")
    await user.should_see("No preview: an address must start with https:// or be a path on this site.")


async def test_editing_a_product_without_a_picture_previews_the_generated_one(user: User):
    app.state.container.catalog.update("prod_012", {"imageUrl": None})

    await open_form(user, edit="prod_012")

    assert the(user, "image-preview").source == "/images/products/prod_012.svg"
    await user.should_see("Generated picture")


async def test_an_uploaded_png_becomes_the_products_picture(user: User, paygate_env: Path):
    await open_form(user, edit="prod_012")
    data = png(8, 6)

    # The name and declared type are the browser's say; only the bytes count.
    await the(user, "image-upload").handle_uploads([SmallFileUpload("holiday photo.gif", "image/gif", data)])
    await user.should_see("Picture uploaded. Save the product to use it.", retries=30)
    user.find(marker="save-product").click()
    await user.should_see("Saved Ceramic Mug", retries=30)

    name = f"{hashlib.sha256(data).hexdigest()}.png"
    assert uploads(paygate_env) == [name]
    assert (paygate_env / "uploads" / name).read_bytes() == data
    assert app.state.container.catalog.get("prod_012").image_url == f"/images/uploads/{name}"


async def test_a_gif_is_refused_with_a_clear_message_and_changes_nothing(user: User, paygate_env: Path):
    await open_form(user, edit="prod_012")
    before = the(user, "product-image").value

    await the(user, "image-upload").handle_uploads([SmallFileUpload("cat.png", "image/png", GIF)])

    await user.should_see("Images must be PNG, JPEG or WebP up to 2 MB; this file is a GIF.", retries=30)
    assert the(user, "product-image").value == before
    assert uploads(paygate_env) == []


async def test_text_named_like_a_png_is_refused(user: User, paygate_env: Path):
    await open_form(user)

    await the(user, "image-upload").handle_uploads([SmallFileUpload("photo.png", "image/png", b"just text\n")])

    await user.should_see("Images must be PNG, JPEG or WebP up to 2 MB; this file is text, not a picture.", retries=30)
    assert the(user, "product-image").value == ""
    assert uploads(paygate_env) == []


async def test_the_category_field_suggests_the_existing_categories_and_still_takes_a_new_one(user: User):
    await open_form(user)

    for category in ("books", "clothing", "electronics", "home"):
        await user.should_see(marker=f"category-{category}")
    user.find(marker="product-category").type("el")
    await user.should_see(marker="category-electronics")
    await user.should_not_see(marker="category-books")
    user.find(marker="category-electronics").click()
    assert the(user, "product-category").value == "electronics"

    user.find(marker="product-category").clear().type("garden")
    user.find(marker="product-name").type("Trowel")
    user.find(marker="product-price").type("9.50")
    user.find(marker="save-product").click()
    await user.should_see("Saved Trowel", retries=30)
    assert [p.category for p in products() if p.name == "Trowel"] == ["garden"]


async def test_every_fields_error_shows_at_once_as_a_sentence_and_nothing_is_created(user: User):
    await open_form(user)
    before = len(products())

    user.find(marker="product-name").type("x" * 121)
    user.find(marker="product-price").type("abc")
    user.find(marker="product-category").type("Home & Garden!")
    user.find(marker="product-stock").clear().type("-3")
    user.find(marker="product-image").type("ftp://example.com/a.png")
    user.find(marker="save-product").click()

    await user.should_see("Please correct the 5 fields marked in red.", retries=30)
    assert the(user, "product-name").error == "Name must be text of 1 to 120 characters."
    assert the(user, "product-price").error == "Price must be a decimal number."
    assert the(user, "product-category").error == "Category must be a lowercase word such as 'books'."
    assert the(user, "product-stock").error == "Stock must be a whole number from 0 to 1,000,000."
    assert the(user, "product-image").error == "Image URL must be an https URL or a path on this site."
    assert len(products()) == before


async def test_the_limits_are_hints_before_saving(user: User):
    await open_form(user)

    assert the(user, "product-name").props["hint"] == "Up to 120 characters"
    assert the(user, "product-description").props["hint"] == "Up to 2,000 characters"
    assert the(user, "product-stock").props["hint"] == "0 to 1,000,000"


async def test_with_no_products_the_list_says_so_and_offers_to_add_one(user: User):
    catalog = app.state.container.catalog
    for product in products():
        catalog.delete(product.id)
    await sign_in(user, "admin@example.com", "admin123")

    await user.open("/admin/products")

    await user.should_see("No products yet. Add one and it appears in the shop.")
    user.find(marker="empty-action").click()
    await user.should_see(marker="product-form")
    await user.should_see("Add a product")


async def test_a_product_without_a_picture_shows_the_same_generated_one_in_the_shop_and_in_admin(user: User):
    app.state.container.catalog.update("prod_012", {"imageUrl": None})

    def picture_of(name: str) -> str:
        images = [e for e in user.find(kind=ui.image).elements if e.props.get("alt") == name]
        assert len(images) == 1
        return images[0].source

    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/shop")
    await user.should_see("Ceramic Mug")
    in_shop = picture_of("Ceramic Mug")
    await user.open("/admin/products")
    await user.should_see(marker="row-prod_012")
    in_admin = picture_of("Ceramic Mug")

    assert in_shop == in_admin == "/images/products/prod_012.svg"


async def test_editing_a_product_offers_the_other_categories_to_move_it_to(user: User):
    await open_form(user, edit="prod_012")

    for other in ("books", "clothing", "electronics"):
        await user.should_see(marker=f"category-{other}")
    await user.should_not_see(marker="category-home")
