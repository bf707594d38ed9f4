"""My Orders: the signed-in customer's orders (everyone's for an admin), filtered, paged and live; and the order
page, with its items, totals, payment and refunds."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from nicegui import run, ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import frame
from app.pages.guard import RESPONSE_TIMEOUT_SECONDS, follow_own_user, page, still_signed_in
from app.pages.payment_detail import REASON_TEXT, method_text
from app.pages.payments import customer_text, read_range
from app.pages.session import current_user
from app.pages.widgets import (
    empty_state,
    on_events,
    payment_url,
    refund_badge,
    short_time,
    status_badge,
)
from domain.model.errors import NotFound, ValidationFailed
from domain.model.events import Event
from domain.model.money import format_money
from domain.model.orders import Order
from domain.model.payments import Payment
from domain.model.refunds import Refund
from domain.model.statuses import OrderStatus
from domain.model.users import User

TITLE = "My Orders"
PAGE_SIZE = 10
# What an order id may look like (ids are "ord_" and hex): anything else is not looked up, just not found.
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def order_url(order_id: str) -> str:
    """The path of an order's page (the id quoted, so it stays one path segment)."""
    return "/orders/" + quote(order_id, safe="")


def items_text(order: Order) -> str:
    """The items of an order in one line: "Smart Watch × 1, Rain Jacket × 2"."""
    return ", ".join(f"{item.name} × {item.quantity}" for item in order.items)


def wraps() -> str:
    """Classes for a text that may be long (a 120-character product name): it wraps, anywhere if it must."""
    return "min-w-0 break-words [overflow-wrap:anywhere]"


@dataclass
class Filters:
    status: str | None = None
    customer_id: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None

    @property
    def any(self) -> bool:
        return self != Filters()


@dataclass(eq=False)  # compared by identity: its refreshable keeps one drawing per object
class OrderList:
    """One page of orders, newest first, filtered in the query and paged with cursors; redrawn by live events."""

    container: Container
    user: User
    customers: Mapping[str, User]  # for an admin: everyone, read once as the page loads
    filters: Filters = field(default_factory=Filters)
    cursors: list[str | None] = field(default_factory=lambda: [None])  # the cursor of each page up to this one
    orders: list[Order] = field(default_factory=list)
    next_cursor: str | None = None
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock)  # reads in turn: an older one never wins

    @property
    def on_first_page(self) -> bool:
        return len(self.cursors) == 1

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

    async def signed_in(self) -> bool:
        """Check the session again before a read the person asks for; follow the user as they are now."""
        user = await still_signed_in(self.container)
        if user is not None:
            self.user = user
        return user is not None

    async def apply(self, filters: Filters) -> None:
        if await self.signed_in():
            self.filters, self.cursors = filters, [None]
            await self.reload()

    async def newer(self) -> None:
        if await self.signed_in() and not self.on_first_page:  # a second click may come before the redraw
            self.cursors.pop()
            await self.reload()

    async def older(self, cursor: str) -> None:
        if await self.signed_in():
            self.cursors.append(cursor)
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
        error = ui.label("").classes("text-negative text-sm w-full").mark("filter-error")

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
                with ui.column().classes("gap-0 w-48 max-sm:w-full"):
                    ui.label(order.id).classes("font-medium text-primary break-all").mark("order-id")
                    ui.label(short_time(order.created_at)).classes("text-xs text-grey-7").mark("order-created")
                with ui.column().classes("gap-0 flex-1 basis-48 " + wraps()):
                    ui.label(items_text(order)).classes(wraps()).mark("order-items")
                    if self.user.is_admin:
                        ui.label(customer_text(self.customers.get(order.customer_id), order.customer_id)) \
                            .classes("text-sm text-grey-8 " + wraps()).mark("order-customer")
                with ui.row().classes("items-center gap-3 no-wrap ml-auto"):
                    ui.label(format_money(order.total_amount, order.currency)).classes("font-semibold") \
                        .mark("order-total")
                    status_badge(order.status).mark("order-status")


# --- the order page -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """What the order page shows, read in one go."""

    order: Order
    payment: Payment | None
    refunds: list[Refund]
    customer: User | None  # who ordered, for an admin (None for a customer, or when the account is gone)


