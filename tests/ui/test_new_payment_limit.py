"""New Payment under the per-customer limit: over it, the page says so in a sentence and stores nothing."""

from nicegui import app
from nicegui.testing import User

from domain.clock import FakeClock
from domain.model.customer_limits import CustomerLimitPolicy, InMemoryCustomerLimiter
from tests.ui.helpers import account, enter_card, sign_in, the


async def pay(user: User, amount: str) -> None:
    user.find(marker="amount").type(amount)
    enter_card(user)
    user.find(marker="pay-button").click()


async def test_a_payment_over_the_limit_is_refused_with_a_sentence_and_nothing_is_stored(user: User):
    clock = FakeClock()
    app.state.container.customer_limits = InMemoryCustomerLimiter(CustomerLimitPolicy(0.1, 1), clock)
    await sign_in(user)
    await user.open("/payments/new")
    await pay(user, "10.00")
    await user.should_see(marker="payment-status", retries=30)

    await pay(user, "11.00")

    sentence = "You are submitting payments and orders too quickly; wait 10 seconds and try again."
    await user.should_see(sentence, retries=30)
    assert the(user, "form-error").text == sentence
    page, _ = app.state.container.payments.list(account())
    assert [p.amount for p in page] == [1000]
    # Once a token is back, the same form pays.
    clock.advance(10)
    user.find(marker="pay-button").click()
    await user.should_see("$11.00", retries=30)
    page, _ = app.state.container.payments.list(account())
    assert sorted(p.amount for p in page) == [1000, 1100]
