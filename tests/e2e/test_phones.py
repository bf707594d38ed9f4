"""Every page, for a customer and for an admin, at a phone's 390 × 844 and at 1280: none scrolls sideways.

The pages are the navigation's (checked against the drawer, so a page added to it must be added here too),
a payment's and an order's own page, and the sign-in page.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.e2e.browser import sign_in
from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
LONG = "A description long enough to wrap several times on a phone, " * 2  # 120 characters
# The navigation's pages by their titles (what the drawer shows), for everyone, then for admins only.
NAV = {"Dashboard": "/", "Product Orders": "/shop", "New Payment": "/payments/new",
       "Payment History": "/payments", "My Orders": "/orders"}
ADMIN_NAV = {"System Metrics": "/admin/metrics", "User Management": "/admin/users",
             "Product Management": "/admin/products", "Webhooks": "/admin/webhooks"}
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("phones"))
    yield s
    s.stop()


def seed(url: str) -> tuple[str, str]:
    """An order of the customer's (through the API), with a long description: (its payment's id, its id)."""
    with httpx.Client(base_url=url, timeout=10) as client:
        token = client.post("/api/auth/login", json={"email": CUSTOMER[0], "password": CUSTOMER[1]}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        order = client.post("/api/orders", headers=headers, json={
            "items": [{"productId": "prod_001", "quantity": 1}], "description": LONG[:120],
            "card": {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}})
        assert order.status_code == 201, order.text
        client.post("/api/payments", headers=headers, json={"amount": 1234, "currency": "USD", "description": LONG,
                                                             "card": {"number": "4000000000000002", "expMonth": 12,
                                                                      "expYear": 2030, "cvc": "123"}})
        return order.json()["paymentId"], order.json()["id"]


async def sideways(page: Page, path: str, url: str) -> int:
    """How many pixels the page at `path` is wider than the window, once it has drawn."""
    await page.goto(f"{url}{path}", wait_until="networkidle")
    await page.wait_for_function("window.did_handshake === true")
    await page.wait_for_timeout(150)  # Quasar lays out the drawer and tables after the first paint
    return int(await page.evaluate(SIDEWAYS))


async def pages_of(page: Page, url: str, admin: bool) -> dict[str, str]:
    """The navigation's pages for this user, with the drawer's own list checked against NAV."""
    expected = {**NAV, **(ADMIN_NAV if admin else {})}
    await page.goto(f"{url}/")
    labels = page.locator(".q-drawer .q-item .q-item__section--main")  # the label, beside its icon
    await labels.first.wait_for()
    shown = [text.strip() for text in await labels.all_inner_texts()]
    assert [t for t in shown if t != "Sign out"] == list(expected), "a page in the navigation is not covered here"
    return expected


@pytest.mark.parametrize("who", [CUSTOMER, ADMIN], ids=["customer", "admin"])
async def test_no_page_scrolls_sideways_on_a_phone_or_a_desktop(server: Server, browser: Browser,
                                                               who: tuple[str, str]):
    payment_id, order_id = seed(server.url)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    try:
        await sign_in(page, server.url, *who)
        paths = [*(await pages_of(page, server.url, who == ADMIN)).values(),
                 f"/payments/{payment_id}", f"/orders/{order_id}"]
        too_wide: dict[str, int] = {}
        for viewport in (PHONE, DESKTOP):
            await page.set_viewport_size(viewport)
            for path in paths:
                extra = await sideways(page, path, server.url)
                if extra > 0:
                    too_wide[f"{path} at {viewport['width']}"] = extra
        assert too_wide == {}, f"pages wider than the window (px too wide): {too_wide}"
    finally:
        await context.close()


async def test_the_sign_in_page_fits_a_phone(server: Server, browser: Browser):
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    try:
        assert await sideways(page, "/login", server.url) <= 0
    finally:
        await context.close()


async def test_payment_history_is_a_table_on_a_desktop_and_cards_on_a_phone(server: Server, browser: Browser):
    seed(server.url)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    try:
        await sign_in(page, server.url, *CUSTOMER)
        await page.goto(f"{server.url}/payments", wait_until="networkidle")
        await page.locator("table.q-table").wait_for()
        assert await page.locator("[data-payment-card]").count() == 0

        await page.set_viewport_size(PHONE)  # Quasar's screen size follows the window: no reload

        cards = page.locator("[data-payment-card]")
        await cards.first.wait_for()
        assert await page.locator("table.q-table").count() == 0
        first = cards.first
        assert "Description:" in await first.inner_text()  # each column as a caption and its value
        assert await first.locator("a[href^='/payments/pay_']").count() == 1  # and the way to the payment
        # The drawer folds away with an animation after the resize; then nothing is wider than the window.
        await page.wait_for_function(f"({SIDEWAYS}) <= 0", timeout=3000)
    finally:
        await context.close()
