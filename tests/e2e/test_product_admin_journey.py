"""An admin uploads a product's picture and sees it in Product Management and in the shop; the list of a
120-character product name neither scrolls sideways nor overlaps at 390 and 1280 px (real server, Chromium)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import FilePayload, FloatRect, Locator, Page, expect

from tests.e2e.browser import collect_csp_violations, screenshot, sign_in
from tests.e2e.conftest import Server
from tests.pictures import png

pytestmark = pytest.mark.e2e

ADMIN = ("admin@example.com", "admin123")
LONG_NAME = ("Extraordinarily Comfortable Noise-Cancelling Over-Ear Wireless Headphones With A Very Long "
             "Name That Goes On And On")[:120].ljust(120, "!")


async def decoded_width(picture: Locator) -> int:
    """The natural width of the <img> inside a Quasar q-img once the browser has decoded it."""
    # While q-img fades from one picture to the next it holds an <img> of each.
    image = picture.locator('img[src^="/images/uploads/"]')
    await expect(image).to_have_attribute("src", re.compile(r"^/images/uploads/[0-9a-f]{64}\.png$"))
    await expect(image).to_have_class(re.compile("q-img__image--loaded"))
    return int(await image.evaluate("img => img.naturalWidth"))


async def test_an_uploaded_png_shows_in_product_management_and_in_the_shop(server: Server, page: Page):
    violations = await collect_csp_violations(page)
    await sign_in(page, server.url, *ADMIN)
    await page.goto(f"{server.url}/admin/products")
    await page.wait_for_function("window.did_handshake === true")  # a click before would go nowhere

    await page.get_by_role("button", name="Edit Ceramic Mug").click()
    dialog = page.locator(".q-dialog")
    await dialog.locator(".q-uploader input[type=file]").set_input_files(
        files=[FilePayload(name="mug.png", mimeType="image/png", buffer=png(64, 48))])
    await expect(page.get_by_text("Picture uploaded. Save the product to use it.")).to_be_visible()
    assert await decoded_width(dialog.locator(".q-img").first) == 64  # the preview, before saving
    await dialog.get_by_role("button", name=re.compile("Save", re.I)).click()
    await expect(page.get_by_text("Saved Ceramic Mug")).to_be_visible()

    assert await decoded_width(page.locator('.q-img[aria-label="Ceramic Mug"]')) == 64
    await page.goto(f"{server.url}/shop")
    assert await decoded_width(page.locator('.q-img[aria-label="Ceramic Mug"]')) == 64
    await screenshot(page, "product-picture-in-shop")
    assert violations == []


def add_long_named_product(server: Server) -> None:
    token = httpx.post(f"{server.url}/api/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}).json()["token"]
    response = httpx.post(f"{server.url}/api/products", headers={"Authorization": f"Bearer {token}"},
                          json={"name": LONG_NAME, "unitPrice": "777.77", "category": "home", "stock": 999999})
    assert response.status_code == 201, response.text


def overlap(a: FloatRect | None, b: FloatRect | None) -> bool:
    assert a is not None and b is not None
    return (a["x"] < b["x"] + b["width"] - 0.5 and b["x"] < a["x"] + a["width"] - 0.5
            and a["y"] < b["y"] + b["height"] - 0.5 and b["y"] < a["y"] + a["height"] - 0.5)


async def test_product_management_with_a_120_character_name_fits_a_phone_and_a_desktop(server: Server, page: Page):
    add_long_named_product(server)
    await sign_in(page, server.url, *ADMIN)

    for width in (390, 1280):
        await page.set_viewport_size({"width": width, "height": 844})
        await page.goto(f"{server.url}/admin/products")
        name = page.get_by_text(LONG_NAME, exact=True)
        await expect(name).to_be_visible()

        sizes = await page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert sizes[0] <= sizes[1], f"{width} px: the page scrolls sideways ({sizes})"
        box = await name.bounding_box()
        for neighbour in (page.get_by_text("$777.77", exact=True), page.get_by_text("999,999 in stock"),
                          page.get_by_role("button", name=f"Edit {LONG_NAME}"),
                          page.get_by_role("button", name=f"Remove {LONG_NAME}"),
                          page.locator(f'.q-img[aria-label="{LONG_NAME}"]')):
            assert not overlap(box, await neighbour.bounding_box()), f"{width} px: the name overlaps {neighbour}"
        assert box is not None and box["x"] + box["width"] <= width
        await screenshot(page, f"product-management-{width}")
