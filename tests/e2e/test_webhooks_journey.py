"""An admin adds a webhook endpoint in the browser, copies its secret, and watches a payment's event fail
at a receiver, retry and arrive there verified: a real server process, a real receiver, a real Chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import collect_csp_violations, screenshot, sign_in
from tests.e2e.conftest import Server, bearer
from tests.integration.webhook_receiver import Receiver, running

pytestmark = pytest.mark.e2e

ADMIN = ("admin@example.com", "admin123")
CUSTOMER = ("customer@example.com", "password123")
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
# A local receiver, and a failed try tried again 3 s later: long enough to watch it fail first.
SETTINGS = {"PAYGATE_WEBHOOKS_ALLOW_PRIVATE": "1", "PAYGATE_WEBHOOK_RETRY_SCHEDULE": "3,3,3",
            "PAYGATE_WEBHOOK_POLL_SECONDS": "0.2", "PAYGATE_WEBHOOK_TIMEOUT_SECONDS": "2",
            "PAYGATE_WEBHOOK_LEASE_SECONDS": "4", "PAYGATE_MOCK_MIN_LATENCY_MS": "0",
            "PAYGATE_MOCK_MAX_LATENCY_MS": "0"}


def pay(server: Server) -> str:
    """A customer's payment through the API; its id."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        created = client.post("/api/payments", headers=bearer(client, *CUSTOMER),
                              json={"amount": 2500, "currency": "EUR", "card": CARD})
        assert created.status_code == 202, created.text
        payment_id: str = created.json()["id"]
        return payment_id


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.1)
    return check()


async def no_sideways_scroll(page: Page) -> None:
    """Once the layout settles (after a resize the drawer folds away with an animation), nothing is wider
    than the window: a wide table scrolls inside its own box."""
    await page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth", timeout=5_000)


async def test_an_admin_adds_an_endpoint_and_watches_a_payments_event_fail_retry_and_arrive(
        server_factory: Callable[..., Server], page: Page) -> None:
    server = server_factory(**SETTINGS)
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    violations = await collect_csp_violations(page)
    with running(Receiver(fail_first=1)) as receiver:
        await sign_in(page, server.url, *ADMIN)
        await page.get_by_role("listitem").filter(has_text="Webhooks").click()
        await expect(page.get_by_text("No endpoints yet.", exact=False)).to_be_visible()

        await page.get_by_role("button", name="Add endpoint").first.click()  # the header one (and the empty state)
        await page.get_by_label("URL").fill(receiver.url)
        await page.get_by_label("Events").click()
        await page.get_by_role("option", name="payment.completed", exact=True).click()
        await page.keyboard.press("Escape")
        await page.get_by_label("Description (optional)").fill("the test shop")
        await page.get_by_role("button", name="Save").click()

        dialog = page.locator(".q-dialog", has_text="Signing secret of the new endpoint")
        await expect(dialog.get_by_text("it will not be shown again", exact=False)).to_be_visible()
        secret = (await dialog.get_by_text(re.compile(r"^whsec_")).inner_text()).strip()
        await dialog.get_by_role("button").filter(has_text="content_copy").click()
        await expect(page.get_by_text("Secret copied")).to_be_visible()
        assert await page.evaluate("() => navigator.clipboard.readText()") == secret
        await screenshot(page, "webhooks-secret")
        receiver.secret = secret  # the merchant's side keeps it, and verifies each delivery with it
        await dialog.get_by_role("button", name=re.compile("I have copied it")).click()
        await expect(page.get_by_text(secret)).to_have_count(0)
        await expect(page.get_by_text("payment.completed", exact=False).first).to_be_visible()

        payment_id = pay(server)

        log = page.locator(".q-table tbody tr")
        await expect(log.locator(".q-badge")).to_have_text("failed", timeout=15_000)
        await expect(log.get_by_role("cell", name="500", exact=True)).to_be_visible()
        await screenshot(page, "webhooks-failed")
        await expect(log.locator(".q-badge")).to_have_text("delivered", timeout=15_000)
        await expect(log.get_by_role("cell", name="200", exact=True)).to_be_visible()
        await expect(log.get_by_role("cell", name="2", exact=True)).to_be_visible()  # tries
        await screenshot(page, "webhooks-delivered")
        assert [p["data"]["id"] for p in receiver.verified] == [payment_id], server.log_tail()

        await log.get_by_role("button", name=re.compile("Retry")).click()  # sent again on request
        assert wait_for(lambda: len(receiver.verified) == 2), server.log_tail()
        await expect(log.get_by_role("cell", name="3", exact=True)).to_be_visible(timeout=15_000)
        await expect(log.locator(".q-badge")).to_have_text("delivered")

        await page.reload()
        await expect(log.locator(".q-badge")).to_have_text("delivered")
        await expect(page.get_by_text(secret)).to_have_count(0)
        await no_sideways_scroll(page)
        await page.set_viewport_size({"width": 390, "height": 844})
        await expect(log.locator(".q-badge")).to_have_text("delivered")
        await no_sideways_scroll(page)
        await screenshot(page, "webhooks-390")
    assert receiver.refused == []
    assert violations == []
