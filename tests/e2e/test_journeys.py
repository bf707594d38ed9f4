"""Real-browser journeys: a real server process, a real Chromium, what a person would do."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import screenshot, sign_in
from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
CARD = {"4242": "4242424242424242", "decline": "4000000000000002"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("journeys"))
    yield s
    s.stop()


def bearer(url: str, who: tuple[str, str]) -> dict[str, str]:
    token = httpx.post(f"{url}/api/auth/login", json={"email": who[0], "password": who[1]}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


async def add_to_cart(page: Page, product: str) -> None:
    card = page.locator(".q-card", has=page.get_by_text(product, exact=True))
    await card.get_by_role("button", name=re.compile("Add to Cart", re.I)).click()
    await expect(card.get_by_text("1 in cart")).to_be_visible()


async def fill_card(page: Page, number: str) -> None:
    await page.get_by_label("Card number").fill(number)
    await page.get_by_label("Month", exact=True).fill("12")
    await page.get_by_label("Year", exact=True).fill("2030")
    await page.get_by_label("CVC").fill("123")


async def test_a_customer_buys_three_products_and_sees_the_payment_complete_live(server: Server, page: Page):
    await sign_in(page, server.url, *CUSTOMER)
    await page.goto(f"{server.url}/shop")
    for product in ("Premium Headphones", "Ceramic Mug", "A Short History of Money"):
        await add_to_cart(page, product)
    await expect(page.get_by_text("$327.98")).to_be_visible()  # 299.99 + 12.00 + 15.99
    await screenshot(page, "shop")

    await page.get_by_role("button", name="Proceed to Payment").click()
    await expect(page.get_by_text("✓ Amount automatically set to cart total")).to_be_visible()
    await expect(page.get_by_label("Amount")).to_have_value("327.98")
    await fill_card(page, CARD["4242"])
    await screenshot(page, "new-payment")
    await page.get_by_role("button", name="Pay", exact=True).click()

    await expect(page.locator(".q-badge", has_text="completed")).to_be_visible(timeout=15_000)
    await screenshot(page, "payment-completed")
    await page.get_by_role("listitem").filter(has_text="Dashboard").click()
    await expect(page.get_by_text("$327.98").first).to_be_visible()
    await expect(page.locator(".q-badge", has_text="completed").first).to_be_visible()
    await screenshot(page, "dashboard")


async def test_a_declined_card_shows_the_reason(server: Server, page: Page):
    await sign_in(page, server.url, *CUSTOMER)
    await page.goto(f"{server.url}/payments/new")

    await page.get_by_label("Amount").fill("25.00")
    await fill_card(page, CARD["decline"])
    await page.get_by_role("button", name="Pay", exact=True).click()

    await expect(page.get_by_text("Failed: The card was declined. (card_declined)")).to_be_visible(timeout=15_000)
    await screenshot(page, "payment-declined")


async def test_an_admin_creates_a_product_that_a_customer_then_sees_and_buys(server: Server, browser: Browser):
    admin = await (await browser.new_context(viewport={"width": 1280, "height": 860})).new_page()
    await sign_in(admin, server.url, *ADMIN)
    await admin.goto(f"{server.url}/admin/products")
    await admin.get_by_role("button", name=re.compile("Add product", re.I)).click()
    await admin.get_by_label("Name").fill("Journey Teapot")
    await admin.get_by_label("Price").fill("42.50")
    await admin.get_by_label("Category").fill("home")
    await admin.get_by_label("Stock").fill("5")
    await screenshot(admin, "product-management")
    await admin.get_by_role("button", name=re.compile("Save", re.I)).click()
    await expect(admin.get_by_text("Journey Teapot").first).to_be_visible()

    customer = await (await browser.new_context(viewport={"width": 1280, "height": 860})).new_page()
    await sign_in(customer, server.url, *CUSTOMER)
    await customer.goto(f"{server.url}/shop")
    await customer.get_by_label("Search").fill("teapot")
    await expect(customer.get_by_text("Premium Headphones", exact=True)).to_have_count(0)  # the search applied
    await add_to_cart(customer, "Journey Teapot")
    await customer.get_by_role("button", name="Proceed to Payment").click()
    await expect(customer.get_by_label("Amount")).to_have_value("42.50")
    await fill_card(customer, CARD["4242"])
    await customer.get_by_role("button", name="Pay", exact=True).click()

    await expect(customer.locator(".q-badge", has_text="completed")).to_be_visible(timeout=15_000)
    product = next(p for p in httpx.get(f"{server.url}/api/products?search=teapot").json()["data"])
    assert product["stock"] == 4


async def test_an_admin_sees_the_metrics_charts_render_with_data(server: Server, page: Page):
    headers = bearer(server.url, ADMIN)
    for number in (CARD["4242"], CARD["decline"]):
        httpx.post(f"{server.url}/api/payments", headers=headers,
                   json={"amount": 500, "currency": "USD", "card": {"number": number, "expMonth": 12,
                                                                    "expYear": 2030, "cvc": "123"}})
    await sign_in(page, server.url, *ADMIN)

    await page.goto(f"{server.url}/admin/metrics")

    await expect(page.locator("canvas")).to_have_count(4, timeout=10_000)
    await expect(page.get_by_text("card_declined").first).to_be_visible(timeout=10_000)
    await page.wait_for_timeout(2500)  # one live refresh, so the queue/tokens chart has points
    await screenshot(page, "system-metrics")


async def test_a_customer_cannot_reach_an_admin_page(server: Server, page: Page):
    await sign_in(page, server.url, *CUSTOMER)

    await page.goto(f"{server.url}/admin/users")

    await expect(page.get_by_text("User Management is for administrators only.")).to_be_visible()
    await expect(page.get_by_role("button", name=re.compile("Create user", re.I))).to_have_count(0)
    await screenshot(page, "not-allowed")


async def test_sign_in_and_checkout_work_with_the_keyboard_alone(server: Server, page: Page):
    await page.goto(f"{server.url}/login")
    # Keys typed before the page is live would go nowhere: wait for the focus and the handshake.
    await expect(page.get_by_label("Email")).to_be_focused()
    await page.wait_for_function("window.did_handshake === true")
    await page.keyboard.type(CUSTOMER[0])  # the email field has focus on arrival
    await page.keyboard.press("Tab")
    await page.keyboard.type(CUSTOMER[1])
    await page.keyboard.press("Enter")
    await page.get_by_text("Dashboard", exact=True).first.wait_for()

    await page.goto(f"{server.url}/payments/new")
    await page.wait_for_function("window.did_handshake === true")
    await page.get_by_label("Amount").focus()
    await page.keyboard.type("9.99")
    for _ in range(3):  # currency, description, method
        await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.type(CARD["4242"])
    for value in ("12", "2030", "123"):
        await page.keyboard.press("Tab")
        await page.keyboard.type(value)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")

    await expect(page.locator(".q-badge", has_text="completed")).to_be_visible(timeout=15_000)
    await screenshot(page, "keyboard-checkout")


async def test_the_dashboard_follows_a_payment_that_another_process_finishes(
        tmp_path_factory: pytest.TempPathFactory, page: Page):
    # Two processes on one database: the browser watches A; B takes the payment and processes it
    # (A's own drain runs only hourly and is not woken, since the payment is not submitted to A).
    shared = tmp_path_factory.mktemp("shared")
    database = {"PAYGATE_DATABASE_URL": f"sqlite:///{shared / 'paygate.db'}"}
    a = start_server(shared / "a", PAYGATE_DRAIN_INTERVAL_SECONDS="3600", **database)
    b = start_server(shared / "b", **database)
    try:
        await sign_in(page, a.url, *CUSTOMER)
        await expect(page.get_by_text("No payments yet.")).to_be_visible()
        r = httpx.post(f"{b.url}/api/payments", headers=bearer(b.url, CUSTOMER),
                       json={"amount": 4321, "currency": "USD", "description": "paid through process B"})
        assert r.status_code == 202

        await expect(page.get_by_text("paid through process B")).to_be_visible(timeout=10_000)
        await expect(page.locator(".q-badge", has_text="completed")).to_be_visible(timeout=10_000)
        await expect(page.get_by_text("$43.21").first).to_be_visible()
        ledger = httpx.get(f"{b.url}/api/providers/mock/charges", headers=bearer(b.url, ADMIN)).json()["data"]
        assert [c["paymentId"] for c in ledger] == [r.json()["id"]]
    finally:
        a.stop()
        b.stop()
