"""Product Orders: browse the catalogue, fill the server-side cart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import page, still_signed_in
from app.pages.widgets import on_events, product_image
from domain.model.cart import Cart
from domain.model.catalog import SORTS, Product, ProductQuery
from domain.model.errors import DomainError
from domain.model.events import Event
from domain.model.money import format_money
from domain.model.users import User

TITLE = "Product Orders"
SORT_LABELS = {None: "Featured", "price": "Price: low to high", "-price": "Price: high to low", "name": "Name: A–Z",
               "-name": "Name: Z–A", "newest": "Newest"}
assert set(SORT_LABELS) - {None} == set(SORTS)

SetQuantity = Callable[[Product, int], Awaitable[None]]


@dataclass(frozen=True)
class Filters:
    """What the shopper asked for: a category, words to look for, an order."""

    category: str | None = None
    search: str = ""
    sort: str | None = None

    def query(self) -> ProductQuery:
        return ProductQuery(category=self.category, search=self.search or None, sort_by=self.sort)


class ProductGrid:
    """The catalogue as cards, filtered and sorted, each showing how many of it are in the cart."""

    def __init__(self, container: Container, set_quantity: SetQuantity) -> None:
        self.container = container
        self.set_quantity = set_quantity
        self.filters = Filters()
        self.products: list[Product] = []
        self.in_cart: dict[str, int] = {}
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result

    def filter_bar(self, categories: list[str]) -> None:
        with ui.row().classes("w-full gap-2 items-end flex-wrap"):
            ui.select({None: "All categories", **{c: c.title() for c in categories}}, value=None, label="Category",
                      on_change=lambda e: self.refilter(replace(self.filters, category=e.value))) \
                .props("outlined dense").classes("w-44").mark("category-filter")
            ui.input("Search", on_change=lambda e: self.refilter(replace(self.filters, search=e.value or ""))) \
                .props("outlined dense clearable debounce=250").classes("w-56").mark("search")
            ui.select(SORT_LABELS, value=None, label="Sort by",
                      on_change=lambda e: self.refilter(replace(self.filters, sort=e.value))) \
                .props("outlined dense").classes("w-48").mark("sort")

    async def refilter(self, filters: Filters) -> None:
        self.filters = filters
        await self.reload()

    async def reload(self) -> None:
        async with self._reading:
            products = await run.io_bound(self.container.catalog.browse, self.filters.query())
            if products is None:  # run.io_bound's None: the app is stopping
                return
            self.products = products
        self.draw.refresh()

    def show_cart(self, cart: Cart) -> None:
        self.in_cart = {line.product.id: line.quantity for line in cart.lines}
        self.draw.refresh()

    @ui.refreshable_method
    def draw(self) -> None:
        if not self.products:
            ui.label("No products match your search.").classes("text-grey-7").mark("empty-state")
            return
        with ui.element("div").classes("grid gap-4 w-full grid-cols-1 sm:grid-cols-2 lg:grid-cols-3"):
            for product in self.products:
                self._card(product, self.in_cart.get(product.id, 0))

    def _card(self, product: Product, quantity: int) -> None:
        with ui.card().classes("w-full p-0 gap-0").mark(f"product-{product.id}"):
            product_image(product).classes("w-full h-36").props("fit=cover")
            with ui.column().classes("p-3 gap-1 w-full"):
                ui.label(product.name).classes("font-semibold")
                ui.label(product.description).classes("text-xs text-grey-7 line-clamp-2")
                with ui.row().classes("w-full items-center justify-between"):
                    ui.label(format_money(product.unit_price_minor, product.currency)) \
                        .classes("text-lg font-bold").mark("price")
                    stock_text = f"{product.stock} in stock" if product.stock else "Out of stock"
                    ui.label(stock_text).classes("text-xs " + ("text-grey-7" if product.stock else "text-negative"))
                if quantity == 0:
                    button = ui.button("Add to Cart", icon="add_shopping_cart",
                                       on_click=lambda: self.set_quantity(product, 1)) \
                        .classes("w-full").mark(f"add-{product.id}")
                    if not product.purchasable:
                        button.disable()
                else:
                    self._quantity_row(product, quantity)

    def _quantity_row(self, product: Product, quantity: int) -> None:
        with ui.row().classes("w-full items-center justify-between"):
            ui.button(icon="remove", on_click=lambda: self.set_quantity(product, quantity - 1)) \
                .props("round dense flat").mark(f"minus-{product.id}").tooltip("One less")
            ui.label(f"{quantity} in cart").mark(f"qty-{product.id}")
            plus = ui.button(icon="add", on_click=lambda: self.set_quantity(product, quantity + 1)) \
                .props("round dense flat").mark(f"plus-{product.id}").tooltip("One more")
            if quantity >= product.stock:
                plus.disable()


class CartPanel:
    """The cart beside the products: its lines and their problems, the total, checkout. It owns the cart's
    changes made on this page, and tells `on_change` (the grid) the cart after each."""

    def __init__(self, container: Container, user: User, on_change: Callable[[Cart], None]) -> None:
        self.container = container
        self.user = user
        self.on_change = on_change
        self.cart = Cart([])
        self._reading = asyncio.Lock()

    @property
    def drawn(self) -> tuple[int, int]:
        """What the panel shows, as a cart event tells it: (total, item count)."""
        return self.cart.total, self.cart.item_count

    def show(self, cart: Cart) -> None:
        self.cart = cart
        self.draw.refresh()
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
        try:
            cart = await run.io_bound(self.container.cart.set_quantity, self.user, product.id, quantity)
        except DomainError as e:
            ui.notify(e.message, type="warning")
            return
        if cart is None:  # run.io_bound's None: the app is stopping
            return
        self.show(cart)

    async def empty(self) -> None:
        if await still_signed_in(self.container) is None:
            return
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
        with ui.row().classes("items-center gap-2"):
            ui.icon("shopping_cart")
            ui.label(f"Cart ({cart.item_count})").classes("text-lg font-semibold")
        if not cart.lines:
            ui.label("Your cart is empty.").classes("text-grey-7").mark("cart-empty")
            return
        for line in cart.lines:
            with ui.row().classes("w-full justify-between no-wrap"):
                ui.label(f"{line.quantity} × {line.product.name}").classes("text-sm")
                ui.label(format_money(line.line_total, line.product.currency)).classes("text-sm")
            if line.problem:
                ui.label(line.problem).classes("text-xs text-negative").mark("cart-problem")
        ui.separator()
        with ui.row().classes("w-full justify-between"):
            ui.label("Total").classes("font-semibold")
            ui.label(format_money(cart.total, cart.currency or "USD")).classes("font-bold").mark("cart-total")
        ui.button("Checkout", icon="payments", on_click=lambda: ui.navigate.to("/payments/new")) \
            .classes("w-full").mark("checkout")
        ui.button("Empty cart", on_click=self.empty).props("flat dense").classes("w-full").mark("empty-cart")


def register(container: Container) -> None:
    @page(container, "/shop", TITLE, "storefront")
    async def shop_page(user: User) -> None:
        grid = ProductGrid(container, lambda product, quantity: panel.set_quantity(product, quantity))
        panel = CartPanel(container, user, on_change=grid.show_cart)
        categories = await run.io_bound(container.catalog.categories)
        if categories is None:  # run.io_bound's None: the app is stopping
            return
        await grid.reload()
        await panel.reload()

        grid.filter_bar(categories)
        with ui.row().classes("w-full gap-4 items-start no-wrap max-md:flex-wrap"):
            with ui.column().classes("flex-1 min-w-0"):
                grid.draw()
            with ui.card().classes("w-80 max-md:w-full max-md:order-first sticky top-20").mark("cart-panel"):
                panel.draw()

        def on_event(event: Event) -> Awaitable[None] | None:
            if event.type.startswith("product."):
                return grid.reload()
            return panel.on_event(event)

        on_events(container, on_event)
