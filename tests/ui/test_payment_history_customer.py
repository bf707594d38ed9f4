"""Payment History's customer filter: an admin narrows the history to one customer, found by name or email;
a customer has no such filter and cannot see anyone else's payments through it."""

from nicegui import app
from nicegui.testing import User

from tests.ui.helpers import account, sign_in, the
from tests.ui.test_payment_history import rows_of_the_table


def pay(email: str, amount: int) -> str:
    payment, _ = app.state.container.payments.submit(account(email), {"amount": amount, "currency": "USD"})
    return payment.id


def second_customer() -> str:
    app.state.container.users.create(email="ada@example.com", password="password123", name="Ada Lovelace")
    return "ada@example.com"


async def test_an_admin_filters_the_history_by_customer_in_the_query(user: User):
    ada = second_customer()
    adas = [pay(ada, 700 + i) for i in range(2)]
    for i in range(12):  # a whole first page of someone else's newer payments
        pay("customer@example.com", 100 + i)
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/payments")
    await rows_of_the_table(user, 10)

    the(user, "customer-filter").set_value(account(ada).id)

    rows = await rows_of_the_table(user, 2)
    assert sorted(row["id"] for row in rows) == sorted(adas)
    assert {row["customer"] for row in rows} == {"Ada Lovelace · ada@example.com"}
    assert the(user, "page-position").text == "Page 1 · showing 1–2"


async def test_the_customer_filter_offers_each_customer_by_name_and_email_and_all_again(user: User):
    second_customer()
    pay("customer@example.com", 100)
    await sign_in(user, "admin@example.com", "admin123")
    await user.open("/payments")
    await rows_of_the_table(user, 1)
    select = the(user, "customer-filter")

    assert select.options[None] == "All customers"
    assert "Ada Lovelace · ada@example.com" in select.options.values()
    assert "Demo Customer · customer@example.com" in select.options.values()
    assert select.props.get("use-input") is True  # typed part of a name or an email narrows the choices

    select.set_value(account("ada@example.com").id)
    await user.should_see("No payments match these filters.", retries=50)
    select.set_value(None)
    await rows_of_the_table(user, 1)


async def test_a_customer_has_no_customer_filter(user: User):
    pay("customer@example.com", 100)
    await sign_in(user)
    await user.open("/payments")
    await rows_of_the_table(user, 1)

    await user.should_not_see(marker="customer-filter")


async def test_a_customers_own_choice_of_customer_cannot_widen_what_they_see(user: User):
    ada = second_customer()
    pay(ada, 700)
    mine = pay("customer@example.com", 100)

    payments, _ = app.state.container.payments.list(account(), customer_id=account(ada).id)

    assert [p.id for p in payments] == [mine]
