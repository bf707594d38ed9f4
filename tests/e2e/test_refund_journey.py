"""An admin refunds a payment from its detail page: a real server process, a real Chromium."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import collect_csp_violations, screenshot, sign_in
from tests.e2e.conftest import Server, bearer

pytestmark = pytest.mark.e2e

CUSTOMER = ("customer@example.com", "password123")
ADMIN = ("admin@example.com", "admin123")
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def completed_payment(server: Server) -> str:
    """A customer's payment of $40.00 through the API, once the server's drain has completed it; its id."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        me = bearer(client, *CUSTOMER)
        created = client.post("/api/payments", headers=me, json={
            "amount": 4000, "currency": "USD", "card": CARD,
            "description": "Walnut desk organiser with three drawers, engraved, gift wrapped"})
        assert created.status_code == 202, created.text
        payment_id: str = created.json()["id"]
        deadline = time.monotonic() + 15
        while client.get(f"/api/payments/{payment_id}", headers=me).json()["status"] != "completed":
            assert time.monotonic() < deadline, "the payment did not complete"
            time.sleep(0.1)
        return payment_id


async def test_an_admin_opens_a_payment_from_the_history_refunds_part_and_sees_it_succeed(server: Server, page: Page):
    payment_id = completed_payment(server)
    violations = await collect_csp_violations(page)
    await sign_in(page, server.url, *ADMIN)
    await page.goto(f"{server.url}/payments")
    await expect(page.get_by_role("link", name=payment_id)).to_have_attribute("href", f"/payments/{payment_id}")

    await page.get_by_role("row").filter(has_text=payment_id).get_by_text("$40.00").click()  # anywhere on the row

    await expect(page).to_have_url(f"{server.url}/payments/{payment_id}")
    await expect(page.get_by_text("visa •••• 4242")).to_be_visible()
    await page.get_by_role("button", name=re.compile("Refund", re.I)).click()
    await expect(page.get_by_label("Amount")).to_have_value("40.00")
    await page.get_by_label("Amount").fill("15.00")
    await page.get_by_role("button", name=re.compile("Continue", re.I)).click()
    await expect(page.get_by_text("Refund $15.00 of $40.00 to visa •••• 4242?")).to_be_visible()
    await page.get_by_role("button", name=re.compile("Confirm", re.I)).click()

    refunds = page.locator(".q-card", has=page.get_by_text("Refunds", exact=True))
    await expect(refunds.locator(".q-badge", has_text="succeeded")).to_be_visible(timeout=15_000)
    await expect(page.get_by_text("$15.00 of $40.00", exact=True)).to_be_visible()
    await expect(page.get_by_text("$25.00 left to refund")).to_be_visible()
    await expect(page.get_by_role("cell", name="refund", exact=True)).to_be_visible()  # the provider call
    await screenshot(page, "payment-detail")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.wait_for_timeout(300)
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways at 390 px: {widths}"
    await screenshot(page, "payment-detail-390")
    assert violations == []  # the id cell's template and the dialog run under the Content-Security-Policy
