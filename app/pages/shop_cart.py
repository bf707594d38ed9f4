"""The cart of Product Orders: a side panel on wide screens, a badge button and a bottom sheet on phones,
and the quantity stepper that the cart lines and the product cards share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import still_signed_in
from app.pages.widgets import confirm, empty_state
from domain.model.cart import MAX_QUANTITY, Cart, CartLine
from domain.model.catalog import Product
from domain.model.errors import DomainError
from domain.model.events import Event
from domain.model.money import format_money
from domain.model.users import User

CHECKOUT_PATH = "/payments/new"


def sentence(text: str) -> str:
    """A domain message ("only 2 of Mug in stock") as a sentence: a capital first, a full stop last."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def most_allowed(product: Product) -> int:
    """The most of `product` one cart may hold: its stock, and never more than the cart's limit per line."""
    return max(0, min(product.stock, MAX_QUANTITY))


def wrapped_name(name: str, classes: str) -> ui.label:
    """A product name that wraps (even one long word) within two lines; the whole name as its tooltip."""
    label = ui.label(name).classes(f"min-w-0 break-words line-clamp-2 {classes}").style("overflow-wrap: anywhere")
    label.props["title"] = name  # a value, never written into a props string
    return label


class Stepper:
    """− n +: a whole number from `low` to `high`, one step per press. It shows the new number at once and
    then tells `on_change`, so quick presses add up even while a change is still on its way to the server."""

    def __init__(self, value: int, low: int, high: int, on_change: Callable[[int], Awaitable[None] | None],
                 marker: str, what: str) -> None:
        self.value, self.low, self.high = value, low, high
        self.on_change = on_change
        with ui.row().classes("items-center gap-0 no-wrap").mark(f"{marker}-stepper"):
            self.minus = ui.button(icon="remove", on_click=lambda: self.step(-1)) \
                .props("round dense flat size=sm").mark(f"{marker}-minus")
            self.minus.props["aria-label"] = f"One less {what}"
            self.label = ui.label().classes("w-8 text-center font-medium").mark(f"{marker}-qty")
            self.label.props["aria-live"] = "polite"
            self.plus = ui.button(icon="add", on_click=lambda: self.step(1)) \
                .props("round dense flat size=sm").mark(f"{marker}-plus")
            self.plus.props["aria-label"] = f"One more {what}"
        self.show()

    def show(self) -> None:
        self.label.set_text(str(self.value))
        self.minus.set_enabled(self.value > self.low)
        self.plus.set_enabled(self.value < self.high)

    def limit(self, high: int) -> None:
        """A new upper bound (the stock, or what is left of it); the number is pulled down to it."""
        self.high = high
        self.value = max(self.low, min(self.value, high))
        self.show()

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            self.show()
        else:
            self.minus.disable()
            self.plus.disable()

    async def step(self, delta: int) -> None:
        value = self.value + delta
        if not self.low <= value <= self.high:
            return
        self.value = value
        self.show()
        result = self.on_change(value)
        if result is not None:
            await result


