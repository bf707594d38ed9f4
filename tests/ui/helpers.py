"""Steps shared by the UI tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nicegui import app
from nicegui.testing import User

from domain.model.users import User as Account


async def sign_in(user: User, email: str = "customer@example.com", password: str = "password123") -> None:
    await user.open("/login")
    user.find(marker="email").type(email)
    user.find(marker="password").type(password)
    user.find(marker="sign-in").click()
    await user.should_see(marker="user-name", retries=50)


def the(user: User, marker: str) -> Any:
    """The one element with this marker (an assertion error when there are none or several)."""
    elements = user.find(marker=marker).elements
    assert len(elements) == 1, f"expected one element marked {marker!r}, found {len(elements)}"
    return next(iter(elements))


def account(email: str = "customer@example.com") -> Account:
    return next(u for u in app.state.container.users.list() if u.email == email)


def fill_cart(*items: tuple[str, int], email: str = "customer@example.com") -> None:
    """Put (product id, quantity) lines in the cart, as the shop or the API would."""
    c = app.state.container
    for product_id, quantity in items:
        c.cart.set_quantity(account(email), product_id, quantity)


def enter_card(user: User, number: str = "4242424242424242") -> None:
    """Type a card into the New Payment form (expiry 12/2030, CVC 123)."""
    user.find(marker="card-number").type(number)
    user.find(marker="card-exp-month").type("12")
    user.find(marker="card-exp-year").type("2030")
    user.find(marker="card-cvc").type("123")


async def let_events_arrive(seconds: float = 0.5) -> None:
    """Let the live events published so far reach the open page (the outbox is tailed every 0.1 s)
    and what they started run, so that a test's next change is the only one still on its way."""
    await asyncio.sleep(seconds)


def by_hand() -> Any:
    """The app's container, with nothing that wakes its drains: they run when the test awaits them
    (with PAYGATE_DRAIN_INTERVAL_SECONDS set high, see `drains_wait` in the tests that use it)."""
    container = app.state.container
    container.wake_drain.clear()
    return container


async def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait for the page to show what `check` looks for (live events arrive within about 0.1 s)."""
    for _ in range(int(seconds / 0.05)):
        try:
            if check():
                return
        except AssertionError:  # not on the page yet (a hidden element is not found)
            pass
        await asyncio.sleep(0.05)
    assert check()
