"""One look, through NiceGUI's simulated user: the palette and Quasar's defaults, the navigation's marker on the
page one is on, empty states with a step to take, and charts without an empty band above the plot.
(tests/e2e/test_one_look.py checks what Chromium draws of it.)"""

from nicegui import app
from nicegui.testing import User

from app.pages.admin_metrics import latency_options, outcomes_options, queue_options, success_options
from app.pages.frame import BRAND, NAV, current_entry
from tests.ui.helpers import sign_in


async def test_every_page_gets_the_one_palette_and_toasts_that_do_not_group(user: User):
    await sign_in(user)

    brand = app.config.quasar_config["brand"]
    assert {name: brand[name] for name in BRAND} == BRAND
    assert app.config.quasar_config["notify"] == {"group": False}  # no "2", "3" badge on a repeated toast


async def test_a_page_is_marked_in_the_navigation_as_its_own_or_as_the_one_it_lies_under(user: User):
    await sign_in(user)  # the pages are registered, the navigation filled

    def title(path: str) -> str | None:
        entry = current_entry(path)
        return entry.label if entry else None

    assert title("/") == "Dashboard"
    assert title("/payments") == "Payment History"
    assert title("/payments/new") == "New Payment"  # not Payment History, whose path it starts with
    assert title("/payments/{payment_id}") == "Payment History"
    assert title("/orders/{order_id}") == "My Orders"
    assert title("/admin/metrics") == "System Metrics"
    assert title("/login") is None
    assert [e.path for e in NAV].count("/") == 1


async def test_the_current_page_is_the_only_active_navigation_entry_and_says_so(user: User):
    await sign_in(user)
    await user.open("/payments")

    history = user.find(marker="nav-payments").elements.pop()
    others = [next(iter(user.find(marker=marker).elements)) for marker in ("nav-home", "nav-payments-new")]

    assert history.props.get("active") is True
    assert history.props.get("aria-current") == "page"
    assert all("aria-current" not in e.props and not e.props.get("active") for e in others)


async def test_a_new_customers_empty_lists_each_offer_the_step_that_fills_them(user: User):
    await sign_in(user)
    await user.should_see("No payments yet.")
    await user.should_see("Nothing has happened yet.")
    assert len(user.find(marker="empty-action").elements) == 2  # recent payments, recent activity

    await user.open("/payments")
    await user.should_see("No payments yet.")
    await user.should_see(marker="empty-action")


async def test_the_charts_leave_no_empty_band_above_the_plot():
    # ECharts' default leaves 60 px above the plot; only the legend's line and the axes' names need room there.
    tops = {name: options["grid"]["top"] for name, options in (
        ("outcomes", outcomes_options()), ("success", success_options()), ("queue", queue_options(["mock"])),
        ("latency", latency_options()))}
    assert tops == {"outcomes": 36, "success": 12, "queue": 56, "latency": 56}  # legend; nothing; both; both
    assert outcomes_options()["legend"]["top"] == 0
