"""The `page` decorator: who may open which page, and the navigation it builds, through NiceGUI's simulated user."""

import pytest
from nicegui.testing import User

from app.pages.frame import NAV, NavEntry
from domain.model.statuses import OrderStatus, PaymentStatus
from tests.ui.helpers import sign_in

SIGNED_IN_PAGES = ["/", "/shop", "/payments/new", "/payments", "/orders"]
ADMIN_PAGES = {"/admin/metrics": "System Metrics", "/admin/users": "User Management",
               "/admin/products": "Product Management", "/admin/webhooks": "Webhooks"}


@pytest.mark.parametrize("path", [*SIGNED_IN_PAGES, *ADMIN_PAGES])
async def test_an_anonymous_visitor_at_any_page_is_sent_to_sign_in(user: User, path: str):
    await user.open(path)

    await user.should_see(marker="sign-in")
    await user.should_not_see(marker="page-title")


@pytest.mark.parametrize(("path", "title"), ADMIN_PAGES.items())
async def test_a_customer_at_an_admin_page_is_told_it_is_for_administrators(user: User, path: str, title: str):
    await sign_in(user)

    await user.open(path)

    await user.should_see(f"{title} is for administrators only.")
    await user.should_see(marker="not-allowed")
    await user.should_see("Demo Customer")  # the frame, with the signed-in user


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
async def test_a_customer_opens_each_page_for_signed_in_users_in_its_frame(user: User, path: str):
    await sign_in(user)

    await user.open(path)

    title = next(entry.label for entry in NAV if entry.path == path)
    await user.should_see(title, marker="page-title")
    await user.should_not_see(marker="not-allowed")


async def test_an_admin_opens_every_page_and_the_navigation_lists_them_in_order(user: User):
    await sign_in(user, "admin@example.com", "admin123")

    for path in [*SIGNED_IN_PAGES, *ADMIN_PAGES]:
        await user.open(path)
        await user.should_not_see(marker="not-allowed")

    assert all(isinstance(entry, NavEntry) for entry in NAV)
    assert [(entry.path, entry.admin_only) for entry in NAV] == \
        [(path, False) for path in SIGNED_IN_PAGES] + [(path, True) for path in ADMIN_PAGES]
    assert [entry.label for entry in NAV if entry.admin_only] == list(ADMIN_PAGES.values())


def test_every_payment_and_order_status_has_exactly_one_colour():
    from app.pages.widgets import STATUS_COLORS, status_color

    assert set(STATUS_COLORS) == set(PaymentStatus) | set(OrderStatus)
    assert status_color("completed") == STATUS_COLORS[PaymentStatus.COMPLETED]
    assert status_color("no such status") == "grey"