def read(container: Container, user: User, order_id: str) -> Snapshot:
    """The order as `user` may see it (NotFound for another customer's); blocking, so call it in a thread."""
    if not ORDER_ID.fullmatch(order_id):
        raise NotFound("order not found")
    order = container.orders.get(user, order_id)
    payment, refunds, customer = None, [], None
    if order.payment_id:
        payment = container.payments.get(user, order.payment_id)
        refunds = container.refunds.list(user, order.payment_id)
    if user.is_admin:
        try:
            customer = container.users.get(order.customer_id)
        except NotFound:
            customer = None
    return Snapshot(order, payment, refunds, customer)


def fact(label: str, value: str, marker: str) -> None:
    with ui.row().classes("w-full no-wrap gap-3 items-baseline"):
        ui.label(label).classes("w-28 shrink-0 text-sm text-grey-7")
        ui.label(value).classes(wraps()).mark(marker)


def item_line(name: str, quantity: str, unit: str, total: str, *, head: bool = False) -> None:
    """A line of the items: the name takes the row on a phone and the numbers go under it, in the same columns
    as the heading's."""
    look = "text-xs text-grey-7 uppercase" if head else ""
    with ui.row().classes(f"w-full gap-x-3 gap-y-0 items-baseline py-1 border-b border-gray-200 {look}") as line:
        cells = [ui.label(name).classes(f"basis-full sm:basis-0 sm:grow {wraps()}"),
                 ui.label(quantity).classes("w-12 text-right max-sm:text-left"),
                 ui.label(unit).classes("w-24 text-right"),
                 ui.label(total).classes("w-24 text-right font-medium")]
    if not head:
        line.mark("item-row")
        for cell, marker in zip(cells, ("item-name", "item-quantity", "item-unit-price", "item-line-total"),
                                strict=True):
            cell.mark(marker)


@dataclass(eq=False)
class OrderDetail:
    """The order page's content, read again and redrawn when the order, its payment or a refund changes."""

    container: Container
    user: User
    snapshot: Snapshot
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def reload(self) -> None:
        async with self._reading:
            try:
                snapshot = await run.io_bound(read, self.container, self.user, self.snapshot.order.id)
            except NotFound:  # the account was demoted or deleted meanwhile: its own check takes it from here
                return
            if snapshot is None:  # run.io_bound's None: the app is stopping
                return
            self.snapshot = snapshot
        self.draw.refresh()

    def on_event(self, event: Event) -> Awaitable[None] | None:
        o = self.snapshot.order
        if event.aggregate_id in {o.id, o.payment_id} and event.type.startswith(("order.", "payment.", "refund.")):
            return self.reload()
        return None

    @ui.refreshable_method
    def draw(self) -> None:
        self.summary()
        with ui.element("div").classes("w-full grid grid-cols-1 lg:grid-cols-2 gap-4 items-start"):
            self.items()
            with ui.column().classes("gap-4 min-w-0"):
                self.payment()
                self.refunds()

    def summary(self) -> None:
        s, o = self.snapshot, self.snapshot.order
        with ui.card().classes("w-full gap-1").mark("order-summary"):
            with ui.row().classes("w-full items-center gap-x-3 gap-y-1"):
                ui.label(f"Order {o.id}").classes("text-xl font-semibold break-all").mark("order-number")
                status_badge(o.status).mark("order-status")
            ui.label(format_money(o.total_amount, o.currency)).classes("text-3xl font-semibold").mark("order-total")
            if o.description:
                ui.label(o.description).classes(f"text-grey-8 {wraps()}").mark("order-description")
            if self.user.is_admin:
                fact("Customer", customer_text(s.customer, o.customer_id), "order-customer")
            fact("Created", short_time(o.created_at), "order-created")
            fact("Updated", short_time(o.updated_at), "order-updated")

    def items(self) -> None:
        o = self.snapshot.order
        with ui.card().classes("w-full gap-0 min-w-0").mark("order-items"):
            ui.label("Items").classes("text-lg font-semibold pb-1")
            item_line("Item", "Qty", "Unit price", "Line total", head=True)
            for item in o.items:
                item_line(item.name, str(item.quantity), format_money(item.unit_price_minor, o.currency),
                          format_money(item.line_total, o.currency))
            with ui.row().classes("w-full justify-end gap-3 pt-2 text-base font-semibold"):
                ui.label("Total")
                ui.label(format_money(o.total_amount, o.currency)).mark("items-total")

    def payment(self) -> None:
        p = self.snapshot.payment
        with ui.card().classes("w-full gap-1").mark("order-payment"):
            ui.label("Payment").classes("text-lg font-semibold")
            if p is None:
                ui.label("This order has no payment.").classes("text-grey-7")
                return
            with ui.row().classes("w-full items-center gap-3"):
                ui.label(format_money(p.amount, p.currency)).classes("font-medium").mark("payment-amount")
                status_badge(p.status).mark("payment-status")
            fact("Paid with", method_text(p), "payment-card")
            if p.refunded_amount:
                fact("Refunded", f"{format_money(p.refunded_amount, p.currency)} of "
                                 f"{format_money(p.amount, p.currency)}", "payment-refunded")
            if p.failure_message:
                ui.label(p.failure_message).classes("text-sm text-negative").mark("payment-failure")
            ui.link("View payment", payment_url(p.id)).classes("text-sm").mark("payment-link")

    def refunds(self) -> None:
        refunds = self.snapshot.refunds
        with ui.card().classes("w-full gap-1").mark("order-refunds"):
            ui.label("Refunds").classes("text-lg font-semibold")
            if not refunds:
                ui.label("No refunds.").classes("text-grey-7").mark("no-refunds")
            for r in refunds:
                with ui.row().classes("w-full items-center gap-x-3 gap-y-0 border-b border-gray-200 py-1") \
                        .mark("refund-row"):
                    ui.label(format_money(r.amount, r.currency)).classes("font-medium").mark("refund-amount")
                    refund_badge(r.status).mark("refund-status")
                    ui.label(REASON_TEXT.get(r.reason, r.reason)).classes("text-sm text-grey-8")
                    ui.label(short_time(r.created_at)).classes("text-xs text-grey-7")


