"""The order page: one order whole (its items, totals, times, payment and refunds), live."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import Detail, detail_page
from app.pages.payment_detail import REASON_TEXT, method_text
from app.pages.payments import customer_text
from app.pages.widgets import WRAPS, fact, payment_url, refund_badge, short_time, status_badge
from domain.model.errors import NotFound
from domain.model.events import Event
from domain.model.money import format_money
from domain.model.orders import Order
from domain.model.payments import Payment
from domain.model.refunds import Refund
from domain.model.users import User

TITLE = "Order"
# What an order id may look like (ids are "ord_" and hex): anything else is not looked up, just not found.
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
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


def item_line(name: str, quantity: str, unit: str, total: str, *, head: bool = False) -> None:
    """A line of the items: the name takes the row on a phone and the numbers go under it, in the same columns
    as the heading's."""
    look = "text-xs text-grey-7 uppercase" if head else ""
    with ui.row().classes(f"w-full gap-x-3 gap-y-0 items-baseline justify-end py-1 border-b border-gray-200 {look}") \
            as line:
        # On a phone the heading leaves out "Item": the names need no heading, and the numbers' one stays short.
        cells = [ui.label(name).classes(f"basis-full sm:basis-0 sm:grow {WRAPS}"
                                        + (" max-sm:hidden" if head else "")),
                 ui.label(quantity).classes("w-12 text-right"),
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
        mine = event.aggregate_id is not None and event.aggregate_id in {o.id, o.payment_id}
        if mine and event.type.startswith(("order.", "payment.", "refund.")):
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
            ui.label("Order number").classes("text-sm text-grey-7")
            with ui.row().classes("w-full items-center gap-x-3 gap-y-1"):
                ui.label(o.id).classes("text-xl font-semibold break-all").mark("order-number")
                status_badge(o.status).mark("order-status")
            ui.label(format_money(o.total_amount, o.currency)).classes("text-3xl font-semibold").mark("order-total")
            if o.description:
                ui.label(o.description).classes(f"text-grey-8 {WRAPS}").mark("order-description")
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


def register(container: Container) -> None:
    detail_page(container, "/orders/{key}", TITLE, Detail(
        "order", "number", back=("My Orders", "/orders", "back-to-orders"),
        read=lambda user, key: read(container, user, key),
        view=lambda user, snapshot: OrderDetail(container, user, snapshot)))
