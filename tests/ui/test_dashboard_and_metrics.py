"""The dashboard and System Metrics, through NiceGUI's simulated user."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from nicegui import app
from nicegui.testing import User

from domain.model.providers import Attempt, CallKind, Outcome
from storage.circuits import SharedCircuit
from tests.ui.helpers import sign_in, the


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


async def until(condition: Callable[[], bool], tries: int = 60) -> None:
    """Wait for the open page's own refresh (every 2 s) to make `condition` true."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.1)
    assert condition()


def circuit_of(name: str) -> SharedCircuit:
    route = next(r for r in app.state.container.routes if r.name == name)
    assert isinstance(route.circuit, SharedCircuit)
    return route.circuit


def add_attempts(*attempts: Attempt) -> None:
    with app.state.container.uow() as uow:
        for attempt in attempts:
            uow.attempts.add(attempt)
        uow.commit()


def finished(payment_id: str, provider: str, seconds_ago: float, latency_ms: int | None,
             outcome: Outcome | None = Outcome.APPROVED) -> Attempt:
    started = app.state.container.clock.now() - timedelta(seconds=seconds_ago)
    return Attempt(payment_id, 1, CallKind.CHARGE, provider, started, latency_ms, outcome)


def latency_points(user: User) -> dict[str, list[int]]:
    chart = the(user, "chart-latency")
    return {series["name"]: [point[1] for point in series["data"]] for series in chart.options["series"]}


async def test_the_providers_card_shows_the_mock_provider_as_primary_with_its_circuit_closed(user: User):
    await sign_in(user, "admin@example.com", "admin123")

    await user.open("/admin/metrics")

    await user.should_see(marker="providers")
    assert the(user, "provider-role-mock").text == "primary"
    circuit = the(user, "provider-circuit-mock")
    assert (circuit.text, circuit.props["color"]) == ("closed", "positive")
    capacity = app.state.container.routes[0].limiter.config.capacity
    assert the(user, "provider-tokens-mock").text.endswith(f"/ {capacity}")
    assert the(user, "provider-error-mock").text == "none"


async def test_a_circuit_opened_by_any_process_shows_open_in_red_with_its_last_error(user: User):
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/admin/metrics")
    circuit = the(user, "provider-circuit-mock")
    assert circuit.text == "closed"

    # As another process's breaker leaves it: the shared row is all this page reads.
    storage = circuit_of("mock").storage
    at = datetime.now(UTC)
    storage.note_error("provider_unavailable", "The processor did not answer", at)
    storage.state = "open"
    storage.opened_at = at

    await until(lambda: circuit.text == "open")
    assert circuit.props["color"] == "negative"
    error = the(user, "provider-error-mock").text
    assert "provider_unavailable: The processor did not answer" in error
    assert at.strftime("%Y-%m-%d %H:%M:%S") in error


async def test_the_latency_chart_draws_the_finished_attempt_rows_of_every_process_per_provider(user: User):
    add_attempts(finished("pay_a", "mock", 30, 120),
                 finished("pay_b", "mock", 20, 340, Outcome.DECLINED),
                 finished("pay_c", "mock", 10, None, outcome=None),  # still in flight: no latency yet
                 finished("pay_d", "mock", 20 * 60, 999),  # older than the chart's ten minutes
                 finished("pay_e", "stripe", 15, 560))  # a provider only another process routes to
    await sign_in(user, "admin@example.com", "admin123")

    await user.open("/admin/metrics")

    assert latency_points(user) == {"mock": [120, 340], "stripe": [560]}
    add_attempts(finished("pay_f", "mock", 1, 75))
    await until(lambda: latency_points(user)["mock"] == [120, 340, 75])
