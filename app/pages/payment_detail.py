"""Payment detail: one payment whole (its facts, audit trail, provider attempts and refunds), live;
an admin refunds it from here."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import Detail, detail_page, still_signed_in
from app.pages.home import EVENT_TEXT
from app.pages.widgets import (
    WRAPS,
    attempt,
    card_text,
    clear_field_errors,
    empty_state,
    fact,
    order_url,
    refund_badge,
    short_time,
    status_badge,
    status_color,
)
from domain.model.errors import NotFound, RefundExceedsPayment, ValidationFailed
from domain.model.events import Event
from domain.model.money import CURRENCIES, format_money, parse_major, to_major
from domain.model.payments import Payment
from domain.model.providers import Attempt
from domain.model.refunds import REASONS, Refund
from domain.model.statuses import OrderStatus, PaymentStatus, RefundStatus
from domain.model.users import User

TITLE = "Payment"
REASON_TEXT = {reason: reason.replace("_", " ").capitalize() for reason in REASONS}
TIMELINE_TEXT = {**EVENT_TEXT, "refund.created": "Refund requested", "refund.succeeded": "Refund succeeded",
                 "refund.failed": "Refund failed"}
TIMELINE_LOOK = {"payment.created": ("add_circle", "grey-7"), "payment.processing": ("sync", "info"),
                 "payment.retry": ("schedule", "orange-8"), "payment.completed": ("check_circle", "positive"),
                 "payment.failed": ("cancel", "negative"), "refund.created": ("undo", "grey-7"),
                 "refund.succeeded": ("undo", "positive"), "refund.failed": ("undo", "negative")}
ATTEMPT_COLUMNS = [{"name": "number", "label": "#", "field": "number", "align": "right"},
                   {"name": "kind", "label": "Kind", "field": "kind", "align": "left"},
                   {"name": "provider", "label": "Provider", "field": "provider", "align": "left"},
                   {"name": "startedAt", "label": "Time", "field": "startedAt", "align": "left"},
                   {"name": "latency", "label": "Latency ms", "field": "latency", "align": "right"},
                   {"name": "outcome", "label": "Outcome", "field": "outcome", "align": "left"},
                   {"name": "code", "label": "Code", "field": "code", "align": "left"}]


@dataclass(frozen=True)
class Snapshot:
    """What the page shows of one payment, read in one go."""

    payment: Payment
    events: list[Event]  # its audit trail, oldest first (its refunds' events too)
    attempts: list[Attempt]
    refunds: list[Refund]
    customer: User | None  # who paid, for an admin (None for a customer, or when the account is gone)

    @property
    def left(self) -> int:
        """What may still be refunded: pending refunds are spoken for, failed ones gave theirs back."""
        taken = sum(r.amount for r in self.refunds if r.status != RefundStatus.FAILED)
        return max(self.payment.amount - taken, 0)

    @property
    def refundable(self) -> bool:
        return self.payment.status == PaymentStatus.COMPLETED and self.left > 0


def read(container: Container, user: User, payment_id: str) -> Snapshot:
    """The payment as `user` may see it (NotFound for another customer's); blocking, so call it in a thread."""
    payment = container.payments.get(user, payment_id)
    customer = None
    if user.is_admin:
        with suppress(NotFound):  # the account is gone: the page shows the customer's id
            customer = container.users.get(payment.customer_id)
    return Snapshot(payment, container.payments.events(user, payment_id), container.payments.attempts(user, payment_id),
                    container.refunds.list(user, payment_id), customer)


def method_text(payment: Payment) -> str:
    """How the payment was paid: "visa •••• 4242", or the method when there is no card."""
    if payment.card_last4:
        return card_text(payment.card_brand, payment.card_last4)
    from app.pages.new_payment import METHODS  # here: New Payment imports the order page, which imports this one

    return METHODS.get(payment.payment_method, payment.payment_method)


def describe(event: Event) -> str:
    """The line of the timeline under an event's title: what is worth knowing about it."""
    d: dict[str, Any] = event.data
    amount, currency = d.get("amount"), d.get("currency")
    money = format_money(amount, currency) if isinstance(amount, int) and currency in CURRENCIES else ""
    failure = f"{d['failureMessage']} ({d.get('failureCode')})" if d.get("failureMessage") else ""
    reason = REASON_TEXT.get(d.get("reason") or "", "")
    return {"payment.created": f"{money} submitted",
            "payment.processing": f"At {d.get('provider')}",
            "payment.retry": f"{failure} · retry {d.get('retryCount')}",
            "payment.completed": f"Transaction {d.get('transactionId')}",
            "payment.failed": failure,
            "refund.created": f"{money} · {reason}",
            "refund.succeeded": money,
            "refund.failed": f"{money} · {failure}"}.get(event.type, "")


def attempt_row(a: Attempt) -> dict[str, Any]:
    return {"number": a.number, "kind": a.kind, "provider": a.provider, "startedAt": short_time(a.started_at),
            "latency": "" if a.latency_ms is None else a.latency_ms, "outcome": a.outcome or "in flight",
            "code": a.code or ""}


class PaymentDetail:
    """The page's content for one payment, read again and redrawn whenever one of its events arrives."""

    def __init__(self, container: Container, user: User, snapshot: Snapshot) -> None:
        self.container = container
        self.user = user
        self.snapshot = snapshot
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result
        self.refund_dialog = RefundDialog(container, self) if user.is_admin else None

    async def reload(self) -> None:
        async with self._reading:
            snapshot = await run.io_bound(read, self.container, self.user, self.snapshot.payment.id)
            if snapshot is None:  # run.io_bound's None: the app is stopping
                return
            self.snapshot = snapshot
        self.draw.refresh()

    def on_event(self, event: Event) -> Awaitable[None] | None:
        if event.aggregate_id == self.snapshot.payment.id and event.type.startswith(("payment.", "refund.")):
            return self.reload()
        return None

    @ui.refreshable_method
    def draw(self) -> None:
        self.summary()
        with ui.element("div").classes("w-full grid grid-cols-1 lg:grid-cols-2 gap-4 items-start"):
            with ui.column().classes("gap-4 min-w-0"):
                self.details()
                self.refunds()
            self.timeline()
        self.attempts()

    def summary(self) -> None:
        p = self.snapshot.payment
        with ui.card().classes("w-full gap-2").mark("payment-summary"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label(format_money(p.amount, p.currency)).classes("text-3xl font-semibold").mark("payment-amount")
                status_badge(p.status).mark("payment-status-badge")
                if p.refunded_amount:
                    ui.badge("refunded" if p.refunded_amount >= p.amount else "partly refunded",
                             color=status_color(OrderStatus.REFUNDED)) \
                        .classes("text-sm").mark("refunded-badge")
                ui.space()
                if self.refund_dialog is not None and self.snapshot.refundable:
                    ui.button("Refund", icon="undo", on_click=self.refund_dialog.open) \
                        .props("outline color=negative").mark("refund-button")
            if p.description:
                ui.label(p.description).classes("text-grey-8 break-words [overflow-wrap:anywhere]") \
                    .mark("payment-description")
            if p.failure_message and p.status in (PaymentStatus.FAILED, PaymentStatus.RETRYING):
                ui.label(f"{p.failure_message} ({p.failure_code})").classes("text-negative").mark("payment-failure")

    def details(self) -> None:
        s, p = self.snapshot, self.snapshot.payment
        with ui.card().classes("w-full gap-1").mark("payment-facts"):
            ui.label("Details").classes("text-lg font-semibold")
            fact("Payment", p.id, "fact-id")
            fact("Paid with", method_text(p), "fact-card")
            if self.user.is_admin:
                fact("Customer", f"{s.customer.name} · {s.customer.email}" if s.customer else p.customer_id,
                     "fact-customer")
            fact("Provider", p.provider, "fact-provider")
            fact("Transaction", p.transaction_id or "—", "fact-transaction")
            if p.order_id:
                with ui.row().classes("w-full no-wrap gap-3 items-baseline"):
                    ui.label("Order").classes("w-28 shrink-0 text-sm text-grey-7")
                    ui.link(p.order_id, order_url(p.order_id)).classes(WRAPS) \
                        .mark("fact-order")
            fact("Refunded", f"{format_money(p.refunded_amount, p.currency)} of {format_money(p.amount, p.currency)}",
                 "refunded-amount")
            fact("Created", short_time(p.created_at), "fact-created")
            if p.completed_at:
                fact("Completed", short_time(p.completed_at), "fact-completed")

    def refunds(self) -> None:
        s = self.snapshot
        with ui.card().classes("w-full gap-1").mark("refunds"):
            ui.label("Refunds").classes("text-lg font-semibold")
            if not s.refunds:
                empty_state("currency_exchange", "No refunds.").mark("empty-state", "no-refunds")
            for r in s.refunds:
                with ui.row().classes("w-full items-center gap-x-3 gap-y-0 border-b border-gray-200 py-1") \
                        .mark("refund-row"):
                    ui.label(format_money(r.amount, r.currency)).classes("font-medium").mark("refund-amount-text")
                    refund_badge(r.status).mark("refund-status")
                    ui.label(REASON_TEXT.get(r.reason, r.reason)).classes("text-sm text-grey-8")
                    ui.label(short_time(r.created_at)).classes("text-xs text-grey-7")
                    if r.restock:
                        ui.label("stock back once refunded in full").classes("text-xs text-grey-7")
                    if r.status == RefundStatus.FAILED and r.failure_message:
                        ui.label(f"{r.failure_message} ({r.failure_code})").classes("w-full text-sm text-negative") \
                            .mark("refund-failure")
            if s.payment.status == PaymentStatus.COMPLETED:
                ui.label(f"{format_money(s.left, s.payment.currency)} left to refund").classes("text-sm text-grey-7") \
                    .mark("left-to-refund")

    def timeline(self) -> None:
        with ui.card().classes("w-full gap-1 min-w-0").mark("timeline-card"):
            ui.label("Timeline").classes("text-lg font-semibold")
            events = self.snapshot.events
            with ui.column().classes("w-full gap-0").mark("timeline"):
                for i, event in enumerate(events):
                    icon, color = TIMELINE_LOOK.get(event.type, ("circle", "grey"))
                    with ui.row().classes("w-full no-wrap gap-3 items-stretch").mark("timeline-entry"):
                        with ui.column().classes("items-center gap-0 shrink-0"):  # the dot and the line to the next
                            ui.icon(icon, color=color, size="sm")
                            if i < len(events) - 1:
                                ui.element("div").classes("w-px grow bg-gray-300")
                        with ui.column().classes("gap-0 pb-3 min-w-0"):
                            with ui.row().classes("items-baseline gap-x-2 gap-y-0"):
                                ui.label(TIMELINE_TEXT.get(event.type, event.type)).classes("font-medium") \
                                    .mark("timeline-title")
                                ui.label(short_time(event.created_at)).classes("text-xs text-grey-7")
                            ui.label(describe(event)).classes("text-sm text-grey-8 break-words "
                                                              "[overflow-wrap:anywhere]").mark("timeline-detail")

    def attempts(self) -> None:
        with ui.card().classes("w-full gap-1 min-w-0").mark("attempts-card"):
            ui.label("Provider attempts").classes("text-lg font-semibold")
            if not self.snapshot.attempts:
                empty_state("sync", "No provider calls yet. The gateway calls the card processor as soon as "
                            "the payment is processed.").mark("empty-state", "no-attempts")
                return
            # The table scrolls inside its own box on a narrow screen; the page does not.
            ui.table(columns=ATTEMPT_COLUMNS, rows=[attempt_row(a) for a in self.snapshot.attempts],
                     row_key="number").props("flat dense").classes("w-full").mark("attempts-table")


class RefundDialog:
    """Refund the payment: an amount (what is left, at first), a reason, stock back for an order, then a
    confirmation. One idempotency key per opening, so a double click refunds once."""

    def __init__(self, container: Container, detail: PaymentDetail) -> None:
        self.container = container
        self.detail = detail
        self.key = ""
        self.amount_minor = 0
        self.busy = False
        with ui.dialog() as self.dialog, ui.card().classes("w-[26rem] max-w-[94vw] gap-2").mark("refund-dialog"):
            ui.label("Refund").classes("text-lg font-semibold")
            self.note = ui.label("").classes("text-sm text-grey-8").mark("refund-left")
            with ui.column().classes("w-full gap-2") as self.form:
                self.amount = ui.input("Amount").props("outlined dense inputmode=decimal").classes("w-full") \
                    .mark("refund-amount")
                self.reason = ui.select(REASON_TEXT, value=REASONS[0], label="Reason").props("outlined dense") \
                    .classes("w-full").mark("refund-reason")
                self.restock = ui.checkbox("Return stock to inventory").mark("refund-restock")
                with ui.row().classes("w-full justify-end"):
                    ui.button("Cancel", on_click=self.dialog.close).props("flat").mark("refund-cancel")
                    ui.button("Continue", icon="arrow_forward", on_click=self.review).mark("refund-review")
            with ui.column().classes("w-full gap-2") as self.confirmation:
                self.question = ui.label("").classes("text-base").mark("refund-question")
                self.terms = ui.label("").classes("text-sm text-grey-8").mark("refund-terms")
                with ui.row().classes("w-full justify-end"):
                    ui.button("Cancel", on_click=self.dialog.close).props("flat").mark("refund-no")
                    self.confirm_button = ui.button("Confirm", icon="undo", on_click=self.submit) \
                        .props("color=negative").mark("refund-confirm")
            self.error = ui.label("").classes("text-negative text-sm").mark("refund-error")
        self.amount.on("keydown.enter", self.review)
        self.fields = {"amount": self.amount, "reason": self.reason}

    def step(self, confirming: bool) -> None:
        self.form.set_visibility(not confirming)
        self.confirmation.set_visibility(confirming)

    def open(self) -> None:
        s, p = self.detail.snapshot, self.detail.snapshot.payment
        self.key = uuid.uuid4().hex
        self.amount.value = str(to_major(s.left, p.currency))
        self.reason.value = REASONS[0]
        self.restock.value = False
        self.restock.set_visibility(p.order_id is not None)
        self.note.set_text(f"{format_money(s.left, p.currency)} of {format_money(p.amount, p.currency)} "
                           "left to refund")
        clear_field_errors(self.fields.values(), self.error)
        self.step(confirming=False)
        self.dialog.open()

    async def checked_amount(self) -> int:
        """The amount typed, in minor units (exactly: Decimal, never float), at most what is left."""
        s = self.detail.snapshot
        currency = s.payment.currency
        amount = parse_major((self.amount.value or "").strip() or "0", currency, "amount")
        if amount == 0:
            raise ValidationFailed.on("amount", "Enter an amount greater than zero.")
        if amount > s.left:
            raise ValidationFailed.on("amount", f"At most {format_money(s.left, currency)} is left to refund.")
        return amount

    async def review(self) -> None:
        ok, amount = await attempt(self.checked_amount, self.fields, self.error)
        if not ok or amount is None:
            return
        self.amount_minor = amount
        p = self.detail.snapshot.payment
        self.question.set_text(f"Refund {format_money(amount, p.currency)} of {format_money(p.amount, p.currency)} "
                               f"to {method_text(p)}?")
        restock = " · stock goes back to inventory once refunded in full" if self.restock.value else ""
        self.terms.set_text(f"Reason: {REASON_TEXT[self.reason.value]}{restock}")
        self.step(confirming=True)

    async def create(self) -> tuple[Refund, bool] | None:
        user = await still_signed_in(self.container, admin_only=True)
        if user is None:
            return None
        raw = {"amount": self.amount_minor, "reason": self.reason.value, "restock": bool(self.restock.value),
               "idempotencyKey": self.key}
        try:
            return await run.io_bound(self.container.refunds.create, user, self.detail.snapshot.payment.id, raw)
        except RefundExceedsPayment:
            await self.detail.reload()  # another refund took some meanwhile: say what is left now, in money
            s = self.detail.snapshot
            raise ValidationFailed.on("amount", f"At most {format_money(s.left, s.payment.currency)} is left "
                                                "to refund.") from None

    async def submit(self) -> None:
        if self.busy:  # a second click while the first is on its way
            return
        self.busy = True
        self.confirm_button.props("loading")
        try:
            ok, created = await attempt(self.create, self.fields, self.error)
        finally:
            self.busy = False
            self.confirm_button.props(remove="loading")
        if not ok:
            self.step(confirming=False)  # where the error shows, beside its field
            return
        if created is None:
            return
        refund, _ = created
        self.dialog.close()
        ui.notify(f"Refund of {format_money(refund.amount, refund.currency)} requested", type="positive")
        await self.detail.reload()  # shows it pending at once; its events turn it succeeded or failed


def register(container: Container) -> None:
    detail_page(container, "/payments/{key}", TITLE, Detail(
        "payment", "id", back=("Payment History", "/payments", "back-to-history"),
        read=lambda user, key: read(container, user, key),
        view=lambda user, snapshot: PaymentDetail(container, user, snapshot)))