def not_found() -> None:
    with ui.card().classes("w-full items-center p-8 gap-3").mark("order-not-found"):
        ui.icon("search_off", size="xl", color="grey-7")
        ui.label("Order not found.").classes("text-lg")
        ui.label("There is no order with this number that you may see.").classes("text-grey-7 text-center")
        ui.button(TITLE, icon="arrow_back", on_click=lambda: ui.navigate.to("/orders"))


async def show(container: Container, user: User, order_id: str) -> None:
    ui.link("← My Orders", "/orders").classes("text-sm").mark("back-to-orders")
    try:
        snapshot = await run.io_bound(read, container, user, order_id)
    except NotFound:  # another customer's order reads the same as one that does not exist
        not_found()
        return
    if snapshot is None:  # run.io_bound's None: the app is stopping
        return
    detail = OrderDetail(container, user, snapshot)
    detail.draw()
    on_events(container, detail.on_event)


def register(container: Container) -> None:
    @page(container, "/orders", TITLE, "shopping_bag")
    async def orders_page(user: User) -> None:
        customers: dict[str, User] = {}
        if user.is_admin:
            users = await run.io_bound(container.users.list)
            if users is None:  # run.io_bound's None: the app is stopping
                return
            customers = {u.id: u for u in users}
        listing = OrderList(container, user, customers)
        await listing.reload()
        with ui.row().classes("items-center gap-2 w-full"):
            listing.filter_bar()
        listing.draw()
        on_events(container, listing.on_event)

    # Not through guard.page: this page takes a path parameter and has no entry in the navigation.
    @ui.page("/orders/{order_id}", response_timeout=RESPONSE_TIMEOUT_SECONDS)
    async def order_page(order_id: str) -> RedirectResponse | None:
        user = await current_user(container)
        if user is None:
            return RedirectResponse("/login")
        with frame("Order", user):
            await show(container, user, order_id)
        # An admin sees any customer's order here: demoted meanwhile, they leave the page as from an admin page.
        follow_own_user(container, user, admin_only=user.is_admin)
        return None
