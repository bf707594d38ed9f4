"""Payment History reads as a person would want it: descriptions, customers by name and email for an
admin, and where in the pages one is."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import account, sign_in, the
from tests.ui.test_payment_history import rows_of_the_table


def pay(amount: int, description: str) -> str:
    raw = {"amount": amount, "currency": "USD", "description": description}
    payment, _ = app.state.container.payments.submit(account(), raw)
    return payment.id


async def test_each_row_shows_the_payments_description(user: User):
    pay(1000, "Lunch with the team")
    await sign_in(user)

    await user.open("/payments")

    [payment_row] = await rows_of_the_table(user, 1)
    assert payment_row["description"] == "Lunch with the team"
    assert "description" in [column["name"] for column in the(user, "payments-table").columns]


async def test_an_admin_sees_the_customer_by_name_and_email_not_by_id(user: User):
    pay(1000, "Lunch")
    await sign_in(user, "admin@example.com", "admin123")

    await user.open("/payments")

    [payment_row] = await rows_of_the_table(user, 1)
    assert payment_row["customer"] == "Demo Customer · customer@example.com"
    assert "usr_" not in payment_row["customer"]


async def test_the_pages_say_where_one_is(user: User):
    for i in range(12):
        pay(100 + i, f"Item {i}")
    await sign_in(user)
    await user.open("/payments")
    await rows_of_the_table(user, 10)
    assert the(user, "page-position").text == "Page 1 · showing 1–10"

    user.find(marker="page-older").click()

    await rows_of_the_table(user, 2)
    await user.should_see("Page 2 · showing 11–12")
