"""The green Cart Summary box of New Payment: the cart's lines and total, which drive the form's amount
while the amount is still the cart's total."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from nicegui import run, ui

from app.bootstrap import Container
from domain.model.cart import Cart
from domain.model.money import format_money, to_major
from domain.model.users import User

AUTO_NOTE = "✓ Amount automatically set to cart total"


class AmountFields(NamedTuple):
    """The fields of the payment form that the box fills."""

    amount: ui.input
    currency: ui.select
    description: ui.input


def contents(cart: Cart) -> tuple[Any, ...]:
    """What the cart holds and costs; two carts with equal contents need no new amount."""
    return cart.currency, tuple((line.product.id, line.quantity, line.product.unit_price_minor) for line in cart.lines)


def cart_description(cart: Cart) -> str:
    return f"Payment for {cart.item_count} item(s) from cart"


class CartBox:
    """The cart's lines, its total and the amount's relation to it.

    The amount follows the cart while it is the cart's total. Changed by hand, it stays: the box offers
    "Use Cart Total"; when the cart changes after the amount was set (by hand or by the box) and the amount
    did not follow, it offers "Update Cart Total" instead. Never both.
    """

    def __init__(self, container: Container, user: User, fields: AmountFields, cart: Cart) -> None:
        self.container = container
        self.user = user
        self.fields = fields
        self.cart = cart
        self.basis = contents(cart)  # the cart's contents when the amount was last set, by the box or by hand
        self.written_description: str | None = None  # the description the box wrote, while it stands
        self._writing = False  # the box is filling the form: not a change by hand
        self.by_hand = False  # the amount was last set by hand (cleared included), not by the box
        self._reading = asyncio.Lock()
        with ui.card().props("flat").classes("w-full bg-green-1 gap-2 border border-solid border-green-300") \
                .mark("cart-box") as self.card:
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("shopping_cart", color="green-9")
                ui.label("Cart Summary").classes("font-semibold text-green-10").mark("cart-summary-title")
            self.lines = ui.column().classes("w-full gap-1")
            ui.separator().classes("bg-green-3")
            with ui.row().classes("w-full items-center justify-between no-wrap"):
                self.count = ui.label("").classes("text-sm text-green-10").mark("cart-count")
                self.total = ui.label("").classes("font-bold text-green-10").mark("cart-total")
            self.note = ui.label(AUTO_NOTE).classes("text-sm text-green-9").mark("cart-auto-note")
            self.problems = ui.label("").classes("text-sm text-negative").mark("cart-problems")
            with ui.row().classes("gap-2"):
                self.use_button = ui.button("Use Cart Total", icon="sync", on_click=self.use_total) \
                    .props("outline color=green-9 dense").mark("use-cart-total")
                self.update_button = ui.button("Update Cart Total", icon="update", on_click=self.use_total) \
                    .props("outline color=green-9 dense").mark("update-cart-total")
        fields.amount.on_value_change(self._changed_by_hand)
        fields.currency.on_value_change(self._changed_by_hand)
        self.follow(cart)

    @property
    def product_ids(self) -> set[str]:
        return {line.product.id for line in self.cart.lines}

    def matches(self) -> bool:
        """Whether the form's amount is the cart total right now (compared exactly, as Decimals)."""
        currency = self.cart.currency
        if currency is None or self.fields.currency.value != currency:
            return False
        try:
            return Decimal((self.fields.amount.value or "").strip()) == to_major(self.cart.total, currency)
        except InvalidOperation:
            return False

    def use_total(self) -> None:
        """Set the amount (and the description, unless written by hand) to the cart's; empty when the cart is."""
        self._writing = True
        try:
            description = (self.fields.description.value or "").strip()
            own_description = not description or description == self.written_description
            if not self.cart.lines:
                self.fields.amount.value = ""
                if own_description:
                    self.fields.description.value = ""
                self.written_description = None
            else:
                self.fields.currency.value = self.cart.currency
                self.fields.amount.value = str(to_major(self.cart.total, self.cart.currency or "USD"))
                if own_description:
                    self.written_description = cart_description(self.cart)
                    self.fields.description.value = self.written_description
            self.basis = contents(self.cart)
            self.by_hand = False
        finally:
            self._writing = False
        self.show()

    def follow(self, cart: Cart) -> None:
        """Take the cart as it is now; the amount follows it if it was the old cart's total, or is empty
        without having been cleared by hand (a cleared amount stays cleared, as any amount set by hand)."""
        following = self.matches() or (not self.by_hand and not (self.fields.amount.value or "").strip())
        self.cart = cart
        if following:
            self.use_total()
        self.draw_lines()
        self.show()

    async def reload(self) -> None:
        """The cart changed (here, in another tab, or through the API): follow it."""
        async with self._reading:  # in turn, so an older read cannot overwrite a newer one
            cart = await run.io_bound(self.container.cart.view, self.user)
            if cart is None:  # run.io_bound's None: the app is stopping
                return
            self.follow(cart)

    def _changed_by_hand(self, _: Any) -> None:
        if not self._writing:
            self.basis = contents(self.cart)  # set by hand against the cart as it is now
            self.by_hand = True
        self.show()

    def draw_lines(self) -> None:
        currency = self.cart.currency or "USD"
        self.lines.clear()
        with self.lines:
            for line in self.cart.lines:
                with ui.row().classes("w-full items-start justify-between no-wrap gap-2").mark("cart-line"):
                    with ui.column().classes("gap-0 min-w-0 flex-1"):
                        ui.label(line.product.name).classes("text-sm break-words w-full").mark("cart-line-name")
                        ui.label(f"{line.quantity} × {format_money(line.product.unit_price_minor, currency)}") \
                            .classes("text-xs text-green-10").mark("cart-line-quantity")
                    ui.label(format_money(line.line_total, currency)).classes("text-sm shrink-0") \
                        .mark("cart-line-total")

    def show(self) -> None:
        self.card.set_visibility(bool(self.cart.lines))
        self.count.set_text(f"Total for {self.cart.item_count} item(s)")
        self.total.set_text(format_money(self.cart.total, self.cart.currency or "USD"))
        matches = self.matches()
        stale = not matches and self.basis != contents(self.cart)  # the cart changed after the amount was set
        self.note.set_visibility(matches)
        self.use_button.set_visibility(not matches and not stale)
        self.update_button.set_visibility(stale)
        self.problems.set_text("; ".join(self.cart.problems))
