"""One look, in a real Chromium: one brand colour on the header and the primary buttons, buttons in sentence
case, no black 1 px borders, the current page marked in the navigation, a visible keyboard focus, and no
counter badge on a repeated toast."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from app.pages.frame import BRAND
from tests.e2e.browser import sign_in
from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
PRIMARY = "rgb({}, {}, {})".format(*bytes.fromhex(BRAND["primary"][1:]))
CUSTOMER_PAGES = ["/", "/shop", "/payments/new", "/payments", "/orders"]
ADMIN_PAGES = ["/", "/payments", "/orders", "/admin/metrics", "/admin/users", "/admin/products", "/admin/webhooks"]

# Every element one of whose sides is a drawn 1 px black line: "tag.class: side".
BLACK_BORDERS = """() => {
  const found = [];
  for (const element of document.querySelectorAll('body *')) {
    const style = getComputedStyle(element);
    for (const side of ['top', 'right', 'bottom', 'left']) {
      if (style.getPropertyValue(`border-${side}-style`) !== 'none'
          && style.getPropertyValue(`border-${side}-width`) === '1px'
          && style.getPropertyValue(`border-${side}-color`) === 'rgb(0, 0, 0)') {
        found.push(`${element.tagName.toLowerCase()}.${element.className}: ${side}`);
      }
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("one-look"))
    with httpx.Client(base_url=s.url, timeout=10) as client:  # rows on the dashboard, a cart on New Payment
        token = client.post("/api/auth/login", json={"email": CUSTOMER[0], "password": CUSTOMER[1]}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        for amount in (1000, 2500):
            client.post("/api/payments", headers=headers, json={"amount": amount, "currency": "USD",
                                                                 "description": "Coffee beans"})
        client.put("/api/cart/items/prod_001", headers=headers, json={"quantity": 1})
    yield s
    s.stop()


async def open_live(page: Page, url: str) -> None:
    await page.goto(url, wait_until="networkidle")
    await page.wait_for_function("window.did_handshake === true")


async def test_the_header_and_the_primary_buttons_wear_one_brand_colour_in_sentence_case(server: Server,
                                                                                        browser: Browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    await page.goto(f"{server.url}/login")
    sign_in_button = page.get_by_role("button", name="Sign in")
    assert await sign_in_button.evaluate("e => getComputedStyle(e).backgroundColor") == PRIMARY
    await sign_in(page, server.url, *CUSTOMER)

    header = await page.locator(".q-header").evaluate("e => getComputedStyle(e).backgroundColor")
    new_payment = page.get_by_role("button", name="New Payment")
    button = await new_payment.evaluate("e => getComputedStyle(e).backgroundColor")
    case = await new_payment.evaluate("e => getComputedStyle(e).textTransform")
    await context.close()

    assert header == button == PRIMARY
    assert case == "none"


@pytest.mark.parametrize(("who", "paths"), [(CUSTOMER, CUSTOMER_PAGES), (ADMIN, ADMIN_PAGES)],
                         ids=["customer", "admin"])
async def test_no_element_draws_a_black_one_pixel_border(server: Server, page: Page, who: tuple[str, str],
                                                         paths: list[str]):
    await sign_in(page, server.url, *who)
    found: dict[str, list[str]] = {}
    for path in paths:
        await open_live(page, f"{server.url}{path}")
        await page.wait_for_timeout(200)  # the tables and cards of the first read
        black = await page.evaluate(BLACK_BORDERS)
        if black:
            found[path] = black
    assert found == {}


async def test_the_navigation_marks_the_page_one_is_on(server: Server, page: Page):
    await sign_in(page, server.url, *CUSTOMER)
    for path, title in (("/", "Dashboard"), ("/payments/new", "New Payment"), ("/payments", "Payment History")):
        await open_live(page, f"{server.url}{path}")
        current = page.locator('.q-drawer [aria-current="page"]')
        await expect(current).to_have_count(1)
        await expect(current.locator(".q-item__section--main")).to_have_text(title)
        assert "q-item--active" in (await current.get_attribute("class") or "")

    link = page.locator("a[href^='/payments/pay_']").first
    await open_live(page, f"{server.url}{await link.get_attribute('href')}")  # a payment's own page
    await expect(page.locator('.q-drawer [aria-current="page"] .q-item__section--main')).to_have_text(
        "Payment History")


async def test_keyboard_focus_shows_a_ring_in_the_brand_colour(server: Server, page: Page):
    await sign_in(page, server.url, *CUSTOMER)
    await open_live(page, f"{server.url}/")
    ring = """() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"""
    rings = {}
    for _ in range(30):  # through the header's buttons, the navigation, to the page's own buttons
        await page.keyboard.press("Tab")
        where = await page.evaluate("""() => { const e = document.activeElement;
            return e.closest('.q-header') ? 'header' : e.closest('.q-drawer') ? 'nav'
                 : e.classList.contains('q-btn') ? 'button' : null; }""")
        if where is not None and where not in rings:
            rings[where] = await page.evaluate(ring)
        if "button" in rings:
            break

    assert rings["button"] == ["solid", "2px", PRIMARY]  # New Payment, on the page
    assert rings["nav"] == ["solid", "2px", PRIMARY]  # a navigation entry
    assert rings["header"] == ["solid", "2px", "rgb(255, 255, 255)"]  # white on the primary header


async def test_a_repeated_toast_has_no_counter_badge(server: Server, page: Page):
    await sign_in(page, server.url, *CUSTOMER)
    await open_live(page, f"{server.url}/")

    # As NiceGUI's ui.notify does it (nicegui.js: Quasar.Notify.create), twice with the same message.
    await page.evaluate("() => { Quasar.Notify.create({message: 'Saved'}); Quasar.Notify.create({message: 'Saved'}); }")

    await expect(page.locator(".q-notification").first).to_be_visible()
    await page.wait_for_timeout(300)
    assert await page.locator(".q-notification__badge").count() == 0
