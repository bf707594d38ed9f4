"""Payment History: the payments of the signed-in customer (every customer's for an admin), live."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from nicegui import run, ui
from nicegui.events import GenericEventArguments

from app.bootstrap import Container
from app.pages.guard import page
from app.pages.paging import CursorPaging
from app.pages.payment_detail import method_text
from app.pages.widgets import empty_state, on_events, payment_url, short_time, status_color
from domain.model.errors import ValidationFailed
from domain.model.events import Event
from domain.model.money import CURRENCIES, format_money, parse_major
from domain.model.payments import Payment, PaymentRange
from domain.model.statuses import PaymentStatus
from domain.model.users import User

TITLE = "Payment History"
PAGE_SIZE = 10
COLUMNS = [{"name": "createdAt", "label": "Created", "field": "createdAt", "align": "left"},
           {"name": "amount", "label": "Amount", "field": "amount", "align": "right"},
           {"name": "description", "label": "Description", "field": "description", "align": "left"},
           {"name": "status", "label": "Status", "field": "status", "align": "left"},
           {"name": "card", "label": "Method", "field": "card", "align": "left"},
           {"name": "reason", "label": "Reason", "field": "reason", "align": "left"},
           {"name": "id", "label": "Payment", "field": "id", "align": "left"}]
CUSTOMER_COLUMN = {"name": "customer", "label": "Customer", "field": "customer", "align": "left"}
# The badge takes its colour from its row, where Python put it: the template holds no data.
STATUS_CELL = """
    <q-td :props="props"><q-badge :color="props.row.statusColor" :label="props.value"/></q-td>
"""
# The id links to the payment's page (a link, so it opens in a new tab too); a click on the rest of the row
# goes there as well. `.stop` keeps the link's click from also counting as the row's.
ID_CELL = """
    <q-td :props="props"><a :href="props.row.href" class="text-primary" @click.stop>{{ props.value }}</a></q-td>
"""
# Below 600 px (Quasar's `sm`) the table turns into cards, one per payment: amount and status on top, then
# each other column as a caption and its value, and the link to the payment. Values are Vue text, never markup.
PHONE_CARDS = "Quasar.Screen.lt.sm"
CARD_ITEM = """
    <div class="col-12 q-pa-xs">
      <q-card flat bordered class="q-pa-sm" data-payment-card>
        <div class="row items-center justify-between no-wrap q-gutter-x-sm">
          <span class="text-weight-medium">{{ props.row.amount }}</span>
          <q-badge :color="props.row.statusColor" :label="props.row.status"/>
        </div>
        <div v-for="col in props.cols.filter(c => !['amount', 'status', 'id'].includes(c.name) && c.value)"
             :key="col.name" class="text-caption" style="overflow-wrap: anywhere">
          <span class="text-grey-7">{{ col.label }}:</span> {{ col.value }}
        </div>
        <a :href="props.row.href" class="text-primary text-caption" style="overflow-wrap: anywhere"
           >{{ props.row.id }}</a>
      </q-card>
    </div>
