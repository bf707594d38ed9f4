"""New Payment: a one-off payment, or the cart paid as an order; what was paid follows live beside the form."""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nicegui import run, ui

from app.bootstrap import Container
from app.customer_limits import within_limit
from app.pages.cart_summary import AmountFields, CartBox
from app.pages.guard import page, still_signed_in
from app.pages.payment_fields import as_sentences, read_amount, read_card
from app.pages.widgets import (
    attempt,
    clear_field_errors,
    on_events,
    order_url,
    payment_url,
    set_status,
    status_badge,
)
from domain.model.errors import CartChanged, DomainError, FieldError, NotFound, ValidationFailed
from domain.model.events import Event
from domain.model.money import CURRENCIES, MAX_AMOUNT_MINOR, format_money
from domain.model.orders import Order
from domain.model.payments import MAX_DESCRIPTION, Payment
from domain.model.statuses import OrderStatus, PaymentStatus
from domain.model.users import User
from domain.services.processor import CIRCUIT_OPEN

TITLE = "New Payment"
METHODS = {"credit_card": "Credit card", "debit_card": "Debit card", "bank_transfer": "Bank transfer",
           "wallet": "Wallet"}
CARD_METHODS = {"credit_card", "debit_card"}
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.PROCESSING, PaymentStatus.RETRYING)
SHOWN_IN_FLIGHT = 5  # the caller's newest payments still on their way, shown again after a refresh
TERMINAL = {PaymentStatus.COMPLETED, PaymentStatus.FAILED}
ORDER_STAGE = {OrderStatus.PENDING_PAYMENT: 0, OrderStatus.PAID: 1, OrderStatus.PAYMENT_FAILED: 1,
               OrderStatus.REFUNDED: 2}  # an order only moves forward: a late event never moves it back


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


def newer(shown: dict[str, Any], data: dict[str, Any]) -> bool:
    """Whether `data` may replace what is shown: events arrive at least once and a read may overtake them,
    so an older state (by updatedAt, or a payment leaving a final status) is ignored."""
    if shown["status"] in TERMINAL and data["status"] != shown["status"]:
        return False
    return bool(data.get("updatedAt", "") >= shown.get("updatedAt", ""))


def payment_status_card(container: Container, payment: Payment) -> Callable[[dict[str, Any]], None]:
    """A card that follows one payment live: pending → processing → completed or failed.
    Returns the function that shows a newer state of it (a fresh read, say)."""
    with ui.card().classes("w-full").mark("payment-status"):
        with ui.row().classes("items-center justify-between w-full"):
            ui.label(format_money(payment.amount, payment.currency)).classes("text-lg font-semibold")
            badge = status_badge(payment.status).mark("payment-status-badge")
        ui.link(payment.id, payment_url(payment.id)).classes("text-xs font-mono break-all").mark("payment-link")
        detail = ui.label("").classes("text-sm").mark("payment-detail")
    attempts = container.settings.retry_max + 1
    seen: dict[str, Any] = {"data": payment.public(), "retries": None, "waiting": False}

    def show(data: dict[str, Any]) -> None:
        if not newer(seen["data"], data):
            return
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
    return show


class OrderConfirmation:
    """What a paid cart became: the order's number, items, total and status, live, with a link to its page
    and its payment inside."""

    def __init__(self, container: Container, user: User, order: Order, payment: Payment) -> None:
        self.container = container
        self.user = user
        self.order = order
        self.shown = order.public()
        with ui.card().classes("w-full gap-2").mark("order-status"):
            with ui.row().classes("items-center justify-between w-full gap-2"):
                with ui.row().classes("items-center gap-2 no-wrap"):
                    ui.icon("check_circle", color="positive", size="md")
                    ui.label("Thank you, your order is placed").classes("text-lg font-semibold") \
                        .mark("order-confirmed")
                self.badge = status_badge(order.status).mark("order-status-badge")
            with ui.column().classes("gap-0 w-full"):
                ui.label("Order number").classes("text-xs text-grey-7")
                ui.label(order.id).classes("font-mono break-all").mark("order-id")
            for item in order.items:
                with ui.row().classes("w-full items-start justify-between no-wrap gap-2").mark("order-item"):
                    with ui.column().classes("gap-0 min-w-0 flex-1"):
                        ui.label(item.name).classes("text-sm break-words w-full").mark("order-item-name")
                        ui.label(f"{item.quantity} × {format_money(item.unit_price_minor, order.currency)}") \
                            .classes("text-xs text-grey-7").mark("order-item-quantity")
                    ui.label(format_money(item.line_total, order.currency)).classes("text-sm shrink-0")
            ui.separator()
            with ui.row().classes("w-full justify-between no-wrap"):
                ui.label("Total").classes("font-semibold")
                ui.label(format_money(order.total_amount, order.currency)).classes("font-bold").mark("order-total")
            ui.link("View order", order_url(order.id)).mark("order-link")
            self.show_payment = payment_status_card(container, payment)
        on_events(container, self.on_event)

    def show(self, data: dict[str, Any]) -> None:
        stage = ORDER_STAGE.get(data["status"], 0)
        if stage < ORDER_STAGE.get(self.shown["status"], 0) or data["status"] == self.shown["status"]:
            return
        self.shown = data
        set_status(self.badge, data["status"])

    def on_event(self, event: Event) -> None:
        if event.aggregate_id == self.order.id and event.type.startswith("order."):
            self.show(event.data)

    async def catch_up(self) -> None:
        """Read the order and its payment once more: what happened before this card listened is shown too."""
        try:
            order = await run.io_bound(self.container.orders.get, self.user, self.order.id)
            payment = await run.io_bound(self.container.payments.get, self.user, self.order.payment_id or "")
        except NotFound:  # gone meanwhile (an admin deleted the user, say): the live events say no more either
            return
        if order is not None:  # None, like payment, when the app is stopping
            self.show(order.public())
        if payment is not None:
            self.show_payment(payment.public())


