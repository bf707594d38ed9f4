"""A customer follows an order from My Orders to its page, sees it paid and then refunded, live: a real server
process (the mock provider slowed to 1.5 s a call, so each state can be seen), a real Chromium, at 1280 and
390 px."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.browser import collect_csp_violations, screenshot, sign_in
from tests.e2e.conftest import Server, bearer

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
LONG_NAME = ("Hand-thrown stoneware teapot with a bamboo handle, a removable steel infuser and four matching "
             "cups, glazed in sea green")
assert len(LONG_NAME) == 120


def order_through_the_api(server: Server) -> dict:
    """Two of a product with a 120-character name, ordered by the customer with a card; the order."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        product = client.post("/api/products", headers=bearer(client, *ADMIN), json={
            "name": LONG_NAME, "unitPrice": "45.00", "category": "home", "stock": 5})
        assert product.status_code == 201, product.text
        created = client.post("/api/orders", headers=bearer(client, *CUSTOMER), json={
            "items": [{"productId": product.json()["id"], "quantity": 2}], "card": CARD,
            "description": "Birthday present"})
        assert created.status_code == 201, created.text
        order: dict = created.json()
        return order


def refund_in_full(server: Server, payment_id: str) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        refund = client.post(f"/api/payments/{payment_id}/refunds", headers=bearer(client, *ADMIN), json={})
        assert refund.status_code == 202, refund.text


async def no_sideways_scroll(page: Page) -> None:
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways at {page.viewport_size}: {widths}"


async def apart(first: Locator, *others: Locator) -> None:
    """`first` overlaps none of `others`, and all of them fit in the window's width."""
    width = (page_size := first.page.viewport_size) and page_size["width"]
    a = await first.bounding_box()
    assert a is not None and a["x"] >= 0 and a["x"] + a["width"] <= (width or 0) + 0.5
    for other in others:
        b = await other.bounding_box()
        assert b is not None and b["x"] + b["width"] <= (width or 0) + 0.5
        overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
        overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
        assert overlap_x <= 0.5 or overlap_y <= 0.5, \
            f"{await first.inner_text()!r} overlaps {await other.inner_text()!r}"


async def at_both_widths(page: Page, check: Callable[[], object], name: str) -> None:
    """Run `check` at 1280 px and at 390 × 844 (with a screenshot of each), then go back to 1280 px."""
    for width, height, suffix in ((1280, 860, ""), (390, 844, "-390")):
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(300)  # the drawer and the layout settle
        await no_sideways_scroll(page)
        await check()  # type: ignore[misc]
        await screenshot(page, name + suffix)
    await page.set_viewport_size({"width": 1280, "height": 860})


async def test_a_customer_follows_an_order_to_paid_and_refunded(server_factory: Callable[..., Server], page: Page):
    server = server_factory(PAYGATE_MOCK_MIN_LATENCY_MS=1500, PAYGATE_MOCK_MAX_LATENCY_MS=1500)
    violations = await collect_csp_violations(page)
    await sign_in(page, server.url, *CUSTOMER)
    await page.goto(f"{server.url}/orders")
    await expect(page.get_by_role("link", name="Browse products")).to_have_attribute("href", "/shop")

    order = order_through_the_api(server)

    row = page.locator(".q-card", has_text=order["id"])  # arrives live, no reload
    await expect(row).to_be_visible()
    await expect(row.locator(".q-badge")).to_have_text("pending payment")
    await expect(row.get_by_text("$90.00")).to_be_visible()
    await at_both_widths(page, lambda: apart(row.get_by_text(f"{LONG_NAME} × 2"), row.get_by_text("$90.00"),
                                             row.locator(".q-badge"), row.get_by_text(order["id"])), "my-orders")

    await row.click()

    await expect(page).to_have_url(f"{server.url}/orders/{order['id']}")
    summary = page.locator(".q-card", has=page.get_by_text("Order number", exact=True))
    await expect(summary.get_by_text(order["id"], exact=True)).to_be_visible()
    await expect(summary.locator(".q-badge")).to_have_text("paid", timeout=15_000)
    payment = page.locator(".q-card", has=page.get_by_text("Paid with", exact=True))
    await expect(payment.get_by_text("visa •••• 4242")).to_be_visible()
    await expect(payment.get_by_role("link", name="View payment")) \
        .to_have_attribute("href", f"/payments/{order['paymentId']}")
    refunds = page.locator(".q-card", has=page.get_by_text("Refunds", exact=True))
    await expect(refunds.get_by_text("No refunds.")).to_be_visible()

    refund_in_full(server, order["paymentId"])

    await expect(refunds.locator(".q-badge")).to_have_text("succeeded", timeout=15_000)
    await expect(refunds.get_by_text("$90.00")).to_be_visible()
    await expect(summary.locator(".q-badge")).to_have_text("refunded")
    await expect(payment.get_by_text("$90.00 of $90.00")).to_be_visible()
    items = page.locator(".q-card", has=page.get_by_text("Items", exact=True))
    await at_both_widths(page, lambda: apart(items.get_by_text(LONG_NAME, exact=True), items.get_by_text("$45.00"),
                                             items.get_by_text("$90.00").first), "order-page")
    assert violations == []
