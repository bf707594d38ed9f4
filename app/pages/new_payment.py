"""New Payment: a one-off payment, or the cart paid as an order; what was paid follows live beside the form."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import page, still_signed_in
from app.pages.widgets import attempt, clear_field_errors, on_events, payment_url, set_status, status_badge
from domain.model.cart import Cart
from domain.model.errors import CartChanged, ValidationFailed
from domain.model.events import Event
from domain.model.money import CURRENCIES, format_money, parse_major, to_major
from domain.model.orders import Order
from domain.model.payments import Payment
from domain.model.statuses import PaymentStatus
from domain.model.users import User
from domain.services.processor import CIRCUIT_OPEN

TITLE = "New Payment"
METHODS = {"credit_card": "Credit card", "debit_card": "Debit card", "bank_transfer": "Bank transfer",
           "wallet": "Wallet"}
CARD_METHODS = {"credit_card", "debit_card"}


def _int_or_raw(text: str | None) -> Any:
    text = (text or "").strip()
    return int(text) if text.isdigit() else text


IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.PROCESSING, PaymentStatus.RETRYING)
SHOWN_IN_FLIGHT = 5  # the caller's newest payments still on their way, shown again after a refresh


def retry_text(data: dict[str, Any], attempts: int, now: datetime, waiting_for_provider: bool) -> str:
    """What a retrying payment is waiting for, said so that nobody presses Pay again: the gateway
    retries by itself. `attempts` is the policy's most (its retries + 1); `waiting_for_provider` when the
    payment waits on an open circuit, which spends no attempt."""
    if waiting_for_provider:
        return "The card processor is not answering; sending as soon as it recovers"
    attempt_no = min(int(data["retryCount"]) + 1, attempts)
    due = datetime.fromisoformat(data["nextAttemptAt"]) if data.get("nextAttemptAt") else None
    seconds = max(0, math.ceil((due - now).total_seconds())) if due is not None else 0
    when = f"in {seconds} s" if seconds else "now"
    return f"Card processor busy; retrying automatically {when} (attempt {attempt_no} of {attempts})"


def payment_status_card(container: Container, payment: Payment) -> None:
    """A card that follows one payment live: pending → processing → completed or failed."""
    with ui.card().classes("w-full").mark("payment-status"):
        with ui.row().classes("items-center justify-between w-full"):
            ui.label(format_money(payment.amount, payment.currency)).classes("text-lg font-semibold")
            badge = status_badge(payment.status).mark("payment-status-badge")
        ui.link(payment.id, payment_url(payment.id)).classes("text-xs font-mono break-all").mark("payment-link")
        detail = ui.label("").classes("text-sm").mark("payment-detail")
    attempts = container.settings.retry_max + 1
    seen: dict[str, Any] = {"data": payment.public(), "retries": None, "waiting": False}

    def show(data: dict[str, Any]) -> None:
        # A wait on an open circuit keeps the retry count: no attempt was spent.
        seen["waiting"] = data["status"] == "retrying" and data["failureCode"] == "provider_unavailable" and (
            data["retryCount"] == seen["retries"] or data["failureMessage"] == CIRCUIT_OPEN[1])
        seen["data"], seen["retries"] = data, data["retryCount"]
        set_status(badge, data["status"])
        if data["status"] == "failed":
            detail.set_text(f"Failed: {data['failureMessage']} ({data['failureCode']})")
        elif data["status"] == "retrying":
            detail.set_text(retry_text(data, attempts, container.clock.now(), seen["waiting"]))
        elif data["status"] == "completed":
            detail.set_text(f"Completed · transaction {data['transactionId']}")
        else:
            detail.set_text("")

    def tick() -> None:  # the countdown to the next attempt
        if seen["data"]["status"] == "retrying":
            detail.set_text(retry_text(seen["data"], attempts, container.clock.now(), seen["waiting"]))

    def on_event(event: Event) -> None:
        if event.aggregate_id == payment.id and event.type.startswith("payment."):
            show(event.data)

    show(payment.public())
    ui.timer(1.0, tick)
    on_events(container, on_event)


def order_status_card(container: Container, order: Order, payment: Payment) -> None:
    """The order a cart became: its id, items, total and status (live), with its payment inside."""
    with ui.card().classes("w-full gap-1").mark("order-status"):
        with ui.row().classes("items-center justify-between w-full"):
            ui.label("Order").classes("text-lg font-semibold")
            badge = status_badge(order.status).mark("order-status-badge")
        ui.label(order.id).classes("text-xs text-grey-7 font-mono").mark("order-id")
        for item in order.items:
            with ui.row().classes("w-full justify-between no-wrap").mark("order-item"):
                ui.label(f"{item.quantity} × {item.name}").classes("text-sm")
                ui.label(format_money(item.line_total, order.currency)).classes("text-sm")
        with ui.row().classes("w-full justify-between"):
            ui.label("Total").classes("font-semibold")
            ui.label(format_money(order.total_amount, order.currency)).classes("font-bold").mark("order-total")
        payment_status_card(container, payment)

    def on_event(event: Event) -> None:
        if event.aggregate_id == order.id and event.type.startswith("order."):
            set_status(badge, event.data["status"])

    on_events(container, on_event)


class PaymentForm:
    """The New Payment form. The cart integration hooks into `amount` and `description`."""

    def __init__(self, container: Container, user: User, results: ui.column) -> None:
        self.container = container
        self.user = user
        self.results = results
        self.key = uuid.uuid4().hex  # one key per form: a double click cannot pay twice
        self.cart_box: CartBox | None = None
        self.amount = ui.input("Amount", placeholder="10.00").props("outlined inputmode=decimal") \
            .classes("w-full").mark("amount")
        self.currency = ui.select(list(CURRENCIES), value="USD", label="Currency").props("outlined") \
            .classes("w-full").mark("currency")
        self.description = ui.input("Description").props("outlined maxlength=500").classes("w-full") \
            .mark("description")
        self.method = ui.select(METHODS, value="credit_card", label="Payment method").props("outlined") \
            .classes("w-full").mark("method")
        with ui.column().classes("w-full gap-2") as self.card_fields:
            self.number = ui.input("Card number", placeholder="4242 4242 4242 4242") \
                .props("outlined inputmode=numeric autocomplete=cc-number").classes("w-full").mark("card-number")
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.exp_month = ui.input("Month", placeholder="MM").props("outlined inputmode=numeric") \
                    .classes("flex-1").mark("card-exp-month")
                self.exp_year = ui.input("Year", placeholder="YYYY").props("outlined inputmode=numeric") \
                    .classes("flex-1").mark("card-exp-year")
                self.cvc = ui.input("CVC", password=True).props("outlined inputmode=numeric autocomplete=cc-csc") \
                    .classes("flex-1").mark("card-cvc")
        self.card_fields.bind_visibility_from(self.method, "value", backward=lambda m: m in CARD_METHODS)
        self.error = ui.label("").classes("text-negative text-sm").mark("form-error")
        self.button = ui.button("Pay", icon="lock", on_click=self.submit).classes("w-full").mark("pay-button")
        self.fields = {"amount": self.amount, "currency": self.currency, "description": self.description,
                       "paymentMethod": self.method, "card.number": self.number, "card.expMonth": self.exp_month,
                       "card.expYear": self.exp_year, "card.cvc": self.cvc}

    def raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "amount": parse_major((self.amount.value or "").strip() or "0", self.currency.value, "amount"),
            "currency": self.currency.value,
            "description": self.description.value or "",
            "paymentMethod": self.method.value,
            "idempotencyKey": self.key,
        }
        if self.method.value in CARD_METHODS:
            raw["card"] = {"number": (self.number.value or "").replace(" ", ""),
                           "expMonth": _int_or_raw(self.exp_month.value),
                           "expYear": _int_or_raw(self.exp_year.value), "cvc": (self.cvc.value or "").strip()}
        return raw

    async def submit(self) -> None:
        async def pay() -> tuple[Payment, Order | None] | None:
            # What the customer confirmed is read as they press Pay, before anything waits (the cart box may
            # follow a new total meanwhile, which they have not seen).
            raw = self.raw()
            if raw["amount"] == 0:
                raise ValidationFailed.on("amount", "enter an amount greater than zero")
            from_cart = self.cart_box is not None and self.cart_box.matches()
            user = await still_signed_in(self.container)
            if user is None:
                return None
            self.user = user  # act as the user is now, not as the page loaded them
            return await self.place(raw, from_cart)

        ok, paid = await attempt(pay, self.fields, self.error)
        if not ok or paid is None:
            return
        payment, order = paid
        await self.reset()
        with self.results:
            if order is not None:
                order_status_card(self.container, order, payment)
            else:
                payment_status_card(self.container, payment)
        ui.notify("Order placed" if order is not None else "Payment submitted", type="positive")

    async def place(self, raw: dict[str, Any], from_cart: bool) -> tuple[Payment, Order | None] | None:
        """Pay the cart (an order, priced on the server) when the amount was its total, else a one-off payment.
        The order is held to that amount: when the server's total differs (a price changed), nothing is charged,
        CartChanged is raised and the cart box shows the cart as it is now. None when the app is stopping
        (run.io_bound gives None then)."""
        self.button.props("loading")
        try:
            if from_cart and self.cart_box is not None:
                try:
                    placed = await run.io_bound(self.container.orders.place, self.user, raw,
                                                expected_total=raw["amount"])
                except CartChanged:
                    await self.cart_box.reload()
                    raise
                if placed is None:
                    return None
                order, _ = placed
                assert order.payment_id is not None, "an order is placed with its payment"
                payment = await run.io_bound(self.container.payments.get, self.user, order.payment_id)
                return None if payment is None else (payment, order)
            submitted = await run.io_bound(self.container.payments.submit, self.user, raw)
            if submitted is None:
                return None
            payment, _ = submitted
            return payment, None
        finally:
            self.button.props(remove="loading")

    async def reset(self) -> None:
        """Start afresh after a payment: nothing of it is left to be paid again by another press of Pay."""
        self.key = uuid.uuid4().hex
        for field in (self.amount, self.description, self.number, self.exp_month, self.exp_year, self.cvc):
            field.value = ""
        clear_field_errors(self.fields.values(), self.error)
        if self.cart_box is not None:
            await self.cart_box.reload()  # an ordered cart is empty now; one still full offers its total again


class CartBox:
    """The green box of New Payment: the cart's total drives the amount while they agree."""

    def __init__(self, container: Container, user: User, form: PaymentForm, cart: Cart) -> None:
        self.container = container
        self.user = user
        self.form = form
        self.cart = cart
        self._reading = asyncio.Lock()
        with ui.card().classes("w-full bg-green-1 border border-green-6 gap-1").mark("cart-box") as self.card:
            with ui.row().classes("items-center gap-2"):
                ui.icon("shopping_cart", color="green-9")
                self.summary = ui.label("").classes("font-semibold text-green-10").mark("cart-summary")
            self.note = ui.label("✓ Amount automatically set to cart total").classes("text-sm text-green-9") \
                .mark("cart-auto-note")
            self.problems = ui.label("").classes("text-sm text-negative").mark("cart-problems")
            self.button = ui.button("Use Cart Total", icon="sync", on_click=self.use_total) \
                .props("outline color=green-9 dense no-caps").mark("use-cart-total")
        form.amount.on_value_change(lambda _: self.show())
        form.cart_box = self
        if self.cart.lines:
            self.use_total()
        self.show()

    @property
    def product_ids(self) -> set[str]:
        return {line.product.id for line in self.cart.lines}

    @property
    def total_text(self) -> str:
        return str(to_major(self.cart.total, self.cart.currency or "USD"))

    def matches(self) -> bool:
        """Whether the form's amount is the cart total right now (compared exactly, as Decimals)."""
        if not self.cart.lines:
            return False
        currency = self.cart.currency
        assert currency is not None, "a cart with lines has their currency"
        if self.form.currency.value != currency:
            return False
        try:
            return Decimal((self.form.amount.value or "").strip()) == to_major(self.cart.total, currency)
        except InvalidOperation:
            return False

    def use_total(self) -> None:
        if not self.cart.lines:
            return
        self.form.currency.value = self.cart.currency
        self.form.amount.value = self.total_text
        self.form.description.value = f"Payment for {self.cart.item_count} item(s) from cart"
        self.show()

    def show(self) -> None:
        self.card.set_visibility(bool(self.cart.lines))
        self.summary.set_text(f"Cart: {self.cart.item_count} item(s) · total "
                              f"{format_money(self.cart.total, self.cart.currency or 'USD')}")
        matches = self.matches()
        self.note.set_visibility(matches)
        self.button.set_text("Update Cart Total" if matches else "Use Cart Total")
        self.problems.set_text("; ".join(self.cart.problems))

    async def reload(self) -> None:
        """The cart changed (here, in another tab, or through the API): follow it."""
        async with self._reading:  # in turn, so an older read cannot overwrite a newer one
            cart = await run.io_bound(self.container.cart.view, self.user)
            if cart is None:  # run.io_bound's None: the app is stopping
                return
            was_following = self.matches()
            self.cart = cart
            if was_following or not (self.form.amount.value or "").strip():
                self.use_total()
            self.show()