"""


def customer_text(user: User | None, customer_id: str) -> str:
    """A customer as a person reads them: name and email (the id only for someone no longer on file)."""
    return f"{user.name} · {user.email}" if user is not None else customer_id


def row(payment: Payment, customers: Mapping[str, User]) -> dict[str, Any]:
    p = payment
    return {"id": p.id, "href": payment_url(p.id), "createdAt": short_time(p.created_at),
            "amount": format_money(p.amount, p.currency), "status": p.status, "statusColor": status_color(p.status),
            "customer": customer_text(customers.get(p.customer_id), p.customer_id),
            "description": p.description or "", "card": method_text(p), "reason": p.failure_message or ""}


class PaymentTable(CursorPaging):
    """One page of payments, filtered by status, dates, amounts and (for an admin) customer, paged newest
    first with cursors."""

    def __init__(self, container: Container, user: User, customers: Mapping[str, User]) -> None:
        self.container = container
        self.user = user
        self.customers = customers  # for an admin: everyone, read once as the page loads
        self.status: str | None = None
        self.within: PaymentRange | None = None
        self.customer_id: str | None = None  # an admin's choice of one customer
        self.cursors: list[str | None] = [None]  # the cursor of each page up to this one
        self.payments: list[Payment] = []
        self.next_cursor: str | None = None
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result

    async def reload(self) -> None:
        async with self._reading:
            listed = await run.io_bound(
                self.container.payments.list, self.user, status=self.status, limit=PAGE_SIZE, cursor=self.cursors[-1],
                within=self.within, customer_id=self.customer_id)
            if listed is None:  # run.io_bound's None: the app is stopping
                return
            self.payments, self.next_cursor = listed
        self.draw.refresh()

    async def filter(self, status: str | None) -> None:
        if not await self.signed_in():
            return
        self.status, self.cursors = status, [None]
        await self.reload()

    async def filter_range(self, within: PaymentRange | None) -> None:
        if not await self.signed_in():
            return
        self.within, self.cursors = within, [None]
        await self.reload()

    async def filter_customer(self, customer_id: str | None) -> None:
        if not await self.signed_in():
            return
        if customer_id is not None and customer_id not in self.customers:  # only a customer the list offered
            return
        self.customer_id, self.cursors = customer_id, [None]
        await self.reload()

    def on_event(self, event: Event) -> Awaitable[None] | None:
        if not event.type.startswith("payment."):
            return None
        mine = self.user.is_admin or event.customer_id == self.user.id
        if event.aggregate_id in {p.id for p in self.payments} or (mine and self.on_first_page):
            return self.reload()
        return None

    def open_row(self, event: GenericEventArguments) -> None:
        """A click on a row: that payment's page (only a payment this table shows, whatever the browser sent)."""
        args = event.args
        clicked = args[1].get("id") if isinstance(args, list) and len(args) > 1 and isinstance(args[1], dict) else None
        for payment in self.payments:
            if payment.id == clicked:
                ui.navigate.to(payment_url(payment.id))

    def status_filter(self) -> None:
        ui.select({None: "All statuses", **{s.value: s.value for s in PaymentStatus}}, value=None, label="Status",
                  on_change=lambda e: self.filter(e.value)).props("outlined dense").classes("w-48") \
            .mark("status-filter")

    def customer_filter(self) -> None:
        """For an admin: one customer's payments, found by typing part of their name or email."""
        options: dict[str | None, str] = {None: "All customers"}
        options.update({u.id: customer_text(u, u.id) for u in sorted(self.customers.values(), key=lambda u: u.name)})
        ui.select(options, value=None, label="Customer", with_input=True,
                  on_change=lambda e: self.filter_customer(e.value)) \
            .props("outlined dense options-dense").classes("w-64 max-w-full").mark("customer-filter")

    def position(self) -> str:
        """Where this page is: "Page 2 · showing 11–20"."""
        number = len(self.cursors)
        first = (number - 1) * PAGE_SIZE + 1
        return f"Page {number} · showing {first}–{first + len(self.payments) - 1}"

    def range_filter(self) -> None:
        """Dates (inclusive, UTC) and amounts (in major units, as "10.00"), filtered in the query."""
        day_from = ui.input("From").props("outlined dense type=date").classes("w-40").mark("created-from")
        day_to = ui.input("To").props("outlined dense type=date").classes("w-40").mark("created-to")
        low = ui.input("Min amount").props("outlined dense inputmode=decimal").classes("w-32").mark("min-amount")
        high = ui.input("Max amount").props("outlined dense inputmode=decimal").classes("w-32").mark("max-amount")
        currency = ui.select(list(CURRENCIES), value="USD", label="Currency").props("outlined dense") \
            .classes("w-28").mark("amount-currency")
        error = ui.label("").classes("text-negative text-sm w-full").mark("filter-error")

        async def apply() -> None:
            try:
                within = read_range(day_from.value, day_to.value, low.value, high.value, currency.value)
            except ValidationFailed as exc:
                error.set_text(str(exc))
                return
            error.set_text("")
            await self.filter_range(within)

        ui.button("Apply", icon="filter_alt", on_click=apply).props("flat").mark("apply-filters")
        for field in (day_from, day_to, low, high):
            field.on("keydown.enter", apply)

    @ui.refreshable_method
    def draw(self) -> None:
        if not self.payments:
            if self.within is None and self.status is None and self.customer_id is None:
                empty_state("receipt_long", "No payments yet.", "Make a payment", "/payments/new")
            else:
                text = "No payments with this status." if self.within is None and self.customer_id is None \
                    else "No payments match these filters."
                empty_state("filter_alt_off", text, "Show all payments", lambda: ui.navigate.to("/payments"))
            return
        columns = [*COLUMNS[:1], CUSTOMER_COLUMN, *COLUMNS[1:]] if self.user.is_admin else COLUMNS
        rows = [row(p, self.customers) for p in self.payments]
        table = ui.table(columns=columns, rows=rows, row_key="id").classes("w-full").mark("payments-table")
        table.props[":grid"] = PHONE_CARDS
        table.add_slot("body-cell-status", STATUS_CELL)
        table.add_slot("body-cell-id", ID_CELL)
        table.add_slot("item", CARD_ITEM)
        table.on("rowClick", self.open_row, [[], ["id"], None])
        with ui.row().classes("items-center gap-2"):
            ui.label(self.position()).classes("text-sm text-grey-7").mark("page-position")
            ui.button("Newer", icon="chevron_left", on_click=self.newer).props("flat") \
                .mark("page-newer").set_visibility(not self.on_first_page)
            if self.next_cursor:
                next_cursor = self.next_cursor
                ui.button("Older", icon="chevron_right", on_click=lambda: self.older(next_cursor)) \
                    .props("flat").mark("page-older")


