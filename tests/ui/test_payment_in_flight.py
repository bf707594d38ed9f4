"""New Payment while payments are on their way: the retry message says the gateway retries by itself,
and a refresh keeps showing the caller's payments still in flight."""

import asyncio
from datetime import UTC, datetime, timedelta

from nicegui import app
from nicegui.testing import User

from app.pages.new_payment import newer, retry_text
from tests.ui.helpers import account, enter_card, sign_in, the

ALWAYS_BUSY = "4000000000000119"  # the mock answers processing_error ("…; try again.") every time
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def pay(number: str = ALWAYS_BUSY) -> str:
    raw = {"amount": 1500, "currency": "USD", "description": "Queued",
           "card": {"number": number, "expMonth": 12, "expYear": 2030, "cvc": "123"}}
    payment, _ = app.state.container.payments.submit(account(), raw)
    return payment.id


def test_the_retry_message_counts_down_to_the_next_attempt_of_the_policys_most():
    data = {"retryCount": 1, "nextAttemptAt": "2026-01-01T00:00:02.000Z"}

    text = retry_text(data, 4, T0 + timedelta(milliseconds=100), waiting_for_provider=False)

    assert text == "Card processor busy; retrying automatically in 2 s (attempt 2 of 4)"


def test_a_payment_waiting_on_an_open_circuit_is_sent_when_the_processor_recovers():
    data = {"retryCount": 0, "nextAttemptAt": "2026-01-01T00:00:30.000Z"}

    text = retry_text(data, 4, T0, waiting_for_provider=True)

    assert text == "The card processor is not answering; sending as soon as it recovers"


async def test_a_retrying_payment_says_it_is_retried_automatically_never_try_again(user: User):
    await sign_in(user)
    await user.open("/payments/new")
    user.find(marker="amount").type("15.00")
    enter_card(user, ALWAYS_BUSY)

    user.find(marker="pay-button").click()

    await user.should_see("Card processor busy; retrying automatically", retries=50)
    await user.should_see("of 4)")
    assert "try again" not in the(user, "payment-detail").text.lower()


async def test_refreshing_new_payment_keeps_showing_the_callers_payments_in_flight(user: User):
    await sign_in(user)
    payment_id = pay()

    await user.open("/payments/new")

    await user.should_see(marker="payment-status", retries=30)
    await user.should_see(payment_id)
    assert the(user, "payment-status-badge").text in {"pending", "processing", "retrying"}


async def test_payments_already_done_are_not_shown_again_after_a_refresh(user: User):
    await sign_in(user)
    done = app.state.container.payments.submit(account(), {"amount": 700, "currency": "USD"})[0].id
    for _ in range(50):
        if app.state.container.payments.get(account(), done).status == "completed":
            break
        await asyncio.sleep(0.1)

    await user.open("/payments/new")

    await user.should_not_see(done)
    await user.should_not_see(marker="payment-status")


def test_a_late_event_never_moves_a_shown_payment_back():
    completed = {"status": "completed", "updatedAt": "2026-01-01T00:00:01.000Z"}
    processing = {"status": "processing", "updatedAt": "2026-01-01T00:00:01.000Z"}  # the same millisecond
    retrying = {"status": "retrying", "updatedAt": "2026-01-01T00:00:00.500Z"}

    assert newer(processing, completed)
    assert not newer(completed, processing)
    assert not newer(processing, retrying)
