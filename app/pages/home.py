"""The dashboard: payments with live badges, counts by status, today's volume, recent activity."""

from __future__ import annotations

from nicegui import ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import frame
from app.pages.guard import require_user
from app.pages.widgets import STATUS_COLORS, money, on_events, status_badge
from domain.clock import iso
from domain.model.events import Event
from domain.model.users import User

STATUSES = ("pending", "processing", "retrying", "completed", "failed")
EVENT_TEXT = {
    "payment.created": "Payment created", "payment.processing": "Processing", "payment.retry": "Retry scheduled",
    "payment.completed": "Payment completed", "payment.failed": "Payment failed", "order.created": "Order placed",
    "order.paid": "Order paid", "order.payment_failed": "Order payment failed",
}


def register(container: Container) -> None:
    @ui.page("/")
    def dashboard_page() -> RedirectResponse | None:
        user = require_user(container)
        if not isinstance(user, User):
            return user
        scope = None if user.is_admin else user.id
        dirty = {"value": False}

        with frame("Dashboard", user):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label(f"Welcome, {user.name}." + (" You see every customer's payments." if user.is_admin else "")) \
                    .classes("text-grey-8").mark("welcome")
                with ui.row().classes("gap-2"):
                    ui.button("New Payment", icon="add_card", on_click=lambda: ui.navigate.to("/payments/new"))
                    ui.button("Shop", icon="storefront", on_click=lambda: ui.navigate.to("/shop")).props("outline")

            @ui.refreshable
            def summary() -> None:
                start_of_day = container.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
                with container.uow(read_only=True) as uow:
                    counts, volume = uow.payments.stats(scope, start_of_day)
                with ui.element("div").classes("grid gap-3 w-full grid-cols-2 sm:grid-cols-3 lg:grid-cols-6"):
                    for status in STATUSES:
                        with ui.card().classes("items-center gap-0 p-3").mark(f"count-{status}"):
                            ui.label(str(counts.get(status, 0))).classes(
                                f"text-2xl font-bold text-{STATUS_COLORS[status]}")
                            ui.label(status).classes("text-xs text-grey-7 uppercase")
                    with ui.card().classes("items-center gap-0 p-3").mark("today-volume"):
                        text = " · ".join(money(v, c) for c, v in sorted(volume.items())) or money(0, "USD")
                        ui.label(text).classes("text-xl font-bold text-indigo-8")
                        ui.label("completed today").classes("text-xs text-grey-7 uppercase")

            @ui.refreshable
            def recent_payments() -> None:
                page, _ = container.payments.list(user, limit=8)
                if not page:
                    with ui.column().classes("items-center w-full p-6 gap-2").mark("empty-state"):
                        ui.icon("receipt_long", size="lg", color="grey-5")
                        ui.label("No payments yet.").classes("text-grey-7")
                        ui.link("Make your first payment", "/payments/new")
                    return
                for p in page:
                    with ui.row().classes("w-full items-center justify-between no-wrap border-b py-1") \
                            .mark(f"dash-{p.id}"):
                        with ui.column().classes("gap-0 min-w-0"):
                            ui.label(money(p.amount, p.currency)).classes("font-medium")
                            ui.label(p.description or p.id).classes("text-xs text-grey-7 truncate")
                        status_badge(p.status).mark("dash-status")

            @ui.refreshable
            def activity() -> None:
                with container.uow(read_only=True) as uow:
                    events = uow.outbox.recent(scope, 12)
                if not events:
                    ui.label("Nothing has happened yet.").classes("text-grey-7").mark("empty-activity")
                    return
                for e in events:
                    with ui.row().classes("w-full items-center gap-2 no-wrap text-sm"):
                        status = e.data.get("status", "")
                        ui.icon("circle", size="xs", color=STATUS_COLORS.get(status, "grey"))
                        ui.label(EVENT_TEXT.get(e.type, e.type)).classes("font-medium")
                        amount = e.data.get("amount") or e.data.get("totalAmount")
                        if amount and e.data.get("currency"):
                            ui.label(money(amount, e.data["currency"])).classes("text-grey-8")
                        ui.label((iso(e.created_at) or "")[11:19]).classes("ml-auto text-xs text-grey-6")

            summary()
            with ui.row().classes("w-full gap-4 items-start max-md:flex-col"):
                with ui.card().classes("flex-1 w-full"):
                    ui.label("Recent payments").classes("text-lg font-semibold")
                    with ui.column().classes("w-full gap-0").mark("recent-payments"):
                        recent_payments()
                    ui.link("All payments →", "/payments").classes("text-sm")
                with ui.card().classes("flex-1 w-full"):
                    ui.label("Recent activity").classes("text-lg font-semibold")
                    with ui.column().classes("w-full gap-1").mark("activity"):
                        activity()

        def on_event(event: Event) -> None:
            if event.type.startswith(("payment.", "order.")) and (user.is_admin or event.customer_id == user.id):
                dirty["value"] = True

        def redraw() -> None:  # at most twice a second, however many events arrive
            if dirty["value"]:
                dirty["value"] = False
                summary.refresh()
                recent_payments.refresh()
                activity.refresh()

        on_events(container, on_event)
        ui.timer(0.5, redraw)
        return None
