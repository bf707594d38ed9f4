"""My Orders: the signed-in customer's orders (everyone's for an admin), filtered, paged and live. Each opens
its order page (app/pages/order_detail.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import page
from app.pages.paging import CursorPaging
from app.pages.payments import customer_text, customers_of, read_range
from app.pages.widgets import WRAPS, empty_state, on_events, order_url, short_time, status_badge
from domain.model.errors import ValidationFailed
from domain.model.events import Event
from domain.model.money import format_money
from domain.model.orders import Order
from domain.model.statuses import OrderStatus
from domain.model.users import User

TITLE = "My Orders"
PAGE_SIZE = 10


def items_text(order: Order) -> str:
    """The items of an order in one line: "Smart Watch × 1, Rain Jacket × 2"."""
    return ", ".join(f"{item.name} × {item.quantity}" for item in order.items)


@dataclass
class Filters:
    """What the list keeps: None leaves a filter off; the creation time is in [created_from, created_before)."""

    status: str | None = None
    customer_id: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None

    @property
    def any(self) -> bool:
        return self != Filters()


@dataclass(eq=False)  # compared by identity: its refreshable keeps one drawing per object
class OrderList(CursorPaging):
    """One page of orders, newest first, filtered in the query and paged with cursors; redrawn by live events."""

    container: Container
    user: User
    customers: Mapping[str, User]  # for an admin: everyone, read once as the page loads
    filters: Filters = field(default_factory=Filters)
    cursors: list[str | None] = field(default_factory=lambda: [None])  # the cursor of each page up to this one
    orders: list[Order] = field(default_factory=list)
    next_cursor: str | None = None
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock)  # reads in turn: an older one never wins

    async def reload(self) -> None:
        f = self.filters
        async with self._reading:
            listed = await run.io_bound(self.container.orders.page, self.user, status=f.status,
                                        customer_id=f.customer_id, created_from=f.created_from,
                                        created_before=f.created_before, limit=PAGE_SIZE, cursor=self.cursors[-1])
            if listed is None:  # run.io_bound's None: the app is stopping
                return
            self.orders, self.next_cursor = listed
        self.draw.refresh()

    async def apply(self, filters: Filters) -> None:
        if await self.signed_in():
            self.filters, self.cursors = filters, [None]
            await self.reload()

    def on_event(self, event: Event) -> Awaitable[None] | None:
        """An order shown changed (or its payment did), or a new order of this list's arrived on its first page."""
        if not event.type.startswith(("order.", "payment.")):
            return None
        shown = {o.id for o in self.orders} | {o.payment_id for o in self.orders if o.payment_id}
        mine = self.user.is_admin or event.customer_id == self.user.id
        if event.aggregate_id in shown or (event.type == "order.created" and mine and self.on_first_page):
            return self.reload()
        return None

    def filter_bar(self) -> None:
        status = ui.select({None: "All statuses", **{s.value: s.value.replace("_", " ") for s in OrderStatus}},
                           value=None, label="Status").props("outlined dense").classes("w-44").mark("status-filter")
        customer = None
        if self.user.is_admin:
            names = {u.id: customer_text(u, u.id) for u in self.customers.values()}
            customer = ui.select({None: "All customers", **names}, value=None, label="Customer") \
                .props("outlined dense").classes("w-64 max-w-full").mark("customer-filter")
        day_from = ui.input("From").props("outlined dense type=date").classes("w-40").mark("created-from")
        day_to = ui.input("To").props("outlined dense type=date").classes("w-40").mark("created-to")

        async def apply() -> None:
            try:
                within = read_range(day_from.value, day_to.value, None, None)
            except ValidationFailed as e:
                detail = e.details[0]
                error.set_text(f"{detail.field} {detail.message}.")
                return
            error.set_text("")
            await self.apply(Filters(status.value, customer.value if customer is not None else None,
                                     within.created_from if within else None,
                                     within.created_before if within else None))

        status.on_value_change(apply)
        if customer is not None:
            customer.on_value_change(apply)
        ui.button("Apply", icon="filter_alt", on_click=apply).props("flat").mark("apply-filters")
        error = ui.label("").classes("text-negative text-sm w-full").mark("filter-error")
        for day in (day_from, day_to):
            day.on("keydown.enter", apply)

    def position(self) -> str:
        """Where this page is: "Page 2 · showing 11–20"."""
        first = (len(self.cursors) - 1) * PAGE_SIZE + 1
        return f"Page {len(self.cursors)} · showing {first}–{first + len(self.orders) - 1}"

    @ui.refreshable_method
    def draw(self) -> None:
        if not self.orders:
            if self.filters.any or not self.on_first_page:
                empty_state("filter_alt_off", "No orders match these filters.")
            else:
                empty_state("shopping_bag", "No orders yet. Orders you pay for in the shop show here.",
                            "Browse products", "/shop")
            return
        with ui.column().classes("w-full gap-2").mark("orders-list"):
            for order in self.orders:
                self.order_card(order)
        with ui.row().classes("items-center gap-2"):
            ui.label(self.position()).classes("text-sm text-grey-7").mark("page-position")
            ui.button("Newer", icon="chevron_left", on_click=self.newer).props("flat") \
                .mark("page-newer").set_visibility(not self.on_first_page)
            if self.next_cursor:
                next_cursor = self.next_cursor
                ui.button("Older", icon="chevron_right", on_click=lambda: self.older(next_cursor)) \
                    .props("flat").mark("page-older")

    def order_card(self, order: Order) -> None:
        """One order: a link to its page, a row on a wide screen that wraps into a card on a phone."""
        link = ui.link(target=order_url(order.id)).classes("w-full") \
            .style("color: inherit; text-decoration: none").mark("order-link")
        with link:
            card = ui.card().classes("w-full px-4 py-3 hover:bg-grey-2").props("flat bordered").mark("order-row")
        with card, ui.row().classes("w-full items-center gap-x-4 gap-y-1"):
                with ui.column().classes("gap-0 shrink-0 max-sm:w-full"):
                    ui.label(order.id).classes("font-medium text-primary break-all").mark("order-id")
                    ui.label(short_time(order.created_at)).classes("text-xs text-grey-7").mark("order-created")
                with ui.column().classes("gap-0 flex-1 basis-48 " + WRAPS):
                    ui.label(items_text(order)).classes(WRAPS).mark("order-items")
                    if self.user.is_admin:
                        ui.label(customer_text(self.customers.get(order.customer_id), order.customer_id)) \
                            .classes("text-sm text-grey-8 " + WRAPS).mark("order-customer")
                with ui.row().classes("items-center gap-3 no-wrap ml-auto"):
                    ui.label(format_money(order.total_amount, order.currency)).classes("font-semibold") \
                        .mark("order-total")
                    status_badge(order.status).mark("order-status")


def register(container: Container) -> None:
    @page(container, "/orders", TITLE, "shopping_bag")
    async def orders_page(user: User) -> None:
        customers = await customers_of(container, user)
        if customers is None:  # the app is stopping
            return
        listing = OrderList(container, user, customers)
        await listing.reload()
        with ui.row().classes("items-center gap-2 w-full"):
            listing.filter_bar()
        listing.draw()
        on_events(container, listing.on_event)
