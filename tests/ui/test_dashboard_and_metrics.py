"""The dashboard and System Metrics, through NiceGUI's simulated user."""

import asyncio

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import sign_in


def customer():
    return next(u for u in app.state.container.users.list() if u.email == "customer@example.com")


def pay(amount: int, number: str | None = None) -> str:
    raw = {"amount": amount, "currency": "USD"}
    if number:
        raw["card"] = {"number": number, "expMonth": 12, "expYear": 2030, "cvc": "123"}
    payment, _ = app.state.container.payments.submit(customer(), raw)
    return payment.id


async def test_a_new_customer_sees_empty_states_instead_of_blank_lists(user: User):
    await sign_in(user)

    await user.should_see("No payments yet.")
    await user.should_see("Nothing has happened yet.")


async def test_the_dashboard_counts_payments_and_follows_them_live(user: User):
    await sign_in(user)
    await user.should_see("No payments yet.")

    pay(1250, "4242424242424242")  # processed by the app's own drain job, as in production

    await user.should_see(marker="dash-status", retries=60)
    await user.should_see("completed today", retries=5)
    await user.should_see("$12.50", retries=60)  # today's completed volume, once the payment completes
    await user.should_see("Payment completed", retries=60)


async def test_a_customer_sees_only_their_own_payments_and_an_admin_sees_everyone(user: User):
    pay(777)
    await sign_in(user, "admin@example.com", "admin123")

    await user.should_see("$7.77", retries=60)
    await user.should_see("You see every customer's payments.")


async def test_the_metrics_page_draws_four_charts_and_lists_recent_errors(user: User):
    pay(500, "4000000000000002")
    await sign_in(user, "admin@example.com", "admin123")

    await user.open("/admin/metrics")

    for chart in ("chart-outcomes", "chart-success", "chart-queue", "chart-latency"):
        await user.should_see(marker=chart)
    await user.should_see(marker="recent-errors")
    errors = next(iter(user.find(marker="recent-errors").elements))
    for _ in range(60):  # the page refreshes itself every 2 s
        if errors.rows:
            break
        await asyncio.sleep(0.1)
    assert [r["code"] for r in errors.rows] == ["card_declined"]
