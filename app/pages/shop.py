"""Product Orders: browse the catalogue (category, search, price range, sort) and fill the server-side cart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import page
from app.pages.shop_cart import CartPanel, Stepper, most_allowed, wrapped_name
from app.pages.widgets import empty_state, on_events, product_image
from domain.model.cart import Cart
from domain.model.catalog import SORTS, Product, ProductQuery, parse_price_filter
from domain.model.errors import ValidationFailed
from domain.model.events import Event
from domain.model.money import format_money
from domain.model.users import User

TITLE = "Product Orders"
SORT_LABELS = {None: "Featured", "price": "Price: low to high", "-price": "Price: high to low", "name": "Name: A–Z",
               "-name": "Name: Z–A", "newest": "Newest"}
assert set(SORT_LABELS) - {None} == set(SORTS)

Add = Callable[[Product, int], Awaitable[None]]


@dataclass(frozen=True)
class Filters:
    """What the shopper asked for: a category, words to look for, a price range (major units), an order."""

    category: str | None = None
    search: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    sort: str | None = None

    def query(self) -> ProductQuery:
        return ProductQuery(category=self.category, search=self.search or None, min_price=self.min_price,
                            max_price=self.max_price, sort_by=self.sort)

    @property
    def narrowing(self) -> bool:
        """Whether any filter (not the order) leaves products out."""
        return replace(self, sort=None) != Filters()


def price_range(low: str | None, high: str | None) -> tuple[Decimal | None, Decimal | None, list[str]]:
    """The price range typed in the two fields, read as the API reads minPrice and maxPrice;
    with a full sentence for each problem (and the range None where a field is at fault)."""
    prices: list[Decimal | None] = []
    problems: list[str] = []
    for text, name in ((low, "minimum price"), (high, "maximum price")):
        try:
            prices.append(parse_price_filter((text or "").strip(), name))
        except ValidationFailed as e:
            prices.append(None)
            problems.append(f"The {name} {e.details[0].message}, such as 10 or 19.99.")
    minimum, maximum = prices
    if minimum is not None and maximum is not None and minimum > maximum:
        problems.append("The minimum price must not be more than the maximum price.")
    return minimum, maximum, problems


class ProductCard:
    """One product: picture, name, price and stock, a quantity to add, and how many the cart holds."""

    def __init__(self, product: Product, in_cart: int, add: Add) -> None:
        self.product = product
        self.add = add
        with ui.card().classes("w-full min-w-0 p-0 gap-0").mark(f"product-{product.id}"):
            product_image(product).classes("w-full h-36").props("fit=cover")
            with ui.column().classes("p-3 gap-1 w-full min-w-0"):
                wrapped_name(product.name, "w-full font-semibold").mark(f"name-{product.id}")
                ui.label(product.description).classes("w-full text-xs text-grey-7 line-clamp-2 break-words")
                with ui.row().classes("w-full items-center justify-between gap-x-2 gap-y-0"):
                    ui.label(format_money(product.unit_price_minor, product.currency)) \
                        .classes("text-lg font-bold").mark("price")
                    stock_text = f"{product.stock} in stock" if product.stock else "Out of stock"
                    ui.label(stock_text).classes("text-xs " + ("text-grey-7" if product.stock else "text-negative"))
                with ui.row().classes("w-full items-center gap-2"):  # the button drops below when the card is narrow
                    self.stepper = Stepper(1, 1, 1, lambda _: None, product.id, product.name)
                    self.button = ui.button("Add to Cart", icon="add_shopping_cart", on_click=self.add_chosen) \
                        .props("no-wrap").classes("flex-1 min-w-36").mark(f"add-{product.id}")
                self.in_cart = ui.label().classes("text-xs text-positive font-medium").mark(f"in-cart-{product.id}")
        self.show(in_cart)

    def show(self, in_cart: int) -> None:
        """How many the cart holds now; the stepper goes up to what may still be added."""
        left = most_allowed(self.product) - in_cart
        self.in_cart.set_text(f"{in_cart} in cart" if in_cart else "")
        self.in_cart.set_visibility(in_cart > 0)
        self.stepper.limit(max(1, left))
        can_add = self.product.purchasable and left > 0
        self.stepper.set_enabled(can_add)
        self.button.set_enabled(can_add)

    async def add_chosen(self) -> None:
        chosen = self.stepper.value
        self.stepper.value = 1  # the next add starts again from one
        self.stepper.show()
        await self.add(self.product, chosen)


class ProductGrid:
    """The catalogue as cards, filtered and sorted, each showing how many of it are in the cart."""

    def __init__(self, container: Container, add: Add) -> None:
        self.container = container
        self.add = add
        self.filters = Filters()
        self.products: list[Product] = []
        self.in_cart: dict[str, int] = {}
        self.cards: dict[str, ProductCard] = {}
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result

    def filter_bar(self, categories: list[str]) -> None:
        # On a phone: the search on its own row, then category and order side by side, then the price range.
        with ui.row().classes("w-full gap-2 items-start flex-wrap"):
            self.search = ui.input("Search", on_change=self.apply) \
                .props("outlined dense clearable debounce=250").classes("w-56 max-sm:w-full").mark("search")
            self.category = ui.select({None: "All categories", **{c: c.title() for c in categories}}, value=None,
                                      label="Category", on_change=self.apply) \
                .props("outlined dense").classes("w-44 max-sm:flex-1 max-sm:min-w-0").mark("category-filter")
            self.sort = ui.select(SORT_LABELS, value=None, label="Sort by", on_change=self.apply) \
                .props("outlined dense").classes("w-48 max-sm:flex-1 max-sm:min-w-0").mark("sort")
            with ui.row().classes("gap-2 no-wrap max-sm:w-full"):
                self.min_price = self._price_field("Min price", "min-price")
                self.max_price = self._price_field("Max price", "max-price")
        self.price_error = ui.label().classes("text-sm text-negative").mark("price-error")
        self.price_error.props["role"] = "alert"
        self.price_error.set_visibility(False)

    def _price_field(self, label: str, marker: str) -> ui.input:
        return ui.input(label, on_change=self.apply) \
            .props("outlined dense clearable debounce=400 inputmode=decimal hide-bottom-space") \
            .classes("w-36 max-sm:flex-1 max-sm:min-w-0").mark(marker)

    async def apply(self) -> None:
        """Read the filter controls; a bad price range is explained and the last good results stay."""
        minimum, maximum, problems = price_range(self.min_price.value, self.max_price.value)
        self.price_error.set_text(" ".join(problems))
        self.price_error.set_visibility(bool(problems))
        low_bad = any("minimum" in p for p in problems)
        high_bad = any("maximum" in p for p in problems)
        self.min_price.error = "" if low_bad else None
        self.max_price.error = "" if high_bad else None
        if problems:
            return
        filters = Filters(category=self.category.value, search=self.search.value or "", min_price=minimum,
                          max_price=maximum, sort=self.sort.value)
        if filters != self.filters:
            self.filters = filters
            await self.reload()

    async def clear_filters(self) -> None:
        """Back to every product (the order stays); the controls' change handlers settle to one reload."""
        self.category.value = None
        self.search.value = ""
        self.min_price.value = ""
        self.max_price.value = ""
        await self.apply()

    async def reload(self) -> None:
        async with self._reading:
            products = await run.io_bound(self.container.catalog.browse, self.filters.query())
            if products is None:  # run.io_bound's None: the app is stopping
                return
            self.products = products
        self.draw.refresh()

    def show_cart(self, cart: Cart) -> None:
        self.in_cart = {line.product.id: line.quantity for line in cart.lines}
        for product_id, card in self.cards.items():
            card.show(self.in_cart.get(product_id, 0))

    @ui.refreshable_method
    def draw(self) -> None:
        self.cards = {}
        if not self.products and self.filters.narrowing:
            empty_state("search_off", "No products match these filters.", "Clear filters", self.clear_filters)
            return
        if not self.products:
            empty_state("storefront", "There are no products for sale yet.")
            return
        # Columns by the room the grid has (beside the drawer and the cart), not by the window's width.
        with ui.element("div").classes("@container w-full"), \
                ui.element("div").classes("grid gap-4 w-full grid-cols-1 @lg:grid-cols-2 @3xl:grid-cols-3"):
            for product in self.products:
                self.cards[product.id] = ProductCard(product, self.in_cart.get(product.id, 0), self.add)


def register(container: Container) -> None:
    @page(container, "/shop", TITLE, "storefront")
    async def shop_page(user: User) -> None:
        grid = ProductGrid(container, lambda product, quantity: panel.add(product, quantity))
        panel = CartPanel(container, user, on_change=grid.show_cart)
        categories = await run.io_bound(container.catalog.categories)
        if categories is None:  # run.io_bound's None: the app is stopping
            return
        await grid.reload()
        await panel.reload()

        grid.filter_bar(categories)
        with ui.row().classes("w-full gap-4 items-start no-wrap"):
            # On phones the cart is a button in the bottom corner: room below the last card, so it can scroll clear.
            with ui.column().classes("flex-1 min-w-0 max-md:pb-20"):
                grid.draw()
            panel.side_panel()
        panel.phone_sheet()

        def on_event(event: Event) -> Awaitable[None] | None:
            if event.type.startswith("product."):
                return grid.reload()
            return panel.on_event(event)

        on_events(container, on_event)
