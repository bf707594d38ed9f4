"""A product name cannot add script to a page, and the Content-Security-Policy lets every page work
while it refuses inline script that the page did not ship (a real server process, a real Chromium)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, Response, expect

from tests.e2e.browser import collect_csp_violations, sign_in
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
EVIL_NAME = 'Q" onmouseover="window.__x=1" x="'


def bearer(url: str, who: tuple[str, str]) -> dict[str, str]:
    token = httpx.post(f"{url}/api/auth/login", json={"email": who[0], "password": who[1]}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def create_product_named(server: Server, name: str, image_url: str | None = None) -> None:
    r = httpx.post(f"{server.url}/api/products", headers=bearer(server.url, ADMIN),
                   json={"name": name, "unitPrice": "9.99", "category": "home", "stock": 5, "imageUrl": image_url})
    assert r.status_code == 201, r.text


def policy_of(response: Response | None) -> dict[str, str]:
    """The response's Content-Security-Policy as {directive: sources}."""
    assert response is not None
    header = response.headers.get("content-security-policy", "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


async def hover_the_product_picture(page: Page) -> None:
    # Its aria-label is the alt text: the whole name when passed as a value, only "Q" when the quote ends it.
    picture = page.locator('.q-img[aria-label^="Q"]')
    await expect(picture).to_have_count(1)
    await picture.hover()


async def test_a_product_name_with_a_quote_adds_no_script_to_the_shop(server: Server, page: Page):
    create_product_named(server, EVIL_NAME)
    await sign_in(page, server.url, *CUSTOMER)

    await page.goto(f"{server.url}/shop")
    await hover_the_product_picture(page)

    assert await page.evaluate("() => window.__x") is None
    await expect(page.locator("[onmouseover]")).to_have_count(0)
    await expect(page.get_by_role("img", name=EVIL_NAME, exact=True)).to_have_count(1)


async def test_a_product_name_with_a_quote_adds_no_script_to_product_management(server: Server, page: Page):
    create_product_named(server, EVIL_NAME)
    await sign_in(page, server.url, *ADMIN)

    await page.goto(f"{server.url}/admin/products")
    await hover_the_product_picture(page)

    assert await page.evaluate("() => window.__x") is None
    await expect(page.locator("[onmouseover]")).to_have_count(0)
    await expect(page.get_by_role("img", name=EVIL_NAME, exact=True)).to_have_count(1)


async def test_the_policy_refuses_an_inline_event_handler_that_reaches_a_page(server: Server, page: Page):
    await sign_in(page, server.url, *CUSTOMER)
    await page.goto(f"{server.url}/shop")

    # As if some other bug had put an attribute into the page: the policy is the second line of defence.
    async with page.expect_console_message(lambda m: "Content Security Policy" in m.text, timeout=5_000):
        await page.evaluate("""() => {
            const button = document.createElement('button');
            button.id = 'injected';
            button.textContent = 'injected';
            button.setAttribute('onclick', 'window.__y = 1');
            document.body.prepend(button);
        }""")
        await page.locator("#injected").dispatch_event("click")

    assert await page.evaluate("() => window.__y") is None


async def test_every_page_works_under_the_policy_with_no_violation(server: Server, browser: Browser):
    # A picture an admin gives as an https: URL is allowed (offline it fails to load, but not by the policy).
    create_product_named(server, "Remote Picture", image_url="https://images.example.com/remote.png")
    responses: list[Response] = []
    sockets: list[str] = []

    async def open_as(who: tuple[str, str]) -> tuple[Page, list[str]]:
        page = await (await browser.new_context(viewport={"width": 1280, "height": 860})).new_page()
        violations = await collect_csp_violations(page)
        page.on("response", lambda r: responses.append(r) if r.request.resource_type == "document" else None)
        page.on("websocket", lambda ws: sockets.append(ws.url))
        await sign_in(page, server.url, *who)  # the login page, then the dashboard
        return page, violations

    customer, customer_violations = await open_as(CUSTOMER)
    await customer.goto(f"{server.url}/shop")
    await expect(customer.locator('.q-img[aria-label="Remote Picture"]')).to_be_visible()
    await expect(customer.locator("img.q-img__image--loaded").first).to_be_visible()  # a picture drawn by the app
    mug = customer.locator(".q-card", has=customer.get_by_text("Ceramic Mug", exact=True))
    await mug.get_by_role("button", name=re.compile("Add to Cart", re.I)).click()
    await expect(mug.get_by_text("1 in cart")).to_be_visible()  # a round trip over the websocket
    await customer.goto(f"{server.url}/payments/new")
    await expect(customer.get_by_label("Amount")).to_have_value("12.00")
    await customer.get_by_label("Card number").fill("4242424242424242")
    await customer.get_by_label("Month", exact=True).fill("12")
    await customer.get_by_label("Year", exact=True).fill("2030")
    await customer.get_by_label("CVC").fill("123")
    await customer.get_by_role("button", name="Pay", exact=True).click()
    await expect(customer.locator(".q-badge", has_text="completed")).to_be_visible(timeout=15_000)  # live
    await customer.goto(f"{server.url}/payments")
    await expect(customer.get_by_role("cell", name="completed")).to_be_visible()
    await customer.goto(f"{server.url}/admin/users")
    await expect(customer.get_by_text("User Management is for administrators only.")).to_be_visible()

    admin, admin_violations = await open_as(ADMIN)
    await admin.goto(f"{server.url}/admin/users")
    await expect(admin.get_by_text("customer@example.com")).to_be_visible()
    await admin.goto(f"{server.url}/admin/products")
    await admin.get_by_role("button", name=re.compile("Add product", re.I)).click()
    await expect(admin.get_by_label("Image URL")).to_be_visible()
    await admin.goto(f"{server.url}/admin/metrics")
    await expect(admin.locator("canvas")).to_have_count(4, timeout=10_000)  # echarts
    await admin.goto(f"{server.url}/payments")
    await expect(admin.get_by_role("cell", name="completed")).to_be_visible()
    await admin.wait_for_timeout(500)  # late fonts, pictures and live updates have their say

    visited = {r.url.removeprefix(server.url) for r in responses}
    assert {"/login", "/", "/shop", "/payments/new", "/payments", "/admin/users", "/admin/products",
            "/admin/metrics"} <= visited
    for response in responses:
        policy = policy_of(response)
        assert "'unsafe-inline'" not in policy.get("script-src", ""), response.url
        assert policy.get("script-src", "").startswith("'self' 'unsafe-eval' 'sha256-"), response.url
        assert policy.get("object-src") == "'none'"
        assert policy.get("base-uri") == "'self'"
        assert policy.get("frame-ancestors") == "'none'"
    assert any(url.startswith(server.url.replace("http:", "ws:")) for url in sockets), sockets
    assert customer_violations == []
    assert admin_violations == []
