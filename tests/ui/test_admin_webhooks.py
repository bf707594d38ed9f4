"""Webhooks page: endpoints added through the dialog (the secret shown once), enabled and disabled, and
the delivery log of a real payment's events, live, with Retry; customers may not open it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from nicegui import app
from nicegui.testing import User

from app.bootstrap import Container
from app.pages.admin_webhooks import PAGE_SIZE
from domain.model.webhooks import SendResult, WebhookEndpoint
from tests.ui.helpers import account, sign_in, the
from tests.unit.test_webhooks import FakeResolver, ScriptedSender

URL = "https://shop.example.com/hooks"
ADMIN = ("admin@example.com", "admin123")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the app starts: a failed try is tried once more a moment later, then it is dead."""
    monkeypatch.setenv("PAYGATE_WEBHOOK_RETRY_SCHEDULE", "0.2")


def container() -> Container:
    c: Container = app.state.container
    c.webhooks.resolver = FakeResolver({"shop.example.com": ["93.184.216.34"]})  # no network in the tests
    return c


def endpoint(events: list[str] | None = None) -> WebhookEndpoint:
    return container().webhooks.create({"url": URL, "events": events or ["payment.completed"]})


def answer_with(*results: SendResult) -> ScriptedSender:
    """The app's webhook sender answers with these, in turn (the last one for ever); nothing leaves the test."""
    sender = ScriptedSender(*results)
    container().webhook_dispatcher.sender = sender
    return sender


async def pay() -> str:
    """A customer's payment, completed by the processor; its deliveries are made with its events and sent."""
    c = container()
    payment, _ = c.payments.submit(account(), {"amount": 1500, "currency": "USD"})
    await c.processor.drain()
    await c.webhook_dispatcher.run_until_idle()
    return payment.id


async def rows_until(user: User, check: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """The delivery log's rows once `check` holds for them (the log redraws as deliveries move on)."""
    rows: list[dict[str, Any]] = []
    for _ in range(100):
        try:
            rows = the(user, "deliveries-table").rows
        except AssertionError:  # no table yet: the log is empty
            rows = []
        if check(rows):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"the delivery log never got there; it shows {rows}")


async def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(user: User) -> None:
    container()
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")
    await user.should_see(marker="endpoints-empty")

    user.find(marker="add-endpoint").click()
    user.find(marker="endpoint-url").type(URL)
    user.find(marker="endpoint-description").type("the shop")
    user.find(marker="save-endpoint").click()

    await user.should_see(marker="secret-dialog", retries=30)
    [created] = container().webhooks.list()
    assert the(user, "secret-value").text == created.secret and created.secret.startswith("whsec_")
    assert (created.url, created.event_types, created.description) == (URL, ("*",), "the shop")
    await user.should_see("it will not be shown again")
    await user.should_see(marker=f"endpoint-{created.id}")
    user.find(marker="copy-secret").click()
    await user.should_see("Secret copied")
    user.find(marker="secret-done").click()
    await user.should_not_see(marker="secret-dialog", retries=20)
    await user.should_not_see(created.secret)

    await user.open("/admin/webhooks")

    await user.should_see(marker=f"endpoint-{created.id}")
    await user.should_not_see(created.secret)
    await user.should_not_see(marker="secret-value")


async def test_a_bad_url_is_shown_beside_its_field_and_adds_nothing(user: User) -> None:
    container()
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")

    user.find(marker="add-endpoint").click()
    user.find(marker="endpoint-url").type("ftp://shop.example.com/hooks")
    user.find(marker="save-endpoint").click()

    await user.should_see("must use http or https", retries=30)
    assert the(user, "endpoint-url").error == "URL must use http or https."  # a sentence, named after the field
    await user.should_not_see(marker="secret-dialog")
    assert container().webhooks.list() == []


async def test_choosing_all_events_drops_the_others_and_a_type_drops_all(user: User) -> None:
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")
    user.find(marker="add-endpoint").click()
    events = the(user, "endpoint-events")

    events.value = ["*", "payment.completed"]
    assert events.value == ["payment.completed"]
    events.value = ["payment.completed", "*"]
    assert events.value == ["*"]


async def test_the_switch_disables_and_enables_the_endpoint(user: User) -> None:
    created = endpoint()
    webhooks = container().webhooks
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")
    await user.should_see(marker=f"toggle-{created.id}")

    user.find(marker=f"toggle-{created.id}").click()

    await user.should_see("Disabled: disabled by an admin", retries=30)
    assert webhooks.get(created.id).status == "disabled"
    assert the(user, f"endpoint-status-{created.id}").text == "disabled"
    user.find(marker=f"toggle-{created.id}").click()
    await user.should_not_see(marker=f"disabled-reason-{created.id}", retries=30)
    assert webhooks.get(created.id).status == "enabled"
    assert the(user, f"endpoint-status-{created.id}").text == "enabled"


