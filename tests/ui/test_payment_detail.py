"""The payment detail page: the payment whole and live, who may open it, and an admin's refund through its dialog,
with NiceGUI's simulated user. The drains run when a test runs them, so each step is seen in its turn."""

import asyncio

import pytest
from nicegui import app
from nicegui.testing import User

from app.pages.widgets import order_url, payment_url
from domain.model.statuses import PaymentStatus, RefundStatus
from tests.ui.helpers import account, by_hand, fill_cart, sign_in, the, until

CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
DECLINED = {**CARD, "number": "4000000000000002"}
REFUSES_REFUNDS = {**CARD, "number": "4000000000000283"}
ADMIN = ("admin@example.com", "admin123")


@pytest.fixture(autouse=True)
def drains_wait_for_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGATE_DRAIN_INTERVAL_SECONDS", "3600")  # read as the app starts


async def paid(card: dict | None = None, amount: int = 4000, email: str = "customer@example.com",
               settle: bool = True) -> str:
    """A payment of `email`'s, completed (or failed) by a drain unless `settle` is False; its id."""
    c = by_hand()
    payment, _ = c.payments.submit(account(email), {"amount": amount, "currency": "USD", "description": "Blue teapot",
                                                    "card": card or CARD})
    if settle:
        await c.processor.drain()  # the drain the app runs as it starts may have it: then that one settles it
        await until(lambda: c.payments.get(account(email), payment.id).status.terminal)
    return payment.id


def text(user: User, marker: str) -> str:
    return str(the(user, marker).text)


def texts(user: User, marker: str) -> list[str]:
    return [str(e.text) for e in sorted(user.find(marker=marker).elements, key=lambda e: e.id)]


async def refund_through_the_dialog(user: User, amount: str) -> None:
    user.find(marker="refund-button").click()
    user.find(marker="refund-amount").clear().type(amount)
    user.find(marker="refund-review").click()


async def test_the_page_shows_the_amount_card_status_timeline_and_attempts(user: User):
    payment_id = await paid()
    await sign_in(user)

    await user.open(payment_url(payment_id))

    assert text(user, "payment-amount") == "$40.00"
    assert text(user, "payment-status-badge") == "completed"
    assert text(user, "fact-card") == "visa •••• 4242"
    assert text(user, "payment-description") == "Blue teapot"
    assert text(user, "fact-provider") == "mock"
    assert text(user, "refunded-amount") == "$0.00 of $40.00"
    assert texts(user, "timeline-title") == ["Payment created", "Processing", "Payment completed"]
    assert texts(user, "timeline-detail")[:2] == ["$40.00 submitted", "At mock"]
    [charge] = the(user, "attempts-table").rows
    assert [charge[key] for key in ("number", "kind", "provider", "outcome")] == [1, "charge", "mock", "approved"]
    await user.should_not_see(marker="fact-customer")  # a customer sees no customer line: it is them


async def test_the_page_follows_the_payment_live(user: User):
    await sign_in(user)  # first: the drain the app runs as it starts has found nothing to do by then
    payment_id = await paid(settle=False)
    await user.open(payment_url(payment_id))
    assert text(user, "payment-status-badge") == "pending"
    await user.should_see(marker="no-attempts")

    await app.state.container.processor.drain()

    await until(lambda: text(user, "payment-status-badge") == "completed")
    await user.should_see(marker="attempts-table")
    assert "Payment completed" in texts(user, "timeline-title")


async def test_a_customer_cannot_open_another_customers_payment(user: User):
    app.state.container.users.create(email="other@example.com", password="password456", name="Other Customer")
    theirs = await paid(email="other@example.com")
    await sign_in(user)

    await user.open(payment_url(theirs))

    await user.should_see(marker="payment-not-found")
    await user.should_not_see(marker="payment-amount")
    await user.should_not_see("$40.00")
    await user.open("/payments/pay_does_not_exist")
    await user.should_see(marker="payment-not-found")