def read_range(day_from: str | None, day_to: str | None, low: str | None, high: str | None,
               currency: str | None = "USD") -> PaymentRange | None:
    """The range filter's fields as a PaymentRange (None when all are empty); ValidationFailed for bad input.
    Amounts are read in `currency`'s major units (JPY has none after the point) and keep that currency's
    payments only."""
    def day(text: str | None, name: str) -> datetime | None:
        text = (text or "").strip()
        if not text:
            return None
        try:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        except ValueError:
            raise ValidationFailed.on(name, "must be a date such as 2026-01-31") from None

    def amount(text: str | None, name: str) -> int | None:
        text = (text or "").strip()
        return parse_major(text, currency or "USD", name) if text else None

    start, end = day(day_from, "From"), day(day_to, "To")
    low_minor, high_minor = amount(low, "Min amount"), amount(high, "Max amount")
    within = PaymentRange(start, end + timedelta(days=1) if end else None, low_minor, high_minor,
                          currency if low_minor is not None or high_minor is not None else None)
    within.check()
    return None if within == PaymentRange() else within


async def customers_of(container: Container, user: User) -> dict[str, User] | None:
    """Every user by id for an admin, whose lists name customers instead of showing `usr_…`; nobody for a
    customer, who sees only their own. None when the app is stopping."""
    if not user.is_admin:
        return {}
    users = await run.io_bound(container.users.list)
    return None if users is None else {u.id: u for u in users}


def register(container: Container) -> None:
    @page(container, "/payments", TITLE, "receipt_long")
    async def history_page(user: User) -> None:
        customers = await customers_of(container, user)
        if customers is None:  # the app is stopping
            return
        table = PaymentTable(container, user, customers)
        await table.reload()
        with ui.row().classes("items-center gap-2 w-full"):
            table.status_filter()
            if user.is_admin:
                table.customer_filter()
            table.range_filter()
        table.draw()
        on_events(container, table.on_event)