def register(container: Container) -> None:
    @page(container, "/payments/new", TITLE, "add_card")
    async def new_payment_page(user: User) -> None:
        cart = await run.io_bound(container.cart.view, user)
        if cart is None:  # run.io_bound's None: the app is stopping
            return
        with ui.row().classes("w-full gap-4 items-start flex-wrap"):
            with ui.card().classes("w-full sm:w-[28rem] gap-2"):
                box_slot = ui.column().classes("w-full")
                form_slot = ui.column().classes("w-full gap-2")
            results = ui.column().classes("flex-1 min-w-[18rem] gap-2").mark("payment-results")
            with form_slot:
                form = PaymentForm(container, user, results)
            with box_slot:
                box = CartBox(container, user, form, cart)

        def on_event(event: Event) -> Awaitable[None] | None:
            if event.type == "cart.updated" and event.customer_id == user.id:
                return box.reload()
            if event.type.startswith("product.") and event.aggregate_id in box.product_ids:
                return box.reload()  # a price or stock of the cart changed: show the total as it is now
            return None

        on_events(container, on_event)
        with results:  # a refresh during a payment: the caller's payments still on their way stay in view
            for payment in await run.io_bound(in_flight, container, user) or []:
                payment_status_card(container, payment)


def in_flight(container: Container, user: User) -> list[Payment]:
    """The caller's newest payments not yet completed or failed (theirs only, even for an admin)."""
    found: list[Payment] = []
    for status in IN_FLIGHT:
        page, _ = container.payments.list(user, status=status.value, limit=50)
        found += [p for p in page if p.customer_id == user.id]
    return sorted(found, key=lambda p: p.created_at, reverse=True)[:SHOWN_IN_FLIGHT]