class PaymentForm:
    """The New Payment form. The cart box fills `amount`, `currency` and `description`."""

    def __init__(self, container: Container, user: User, results: ui.column) -> None:
        self.container = container
        self.user = user
        self.results = results
        self.key = uuid.uuid4().hex  # one key per form: a double click cannot pay twice
        self.busy = False
        self.cart_box: CartBox | None = None
        self.amount = ui.input("Amount", placeholder="10.00").props("outlined inputmode=decimal hide-bottom-space") \
            .classes("w-full").mark("amount")
        self.currency = ui.select(list(CURRENCIES), value="USD", label="Currency").props("outlined") \
            .classes("w-full").mark("currency")
        self.description = ui.input("Description").props("outlined hide-bottom-space counter").classes("w-full") \
            .mark("description")
        self.description.props["maxlength"] = MAX_DESCRIPTION
        self.description.props["hint"] = f"Optional · up to {MAX_DESCRIPTION} characters"
        self.method = ui.select(METHODS, value="credit_card", label="Payment method").props("outlined") \
            .classes("w-full").mark("method")
        with ui.column().classes("w-full gap-2") as self.card_fields:
            self.number = ui.input("Card number", placeholder="4242 4242 4242 4242") \
                .props("outlined inputmode=numeric autocomplete=cc-number hide-bottom-space") \
                .classes("w-full").mark("card-number")
            self.number.props["hint"] = "The 12 to 19 digits on the front of the card"
            with ui.row().classes("w-full gap-2 no-wrap items-start"):
                self.exp_month = ui.input("Month", placeholder="MM") \
                    .props("outlined inputmode=numeric autocomplete=cc-exp-month hide-bottom-space no-error-icon") \
                    .classes("flex-1 min-w-0").mark("card-exp-month")
                self.exp_year = ui.input("Year", placeholder="YY") \
                    .props("outlined inputmode=numeric autocomplete=cc-exp-year hide-bottom-space no-error-icon") \
                    .classes("flex-1 min-w-0").mark("card-exp-year")
                self.cvc = ui.input("CVC", password=True) \
                    .props("outlined inputmode=numeric autocomplete=cc-csc hide-bottom-space no-error-icon") \
                    .classes("flex-1 min-w-0").mark("card-cvc")
            self.exp_month.props["hint"] = "1 to 12"
            self.exp_year.props["hint"] = "YY or YYYY"
            self.cvc.props["hint"] = "3 or 4 digits"
        self.card_fields.bind_visibility_from(self.method, "value", backward=lambda m: m in CARD_METHODS)
        self.currency.on_value_change(lambda _: self.hint_amount())
        self.hint_amount()
        self.error = ui.label("").classes("text-negative text-sm").mark("form-error")
        self.button = ui.button("Pay", icon="lock", on_click=self.submit).classes("w-full").mark("pay-button")
        self.fields = {"amount": self.amount, "currency": self.currency, "description": self.description,
                       "paymentMethod": self.method, "card.number": self.number, "card.expMonth": self.exp_month,
                       "card.expYear": self.exp_year, "card.cvc": self.cvc}
        for field in (self.amount, self.description, self.number, self.exp_month, self.exp_year, self.cvc):
            field.on("keydown.enter", self.submit)  # Enter pays, as it signs in on the login page

    @property
    def amount_fields(self) -> AmountFields:
        return AmountFields(self.amount, self.currency, self.description)

    def hint_amount(self) -> None:
        currency = self.currency.value
        decimals = CURRENCIES[currency]
        places = "whole numbers" if decimals == 0 else f"up to {decimals} decimals"
        self.amount.props["hint"] = f"In {currency}, {places}, at most {format_money(MAX_AMOUNT_MINOR, currency)}"

    def read(self) -> dict[str, Any]:
        """The form as the service takes it; ValidationFailed naming every field at fault, each in a sentence."""
        errors: list[FieldError] = []
        amount = read_amount(self.amount.value or "", self.currency.value)
        if isinstance(amount, str):
            errors.append(FieldError("amount", amount))
        description = self.description.value or ""
        if len(description) > MAX_DESCRIPTION:
            errors.append(FieldError("description", f"The description can have at most {MAX_DESCRIPTION} "
                                                    f"characters; it has {len(description)}."))
        raw: dict[str, Any] = {"amount": amount, "currency": self.currency.value, "description": description,
                               "paymentMethod": self.method.value, "idempotencyKey": self.key}
        if self.method.value in CARD_METHODS:
            raw["card"], card_errors = read_card(self.number.value or "", self.exp_month.value or "",
                                                 self.exp_year.value or "", self.cvc.value or "",
                                                 self.container.clock.now())
            errors += card_errors
        if errors:
            raise ValidationFailed.of(errors)
        return raw

    async def submit(self) -> None:
        if self.busy:  # Enter held down, or pressed while the payment is on its way
            return

        async def pay() -> tuple[Payment, Order | None] | None:
            # What the customer confirmed is read as they press Pay, before anything waits (the cart box may
            # follow a new total meanwhile, which they have not seen).
            raw = self.read()
            from_cart = self.cart_box is not None and self.cart_box.matches()
            user = await still_signed_in(self.container)
            if user is None:
                return None
            self.user = user  # act as the user is now, not as the page loaded them
            try:
                return await self.place(raw, from_cart)
            except DomainError as e:
                raise as_sentences(e) from None

        self.busy = True
        try:
            ok, paid = await attempt(pay, self.fields, self.error)
        finally:
            self.busy = False
        if not ok:
            if not self.error.text:
                self.error.set_text("Check the fields marked in red.")
            return
        if paid is None:
            return
        payment, order = paid
        await self.reset()
        with self.results:
            shown = ui.column().classes("w-full gap-2")
        shown.move(self.results, target_index=0)  # the newest first, as the payments still on their way are
        with shown:
            confirmation = None if order is None else OrderConfirmation(self.container, self.user, order, payment)
            if confirmation is None:
                payment_status_card(self.container, payment)
        # On a phone the results are under the form: bring what was paid into view (a div's own DOM method).
        shown.run_method("scrollIntoView", {"behavior": "smooth", "block": "nearest"})
        ui.notify("Payment submitted" if confirmation is None else "Order placed", type="positive")
        if confirmation is not None:
            await confirmation.catch_up()

    async def place(self, raw: dict[str, Any], from_cart: bool) -> tuple[Payment, Order | None] | None:
        """Pay the cart (an order, priced on the server) when the amount was its total, else a one-off payment.
        The order is held to that amount: when the server's total differs (a price changed), nothing is charged,
        CartChanged is raised and the cart box shows the cart as it is now. None when the app is stopping
        (run.io_bound gives None then)."""
        self.button.props("loading")
        try:
            if from_cart and self.cart_box is not None:
                try:
                    placed = await run.io_bound(within_limit, self.container, self.user.id, self.key,
                                                lambda: self.container.orders.place(self.user, raw,
                                                                                    expected_total=raw["amount"]))
                except CartChanged:
                    await self.cart_box.reload()
                    raise
                if placed is None:
                    return None
                order, _, _ = placed
                assert order.payment_id is not None, "an order is placed with its payment"
                payment = await run.io_bound(self.container.payments.get, self.user, order.payment_id)
                return None if payment is None else (payment, order)
            # Under the user's per-customer limit, as the API is: over it, a sentence and nothing stored.
            submitted = await run.io_bound(within_limit, self.container, self.user.id, self.key,
                                           lambda: self.container.payments.submit(self.user, raw))
            if submitted is None:
                return None
            payment, _, _ = submitted
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
                box = form.cart_box = CartBox(container, user, form.amount_fields, cart)

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