async def test_a_payments_event_appears_in_the_log_and_arrives_as_delivered(user: User) -> None:
    created = endpoint(["payment.created", "payment.completed"])
    answer_with(SendResult(status_code=204))
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")
    await user.should_see(marker="deliveries-empty")

    await pay()

    rows = await rows_until(user, lambda rows: len(rows) == 2 and all(r["status"] == "delivered" for r in rows))
    assert [r["eventType"] for r in rows] == ["payment.completed", "payment.created"]
    assert all((r["attempts"], r["lastStatusCode"], r["statusColor"]) == (1, 204, "positive") for r in rows)
    assert all(r["deliveredAt"] and not r["nextAttemptAt"] for r in rows)
    assert the(user, "log-endpoint").text == created.url


async def test_the_log_filters_by_status_and_pages_older_and_newer(user: User) -> None:
    endpoint(["payment.created"])
    answer_with(SendResult(status_code=200))
    c = container()
    for n in range(PAGE_SIZE + 1):
        c.payments.submit(account(), {"amount": 100 + n, "currency": "USD"})
    await c.webhook_dispatcher.run_until_idle()
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")
    await rows_until(user, lambda rows: len(rows) == PAGE_SIZE)

    user.find(marker="deliveries-older").click()
    await rows_until(user, lambda rows: len(rows) == 1)
    user.find(marker="deliveries-newer").click()
    await rows_until(user, lambda rows: len(rows) == PAGE_SIZE)
    the(user, "delivery-status-filter").set_value("dead")
    await user.should_see("No deliveries with this status.", retries=30)
    the(user, "delivery-status-filter").set_value("delivered")
    rows = await rows_until(user, lambda rows: len(rows) == PAGE_SIZE)
    assert {r["status"] for r in rows} == {"delivered"}


async def test_retry_sends_a_dead_delivery_again_and_it_arrives(user: User) -> None:
    endpoint()
    sender = answer_with(SendResult(status_code=500), SendResult(status_code=500), SendResult(status_code=200))
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")
    await pay()

    [dead] = await rows_until(user, lambda rows: [r["status"] for r in rows] == ["dead"])
    assert (dead["attempts"], dead["lastStatusCode"], dead["lastError"], dead["statusColor"]) == \
        (2, 500, "HTTP 500", "negative")
    user.find(marker="deliveries-table").trigger("retry", dead["id"])

    [delivered] = await rows_until(user, lambda rows: [r["status"] for r in rows] == ["delivered"])
    assert (delivered["id"], delivered["attempts"], delivered["lastError"]) == (dead["id"], 3, "")
    assert len(sender.sent) == 3


async def test_retry_on_a_disabled_endpoint_says_why_inline_and_sends_nothing(user: User) -> None:
    created = endpoint()
    sender = answer_with(SendResult(status_code=500))
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")
    await pay()
    [failed] = await rows_until(user, lambda rows: len(rows) == 1 and rows[0]["status"] in ("failed", "dead"))
    container().webhooks.set_enabled(created.id, False)
    await user.should_see("Disabled: disabled by an admin", retries=30)
    sent = len(sender.sent)

    user.find(marker="deliveries-table").trigger("retry", failed["id"])

    await user.should_see("the endpoint is disabled; enable it before sending its deliveries again", retries=30)
    assert the(user, "delivery-error").text.startswith("the endpoint is disabled")
    assert len(sender.sent) == sent


async def test_rotating_shows_the_new_secret_once_after_a_confirmation(user: User) -> None:
    created = endpoint()
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")

    user.find(marker=f"rotate-{created.id}").click()
    await user.should_see(marker="confirm-dialog", retries=20)
    user.find(marker="confirm-yes").click()

    await user.should_see(marker="secret-dialog", retries=30)
    rotated = container().webhooks.get(created.id).secret
    assert rotated != created.secret and the(user, "secret-value").text == rotated
    user.find(marker="secret-done").click()
    await user.should_not_see(rotated, retries=20)


async def test_deleting_asks_first_then_removes_the_endpoint_and_its_log(user: User) -> None:
    created = endpoint()
    await sign_in(user, *ADMIN)
    await user.open("/admin/webhooks")

    user.find(marker=f"delete-{created.id}").click()
    await user.should_see(marker="confirm-dialog", retries=20)
    user.find(marker="confirm-yes").click()

    await user.should_see(marker="endpoints-empty", retries=30)
    await user.should_see(marker="log-empty")
    assert container().webhooks.list() == []


async def test_a_customer_cannot_open_the_webhooks_page_nor_sees_it_in_the_navigation(user: User) -> None:
    endpoint()
    await sign_in(user)
    await user.should_not_see(marker="nav-admin-webhooks")

    await user.open("/admin/webhooks")

    await user.should_see("Webhooks is for administrators only.")
    await user.should_not_see(marker="add-endpoint")
    await user.should_not_see(URL)


async def test_an_admin_finds_the_page_in_the_navigation(user: User) -> None:
    await sign_in(user, *ADMIN)

    user.find(marker="nav-admin-webhooks").click()

    await user.should_see(marker="add-endpoint", retries=30)