class CartPanel:
    """The cart: its lines (name, quantity stepper, unit price, line total, remove) and their problems, the total,
    "Proceed to Payment" and "Empty cart". It owns the cart's changes made on this page, made one at a time,
    and tells `on_change` (the product grid) the cart after each."""

    def __init__(self, container: Container, user: User, on_change: Callable[[Cart], None]) -> None:
        self.container = container
        self.user = user
        self.on_change = on_change
        self.cart = Cart([])
        self._reading = asyncio.Lock()
        self._writing = asyncio.Lock()  # one change at a time, in the order they were asked for
        self.badge: ui.badge | None = None
        self.cart_button: ui.button | None = None

    @property
    def drawn(self) -> tuple[int, int]:
        """What the panel shows, as a cart event tells it: (total, item count)."""
        return self.cart.total, self.cart.item_count

    def quantity_of(self, product_id: str) -> int:
        return next((line.quantity for line in self.cart.lines if line.product.id == product_id), 0)

    def show(self, cart: Cart) -> None:
        self.cart = cart
        self.draw.refresh()
        self._show_count()
        self.on_change(cart)

    async def reload(self) -> None:
        async with self._reading:
            cart = await run.io_bound(self.container.cart.view, self.user)
            if cart is None:  # run.io_bound's None: the app is stopping
                return
            self.show(cart)

    async def set_quantity(self, product: Product, quantity: int) -> None:
        if await still_signed_in(self.container) is None:
            return
        async with self._writing:
            await self._write(product, quantity)

    async def add(self, product: Product, quantity: int) -> None:
        """Add `quantity` more of `product` to what the cart holds of it now."""
        if await still_signed_in(self.container) is None:
            return
        async with self._writing:
            await self._write(product, self.quantity_of(product.id) + quantity)

    async def _write(self, product: Product, quantity: int) -> None:
        try:
            cart = await run.io_bound(self.container.cart.set_quantity, self.user, product.id, quantity)
        except DomainError as e:
            ui.notify(sentence(e.message), type="warning")
            self.show(self.cart)  # a stepper that ran ahead shows the cart's number again
            return
        if cart is None:  # run.io_bound's None: the app is stopping
            return
        self.show(cart)

    async def remove(self, product: Product) -> None:
        await self.set_quantity(product, 0)

    async def empty(self) -> None:
        count = self.cart.item_count
        if not await confirm(f"Empty your cart? All {count} item(s) in it will be removed.", "Empty cart"):
            return
        if await still_signed_in(self.container) is None:
            return
        async with self._writing:
            await run.io_bound(self.container.cart.clear, self.user)
            self.show(Cart([]))

    def on_event(self, event: Event) -> Awaitable[None] | None:
        """A change made here is drawn already; only a change from elsewhere (another tab, the API) is read."""
        drawn = (event.data.get("totalAmount"), event.data.get("itemCount"))
        if event.type == "cart.updated" and event.customer_id == self.user.id and drawn != self.drawn:
            return self.reload()
        return None

    @ui.refreshable_method
    def draw(self) -> None:
        cart = self.cart
        with ui.row().classes("items-center gap-2 no-wrap"):
            ui.icon("shopping_cart")
            ui.label(f"Cart ({cart.item_count})").classes("text-lg font-semibold").mark("cart-title")
        if not cart.lines:
            empty_state("remove_shopping_cart", "Your cart is empty. Choose a quantity on a product and press "
                                                "Add to Cart.").mark("empty-state", "cart-empty")
            return
        for line in cart.lines:
            self._line(line)
        ui.separator()
        with ui.row().classes("w-full justify-between"):
            ui.label("Total").classes("font-semibold")
            ui.label(format_money(cart.total, cart.currency or "USD")).classes("font-bold").mark("cart-total")
        ui.button("Proceed to Payment", icon="payments", on_click=lambda: ui.navigate.to(CHECKOUT_PATH)) \
            .classes("w-full").mark("checkout")
        ui.button("Empty cart", icon="delete_sweep", on_click=self.empty) \
            .props("flat dense color=negative").classes("w-full").mark("empty-cart")

    def _line(self, line: CartLine) -> None:
        product = line.product
        with ui.column().classes("w-full gap-0").mark(f"line-{product.id}"):
            with ui.row().classes("w-full items-start justify-between gap-1 no-wrap"):
                wrapped_name(product.name, "flex-1 text-sm font-medium pt-1").mark(f"line-name-{product.id}")
                remove = ui.button(icon="close", on_click=lambda: self.remove(product)) \
                    .props("flat round dense size=sm").mark(f"remove-{product.id}")
                remove.props["aria-label"] = f"Remove {product.name} from the cart"
            with ui.row().classes("w-full items-center justify-between gap-x-2 gap-y-0"):
                Stepper(line.quantity, 1, max(line.quantity, most_allowed(product)),
                        lambda quantity: self.set_quantity(product, quantity), f"line-{product.id}", product.name)
                ui.label(f"{format_money(product.unit_price_minor, product.currency)} each") \
                    .classes("text-xs text-grey-7").mark(f"line-price-{product.id}")
                ui.label(format_money(line.line_total, product.currency)) \
                    .classes("text-sm font-semibold ml-auto").mark(f"line-total-{product.id}")
            if line.problem:
                ui.label(sentence(line.problem)).classes("text-xs text-negative").mark("cart-problem")

    def _show_count(self) -> None:
        count = self.cart.item_count
        if self.badge is not None:
            self.badge.set_text(str(count))
            self.badge.set_visibility(count > 0)
        if self.cart_button is not None:
            self.cart_button.props["aria-label"] = f"Cart: {count} item(s)"
            self.cart_button.update()

    def side_panel(self) -> None:
        """Wide screens: the cart beside the products, following the page as it scrolls."""
        with ui.card().classes("w-80 shrink-0 sticky top-20 max-h-[calc(100vh-6rem)] overflow-y-auto "
                               "max-md:hidden").mark("cart-panel"):
            self.draw()

    def phone_sheet(self) -> None:
        """Narrow screens: a round cart button with the item count in the bottom corner, which opens the cart
        as a sheet from the bottom. The sheet's lines are drawn only while it is open."""
        with ui.dialog().props("position=bottom") as sheet, \
                ui.card().classes("relative w-full max-h-[80vh] overflow-y-auto").mark("cart-sheet") as body:
            pass

        def opened_or_closed(open_: bool) -> None:
            body.clear()
            if open_:
                with body:
                    close = ui.button(icon="expand_more", on_click=sheet.close) \
                        .props("flat round dense").classes("absolute top-2 right-2").mark("close-sheet")
                    close.props["aria-label"] = "Close the cart"
                    self.draw()

        sheet.on_value_change(lambda e: opened_or_closed(bool(e.value)))
        with ui.page_sticky("bottom-right", x_offset=16, y_offset=16).classes("md:hidden"):
            self.cart_button = ui.button(icon="shopping_cart", on_click=sheet.open) \
                .props("fab color=primary").mark("cart-button")
            with self.cart_button:
                self.badge = ui.badge("0", color="negative").props("floating").mark("cart-count")
        self._show_count()
