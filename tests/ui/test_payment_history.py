"""Payment History: its status badges, its status filter and its pages, through NiceGUI's simulated user."""

import asyncio

from nicegui import app
from nicegui.testing import User

from app.pages.widgets import STATUS_COLORS
from domain.model.statuses import PaymentStatus
from tests.ui.helpers import account, sign_in, the

DECLINED = {"number": "4000000000000002", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def pay(amount: int, card: dict | None = None) -> str:
    raw = {"amount": amount, "currency": "USD", **({"card": card} if card else {})}
    payment, _ = app.state.container.payments.submit(account(), raw)
    return payment.id


async def rows_of_the_table(user: User, count: int) -> list[dict]:
    """The table's rows once it shows `count` of them (it redraws as payments move on)."""
    await user.should_see(marker="payments-table", retries=50)
    for _ in range(50):
        rows = the(user, "payments-table").rows
        if len(rows) == count:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {count} rows, found {len(the(user, 'payments-table').rows)}")


async def test_each_status_badge_takes_its_colour_from_its_row_not_from_the_template(user: User):
    pay(1000)
    pay(2000, DECLINED)
    await sign_in(user)

    await user.open("/payments")

    rows = await rows_of_the_table(user, 2)
    assert all(row["statusColor"] == STATUS_COLORS[row["status"]] for row in rows)
    template = the(user, "payments-table").slots["body-cell-status"].template
    assert not any(status in template for status in PaymentStatus)


async def test_the_status_filter_shows_only_payments_with_that_status(user: User):
    pay(1000)
    declined = pay(2000, DECLINED)
    await sign_in(user)
    await user.open("/payments")
    await rows_of_the_table(user, 2)
    for _ in range(100):  # the app's own drain job declines it
        if app.state.container.payments.get(account(), declined).status == PaymentStatus.FAILED:
            break
        await asyncio.sleep(0.1)

    the(user, "status-filter").set_value("failed")

    rows = await rows_of_the_table(user, 1)
    assert [row["id"] for row in rows] == [declined]
    the(user, "status-filter").set_value("retrying")
    await user.should_see("No payments with this status.", retries=50)


async def test_older_and_newer_page_through_the_payments(user: User):
    ids = [pay(100 + i) for i in range(12)]
    await sign_in(user)
    await user.open("/payments")
    first_page = await rows_of_the_table(user, 10)
    assert [row["id"] for row in first_page] == ids[::-1][:10]
    await user.should_not_see(marker="page-newer")

    user.find(marker="page-older").click()

    second_page = await rows_of_the_table(user, 2)
    assert [row["id"] for row in second_page] == ids[1::-1]
    await user.should_not_see(marker="page-older")
    user.find(marker="page-newer").click()
    await rows_of_the_table(user, 10)
