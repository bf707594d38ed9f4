"""Payment History reads as a person would want it: descriptions, customers by name and email for an
admin, and where in the pages one is."""

from datetime import UTC, datetime, timedelta

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


async def test_the_amount_range_is_filtered_in_the_query_not_only_over_the_loaded_page(user: User):
    ids = {amount: pay(amount, f"Pay {amount}") for amount in (500, 1500, 2500)}
    for i in range(12):  # a first page of payments outside the range
        pay(9900 + i, "Large")
    await sign_in(user)
    await user.open("/payments")
    await rows_of_the_table(user, 10)

    user.find(marker="min-amount").type("10.00")
    user.find(marker="max-amount").type("30")
    user.find(marker="apply-filters").click()

    rows = await rows_of_the_table(user, 2)
    assert {row["id"] for row in rows} == {ids[1500], ids[2500]}


async def test_the_date_range_keeps_the_days_given_inclusive(user: User):
    pay(1000, "Today")
    await sign_in(user)
    await user.open("/payments")
    await rows_of_the_table(user, 1)
    today = datetime.now(UTC).date()

    user.find(marker="created-from").type(str(today + timedelta(days=1)))
    user.find(marker="apply-filters").click()
    await user.should_see("No payments match these filters.", retries=50)
    the(user, "created-from").set_value(str(today - timedelta(days=1)))
    user.find(marker="created-to").type(str(today))
    user.find(marker="apply-filters").click()

    await rows_of_the_table(user, 1)


async def test_a_bad_filter_shows_an_inline_message_and_keeps_the_table(user: User):
    pay(1000, "Lunch")
    await sign_in(user)
    await user.open("/payments")
    await rows_of_the_table(user, 1)

    user.find(marker="min-amount").type("20")
    user.find(marker="max-amount").type("abc")
    user.find(marker="apply-filters").click()

    await user.should_see("Max amount: must be a decimal number")
    the(user, "max-amount").set_value("5")
    user.find(marker="apply-filters").click()
    await user.should_see("Max amount: must not be below the minimum amount")
    await rows_of_the_table(user, 1)


def test_amounts_in_the_range_filter_are_read_in_the_chosen_currency_and_keep_only_its_payments() -> None:
    from app.pages.payments import read_range
    from domain.model.errors import ValidationFailed

    yen = read_range(None, None, "1000", None, "JPY")
    dollars = read_range(None, None, "10.00", "20", "USD")

    assert (yen.min_amount, yen.currency) == (1000, "JPY")
    assert (dollars.min_amount, dollars.max_amount, dollars.currency) == (1000, 2000, "USD")
    assert read_range("2026-01-01", None, None, None, "USD").currency is None  # no amounts: every currency
    try:
        read_range(None, None, "10.5", None, "JPY")  # yen have no minor unit
    except ValidationFailed as refused:
        assert refused.details[0].field == "Min amount"
    else:
        raise AssertionError("10.5 yen was accepted")