async def test_an_admin_sees_who_paid(user: User):
    payment_id = await paid()
    await sign_in(user, *ADMIN)

    await user.open(payment_url(payment_id))

    assert text(user, "fact-customer") == "Demo Customer · customer@example.com"


async def test_an_admin_demoted_meanwhile_is_taken_off_a_customers_payment_and_cannot_refund_it(user: User):
    payment_id = await paid()
    await sign_in(user, *ADMIN)
    await user.open(payment_url(payment_id))
    await refund_through_the_dialog(user, "10.00")
    await user.should_see(marker="refund-question")
    c = app.state.container
    second = c.users.create(email="second-admin@example.com", password="password123", name="Second", role="admin")

    c.users.update(second, account(ADMIN[0]).id, role="customer")  # no await before the click: not heard of yet
    user.find(marker="refund-confirm").click()

    await user.should_not_see(marker="payment-summary", retries=50)
    assert c.refunds.list(second, payment_id) == []


async def test_an_admin_refunds_part_of_a_payment_and_sees_it_succeed_live(user: User):
    payment_id = await paid()
    await sign_in(user, *ADMIN)
    await user.open(payment_url(payment_id))

    user.find(marker="refund-button").click()
    assert the(user, "refund-amount").value == "40.00"  # what is left, in major units
    await user.should_not_see(marker="refund-restock")  # no order, no stock to return
    user.find(marker="refund-amount").clear().type("12.50")
    the(user, "refund-reason").set_value("duplicate")
    user.find(marker="refund-review").click()
    await user.should_see(marker="refund-question")
    assert text(user, "refund-question") == "Refund $12.50 of $40.00 to visa •••• 4242?"
    user.find(marker="refund-confirm").click()

    await user.should_see(marker="refund-row")
    assert texts(user, "refund-status") == ["pending"]
    assert texts(user, "refund-amount-text") == ["$12.50"]
    await app.state.container.refund_processor.drain()
    await until(lambda: texts(user, "refund-status") == ["succeeded"])
    assert the(user, "refund-status").props["color"] == "positive"
    await until(lambda: text(user, "refunded-amount") == "$12.50 of $40.00")
    assert text(user, "left-to-refund") == "$27.50 left to refund"
    assert "Refund succeeded" in texts(user, "timeline-title")
    assert [r.reason for r in app.state.container.refunds.list(account(ADMIN[0]), payment_id)] == ["duplicate"]


async def test_confirming_twice_refunds_once(user: User):
    payment_id = await paid()
    await sign_in(user, *ADMIN)
    await user.open(payment_url(payment_id))
    await refund_through_the_dialog(user, "10.00")
    await user.should_see(marker="refund-question")

    user.find(marker="refund-confirm").click()
    user.find(marker="refund-confirm").click()  # before the first click's refund is made

    await user.should_see(marker="refund-row")
    await asyncio.sleep(0.3)
    assert [r.amount for r in app.state.container.refunds.list(account(ADMIN[0]), payment_id)] == [1000]


async def test_an_amount_above_what_is_left_shows_beside_the_field(user: User):
    payment_id = await paid()
    await sign_in(user, *ADMIN)
    await user.open(payment_url(payment_id))

    await refund_through_the_dialog(user, "50.00")

    await until(lambda: the(user, "refund-amount").error == "At most $40.00 is left to refund.")
    await user.should_not_see(marker="refund-question")
    assert app.state.container.refunds.list(account(ADMIN[0]), payment_id) == []


async def test_a_refund_made_elsewhere_meanwhile_is_refused_beside_the_field(user: User):
    payment_id = await paid()
    await sign_in(user, *ADMIN)
    await user.open(payment_url(payment_id))
    await refund_through_the_dialog(user, "30.00")
    await user.should_see(marker="refund-question")

    app.state.container.refunds.create(account(ADMIN[0]), payment_id, {"amount": 2000})  # another admin, say
    user.find(marker="refund-confirm").click()

    await until(lambda: the(user, "refund-amount").error == "At most $20.00 is left to refund.")
    assert [r.amount for r in app.state.container.refunds.list(account(ADMIN[0]), payment_id)] == [2000]


