"""Product Orders in a real Chromium against a real server: a customer on a phone (390 × 844) adds products with the
quantity steppers, opens the cart sheet, changes a quantity and proceeds to payment; the cart never hides the
products while scrolling, nothing scrolls sideways, and a 120-character name overlaps nothing (at 1280 too)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.e2e.browser import screenshot
from tests.e2e.conftest import Server, bearer, start_server

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
LONG_NAME = ("Handcrafted extra-large stoneware coffee mug with an ergonomic handle, a matte glaze finish "
             "and a bamboo lid, set of four")[:120]
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

# Every card button wholly on screen below the header: is the button itself what a tap at its centre reaches?
# (How many were looked at, and the names of those that something else covers, with what covers them.)
COVERED_BUTTONS = """() => {
    const top = document.querySelector('.q-header')?.getBoundingClientRect().bottom ?? 0;
    const seen = [...document.querySelectorAll('.q-card .q-btn:not([disabled])')].filter(b => {
        const r = b.getBoundingClientRect();
        return r.height > 0 && r.top >= top && r.bottom <= window.innerHeight && !b.closest('.q-dialog');
    });
    return [seen.length, seen.map(b => {
        const r = b.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return b.contains(hit) ? null : (b.getAttribute('aria-label') || b.textContent.trim()) + ' under '
            + (hit?.className || hit?.tagName);
    }).filter(Boolean)];
}"""

# Within `root`: pairs of drawn things (text, buttons, pictures) whose boxes cross, and texts wider than their box.
OVERLAPS = """(root) => {
    const texty = e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const items = [...root.querySelectorAll('*')].filter(e => texty(e) || e.matches('.q-btn, .q-img'))
        .filter(e => !e.closest('.q-btn') || e.matches('.q-btn'))
        .filter(e => e.getBoundingClientRect().width > 0);
    const found = [];
    for (const e of items) {
        if (texty(e) && e.scrollWidth > e.clientWidth + 1) found.push('too wide: ' + e.textContent.slice(0, 40));
    }
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
        const [a, b] = [items[i], items[j]];
        if (a.contains(b) || b.contains(a)) continue;
        const [p, q] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
        const x = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        const y = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if (x > 1 && y > 1) found.push(a.textContent.slice(0, 30) + ' / ' + b.textContent.slice(0, 30));
    }
    return found;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("storefront"))
    with httpx.Client(base_url=s.url, timeout=10) as client:
        r = client.post("/api/products", headers=bearer(client, *ADMIN), json={
            "name": LONG_NAME, "unitPrice": "1.50", "currency": "USD", "category": "aaa-first", "stock": 9})
        assert r.status_code == 201, r.text
    yield s
    s.stop()


async def open_shop(browser: Browser, server: Server, viewport: dict[str, int]) -> Page:
    page = await (await browser.new_context(viewport=viewport)).new_page()
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Email").fill(CUSTOMER[0])
    await page.get_by_label("Password").fill(CUSTOMER[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{server.url}/")  # (on a phone the navigation is folded away: no link to wait for)
    await page.goto(f"{server.url}/shop")
    await page.wait_for_function("window.did_handshake === true")
    return page


def product_card(page: Page, name: str) -> Locator:
    return page.locator(".q-card").filter(has=page.get_by_text(name, exact=True)) \
        .filter(has=page.get_by_role("button", name="Add to Cart"))


async def add(page: Page, name: str, presses_of_more: int) -> None:
    card = product_card(page, name)
    for _ in range(presses_of_more):
        await card.get_by_role("button", name=f"One more {name}").click()
    await expect(card.get_by_text(str(presses_of_more + 1), exact=True)).to_be_visible()
    await card.get_by_role("button", name="Add to Cart").click()
    await expect(card.get_by_text(f"{presses_of_more + 1} in cart")).to_be_visible()


async def overlaps(locator: Locator) -> list[str]:
    found: list[str] = await locator.evaluate(OVERLAPS)
    return found


async def test_on_a_phone_the_cart_is_a_badge_and_a_sheet_that_never_hides_the_products(
        server: Server, browser: Browser):
    page = await open_shop(browser, server, PHONE)
    cart_button = page.get_by_role("button", name="Cart: 0 item(s)")
    await expect(cart_button).to_be_visible()
    await expect(page.get_by_text("Cart (0)")).to_be_hidden()  # the side panel is for wide screens
    assert await page.evaluate(SIDEWAYS) <= 0

    # The cart is a small round button, and nothing on the cards is under it, at the top or further down.
    box = await cart_button.bounding_box()
    first = await page.locator(".grid > .q-card").first.bounding_box()
    assert box and first and box["height"] <= 80 and box["width"] <= 80
    assert first["y"] + first["height"] <= box["y"] or first["x"] + first["width"] <= box["x"]
    for _ in range(4):
        seen, covered = await page.evaluate(COVERED_BUTTONS)
        assert seen >= 3 and covered == []
        await page.mouse.wheel(0, 700)
        await page.wait_for_timeout(100)
    assert await overlaps(product_card(page, LONG_NAME)) == []
    await page.evaluate("window.scrollTo(0, 0)")

    await add(page, "Premium Headphones", presses_of_more=1)
    await add(page, "Ceramic Mug", presses_of_more=0)
    await expect(page.get_by_role("button", name="Cart: 3 item(s)")).to_be_visible()
    await add(page, LONG_NAME, presses_of_more=0)
    await screenshot(page, "shop-phone")

    await page.get_by_role("button", name="Cart: 4 item(s)").click()
    sheet = page.locator(".q-dialog .q-card")
    await expect(sheet.get_by_text("Cart (4)")).to_be_visible()
    await expect(sheet.get_by_text("$299.99 each")).to_be_visible()
    await expect(sheet.get_by_text("$599.98")).to_be_visible()  # 2 × 299.99
    await sheet.get_by_role("button", name="One more Ceramic Mug").click()
    await expect(sheet.get_by_text("$24.00")).to_be_visible()  # 2 × 12.00
    await expect(sheet.get_by_text("Cart (5)")).to_be_visible()
    await expect(page.get_by_role("button", name="Cart: 5 item(s)")).to_be_attached()
    await expect(sheet.get_by_text("$625.48")).to_be_visible()  # 599.98 + 24.00 + 1.50
    assert await overlaps(sheet) == []
    assert await page.evaluate(SIDEWAYS) <= 0
    await screenshot(page, "cart-sheet-phone")

    await sheet.get_by_role("button", name="Proceed to Payment").click()

    await page.wait_for_url(f"{server.url}/payments/new")
    await expect(page.get_by_label("Amount")).to_be_visible()


async def test_on_a_wide_screen_the_cart_is_a_side_panel_and_a_long_name_overlaps_nothing(
        server: Server, browser: Browser):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        me = bearer(client, *CUSTOMER)
        client.delete("/api/cart", headers=me)
        product_id = client.get("/api/products", params={"search": "bamboo lid"}).json()["data"][0]["id"]
        assert client.put(f"/api/cart/items/{product_id}", headers=me, json={"quantity": 2}).status_code == 200

    page = await open_shop(browser, server, DESKTOP)

    panel = page.locator(".q-card").filter(has=page.get_by_text("Cart (2)"))
    await expect(panel).to_be_visible()
    await expect(page.get_by_role("button", name="Cart: 2 item(s)")).to_be_hidden()
    assert await overlaps(panel) == []
    assert await overlaps(product_card(page, LONG_NAME)) == []
    assert await page.evaluate(SIDEWAYS) <= 0
    await screenshot(page, "shop-wide-cart")
