"""The dashboard: payments with live badges, counts by status, today's volume, recent activity."""

from __future__ import annotations

from dataclasses import dataclass, field

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import page
from app.pages.widgets import STATUS_COLORS, empty_state, on_events, status_badge, status_color
from domain.clock import iso
from domain.model.events import Event
from domain.model.money import format_money
from domain.model.payments import Payment
from domain.model.statuses import PaymentStatus
from domain.model.users import User

TITLE = "Dashboard"
REDRAW_SECONDS = 0.5  # at most this often, however many events arrive
EVENT_TEXT = {
    "payment.created": "Payment created", "payment.processing": "Processing", "payment.retry": "Retry scheduled",
    "payment.completed": "Payment completed", "payment.failed": "Payment failed", "order.created": "Order placed",
    "order.paid": "Order paid", "order.payment_failed": "Order payment failed",
}


@dataclass(frozen=True)
class Overview:
    """What the dashboard shows, read in one go."""

    counts: dict[str, int] = field(default_factory=dict)  # payments by status
    volume: dict[str, int] = field(default_factory=dict)  # completed today, minor units by currency
    payments: list[Payment] = field(default_factory=list)  # the most recent
    events: list[Event] = field(default_factory=list)  # the most recent


def read_overview(container: Container, user: User) -> Overview:
    """The user's numbers (everyone's for an admin); blocking, so a page calls it in a worker thread."""
    scope = None if user.is_admin else user.id
    start_of_day = container.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    with container.uow(read_only=True) as uow:
        stats = uow.payments.stats(scope, start_of_day)
        events = uow.outbox.recent(scope, 12)
    payments, _ = container.payments.list(user, limit=8)
    return Overview(stats.counts, stats.volume, payments, events)


class Dashboard:
    """Counts by status, recent payments and recent activity, redrawn when the user's payments or orders change."""

    def __init__(self, container: Container, user: User) -> None:
        self.container = container
        self.user = user
        self.overview = Overview()
        self.dirty = False

    async def reload(self) -> None:
        overview = await run.io_bound(read_overview, self.container, self.user)
        if overview is None:  # run.io_bound's None: the app is stopping
            return
        self.overview = overview
        self.summary.refresh()
        self.recent_payments.refresh()
        self.activity.refresh()

    def on_event(self, event: Event) -> None:
        if event.type.startswith(("payment.", "order.")) and (self.user.is_admin or event.customer_id == self.user.id):
            self.dirty = True

    async def redraw(self) -> None:
        if self.dirty:
            self.dirty = False
            await self.reload()

    def draw(self) -> None:
        user = self.user
        with ui.row().classes("w-full items-center justify-between"):
            ui.label(f"Welcome, {user.name}." + (" You see every customer's payments." if user.is_admin else "")) \
                .classes("text-grey-8").mark("welcome")
            with ui.row().classes("gap-2"):
                ui.button("New Payment", icon="add_card", on_click=lambda: ui.navigate.to("/payments/new"))
                ui.button("Shop", icon="storefront", on_click=lambda: ui.navigate.to("/shop")).props("outline")
        self.summary()
        with ui.row().classes("w-full gap-4 items-start max-md:flex-col"):
            with ui.card().classes("flex-1 w-full"):
                ui.label("Recent payments").classes("text-lg font-semibold")
                with ui.column().classes("w-full gap-0").mark("recent-payments"):
                    self.recent_payments()
                ui.link("All payments →", "/payments").classes("text-sm")
            with ui.card().classes("flex-1 w-full"):
                ui.label("Recent activity").classes("text-lg font-semibold")
                with ui.column().classes("w-full gap-1").mark("activity"):
                    self.activity()

    @ui.refreshable_method
    def summary(self) -> None:
        counts, volume = self.overview.counts, self.overview.volume
        with ui.element("div").classes("grid gap-3 w-full grid-cols-2 sm:grid-cols-3 lg:grid-cols-6"):
            for status in PaymentStatus:
                with ui.card().classes("items-center gap-0 p-3").mark(f"count-{status}"):
                    ui.label(str(counts.get(status, 0))).classes(f"text-2xl font-bold text-{STATUS_COLORS[status]}")
                    ui.label(status).classes("text-xs text-grey-7 uppercase")
            with ui.card().classes("items-center gap-0 p-3").mark("today-volume"):
                text = " · ".join(format_money(v, c) for c, v in sorted(volume.items())) or format_money(0, "USD")
                ui.label(text).classes("text-xl font-bold text-primary")
                ui.label("completed today").classes("text-xs text-grey-7 uppercase")

    @ui.refreshable_method
    def recent_payments(self) -> None:
        if not self.overview.payments:
            empty_state("receipt_long", "No payments yet.", "Make your first payment", "/payments/new")
            return
        for p in self.overview.payments:
            with ui.row().classes("w-full items-center justify-between no-wrap border-b py-1").mark(f"dash-{p.id}"):
                with ui.column().classes("gap-0 min-w-0 flex-1"):
                    ui.label(format_money(p.amount, p.currency)).classes("font-medium")
                    ui.label(p.description or p.id).classes("text-xs text-grey-7 truncate w-full")
                status_badge(p.status).mark("dash-status")

    @ui.refreshable_method
    def activity(self) -> None:
        if not self.overview.events:
            empty_state("history", "Nothing has happened yet.", "Make a payment", "/payments/new") \
                .mark("empty-state", "empty-activity")
            return
        for e in self.overview.events:
            with ui.row().classes("w-full items-center gap-2 no-wrap text-sm"):
                ui.icon("circle", size="xs", color=status_color(e.data.get("status", "")))
                ui.label(EVENT_TEXT.get(e.type, e.type)).classes("font-medium")
                amount = e.data.get("amount") or e.data.get("totalAmount")
                if amount and e.data.get("currency"):
                    ui.label(format_money(amount, e.data["currency"])).classes("text-grey-8")
                ui.label((iso(e.created_at) or "")[11:19]).classes("ml-auto text-xs text-grey-6")


def register(container: Container) -> None:
    @page(container, "/", TITLE, "dashboard")
    async def dashboard_page(user: User) -> None:
        dashboard = Dashboard(container, user)
        await dashboard.reload()
        dashboard.draw()
        on_events(container, dashboard.on_event)
        ui.timer(REDRAW_SECONDS, dashboard.redraw)