async def test_a_refund_the_issuer_refuses_turns_failed_with_its_reason(user: User):
    payment_id = await paid(REFUSES_REFUNDS)
    await sign_in(user, *ADMIN)
    await user.open(payment_url(payment_id))
    await refund_through_the_dialog(user, "40.00")
    await user.should_see(marker="refund-question")
    user.find(marker="refund-confirm").click()
    await user.should_see(marker="refund-row")

    await app.state.container.refund_processor.drain()

    await until(lambda: texts(user, "refund-status") == [RefundStatus.FAILED])
    assert text(user, "refund-failure") == "The card's issuer refused the refund. (refund_failed)"
    assert text(user, "refunded-amount") == "$0.00 of $40.00"
    await user.should_see(marker="refund-button")  # a failed refund gives its amount back


async def test_an_order_refunded_in_full_with_stock_returned_puts_its_stock_back(user: User):
    await sign_in(user, *ADMIN)
    c = by_hand()
    stock = c.catalog.get("prod_009").stock
    fill_cart(("prod_009", 2))
    order, _ = c.orders.place(account(), {"card": CARD})
    assert order.payment_id is not None
    await c.processor.drain()
    await until(lambda: c.orders.get(account(), order.id).status == "paid")  # the app's delivery job
    await user.open(payment_url(order.payment_id))
    user.find(marker="refund-button").click()
    await user.should_see(marker="refund-restock")

    user.find(marker="refund-restock").click()
    user.find(marker="refund-review").click()
    await user.should_see(marker="refund-question")
    assert text(user, "refund-terms").endswith("stock goes back to inventory once refunded in full")
    user.find(marker="refund-confirm").click()
    await user.should_see(marker="refund-row")
    await c.refund_processor.drain()

    await until(lambda: text(user, "refunded-amount") == "$69.98 of $69.98")
    assert c.catalog.get("prod_009").stock == stock
    assert c.orders.get(account(), order.id).status == "refunded"


async def test_the_payment_of_an_order_links_to_the_order_page(user: User):
    await sign_in(user)
    c = by_hand()
    fill_cart(("prod_009", 1))
    order, _ = c.orders.place(account(), {"card": CARD})
    assert order.payment_id is not None
    await user.open(payment_url(order.payment_id))

    link = the(user, "fact-order")
    assert link.text == order.id
    assert link.props["href"] == order_url(order.id)


async def test_the_refund_button_is_for_admins_on_completed_payments_with_something_left(user: User):
    await sign_in(user)  # first: the drain the app runs as it starts has found nothing to do by then
    completed, declined = await paid(), await paid(DECLINED)
    pending = await paid(settle=False)
    assert app.state.container.payments.get(account(), declined).status == PaymentStatus.FAILED
    await user.open(payment_url(completed))
    await user.should_see(marker="payment-amount")
    await user.should_not_see(marker="refund-button")

    user.find(marker="sign-out").click()
    await user.should_see(marker="email")
    await sign_in(user, *ADMIN)
    for payment_id in (declined, pending):
        await user.open(payment_url(payment_id))
        await user.should_see(marker="payment-amount")
        await user.should_not_see(marker="refund-button")
    app.state.container.refunds.create(account(ADMIN[0]), completed, {})  # all of it
    await user.open(payment_url(completed))
    await user.should_see(marker="refund-row")
    await user.should_not_see(marker="refund-button")


async def test_a_payment_history_row_opens_its_page(user: User):
    payment_id = await paid()
    await sign_in(user)
    await user.open("/payments")
    await user.should_see(marker="payments-table")
    [row] = the(user, "payments-table").rows
    assert row["href"] == f"/payments/{payment_id}"

    user.find(marker="payments-table").trigger("rowClick", [{}, {"id": payment_id}, 0])

    await user.should_see(marker="payment-amount")
    assert text(user, "fact-id") == payment_id
