"""Product Orders: browse the catalogue, fill the server-side cart."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import add_nav, frame
from app.pages.guard import require_user
from app.pages.widgets import money, on_events, product_image
from domain.model.catalog import SORTS, Product, ProductQuery
from domain.model.errors import DomainError
from domain.model.events import Event
from domain.model.users import User

SORT_LABELS = {None: "Featured", "price": "Price: low to high", "-price": "Price: high to low", "name": "Name: A–Z",
               "-name": "Name: Z–A", "newest": "Newest"}
assert set(SORT_LABELS) - {None} == set(SORTS)


def register(container: Container) -> None:
    add_nav("Product Orders", "/shop", "storefront")

    @ui.page("/shop")
    def shop_page() -> RedirectResponse | None:
        user = require_user(container)
        if not isinstance(user, User):
            return user
        state: dict[str, Any] = {"category": None, "search": "", "sort": None, "drawn_cart": None}

        async def set_quantity(product: Product, quantity: int) -> None:
            try:
                await run.io_bound(container.cart.set_quantity, user, product.id, quantity)
            except DomainError as e:
                ui.notify(e.message, type="warning")
                return
            cart_panel.refresh()
            products.refresh()

        with frame("Product Orders", user):
            with ui.row().classes("w-full gap-2 items-end flex-wrap"):
                categories = container.catalog.categories()
                ui.select({None: "All categories", **{c: c.title() for c in categories}}, value=None,
                          label="Category", on_change=lambda e: (state.update(category=e.value), products.refresh())) \
                    .props("outlined dense").classes("w-44").mark("category-filter")
                ui.input("Search", on_change=lambda e: (state.update(search=e.value or ""), products.refresh())) \
                    .props("outlined dense clearable debounce=250").classes("w-56").mark("search")
                ui.select(SORT_LABELS, value=None, label="Sort by",
                          on_change=lambda e: (state.update(sort=e.value), products.refresh())) \
                    .props("outlined dense").classes("w-48").mark("sort")
            with ui.row().classes("w-full gap-4 items-start no-wrap max-md:flex-wrap"):
                with ui.column().classes("flex-1 min-w-0"):

                    @ui.refreshable
                    def products() -> None:
                        query = ProductQuery(category=state["category"], search=state["search"] or None,
                                             sort_by=state["sort"])
                        found = container.catalog.browse(query)
                        in_cart = {line.product.id: line.quantity for line in container.cart.view(user).lines}
                        if not found:
                            ui.label("No products match your search.").classes("text-grey-7").mark("empty-state")
                            return
                        with ui.element("div").classes("grid gap-4 w-full "
                                                        "grid-cols-1 sm:grid-cols-2 lg:grid-cols-3"):
                            for product in found:
                                product_card(product, in_cart.get(product.id, 0))

                    def product_card(product: Product, quantity: int) -> None:
                        with ui.card().classes("w-full p-0 gap-0").mark(f"product-{product.id}"):
                            product_image(product).classes("w-full h-36").props("fit=cover")
                            with ui.column().classes("p-3 gap-1 w-full"):
                                ui.label(product.name).classes("font-semibold")
                                ui.label(product.description).classes("text-xs text-grey-7 line-clamp-2")
                                with ui.row().classes("w-full items-center justify-between"):
                                    ui.label(money(product.unit_price_minor, product.currency)) \
                                        .classes("text-lg font-bold").mark("price")
                                    stock_text = f"{product.stock} in stock" if product.stock else "Out of stock"
                                    ui.label(stock_text).classes(
                                        "text-xs " + ("text-grey-7" if product.stock else "text-negative"))
                                if quantity == 0:
                                    button = ui.button("Add to Cart", icon="add_shopping_cart",
                                                       on_click=lambda p=product: set_quantity(p, 1)) \
                                        .classes("w-full").mark(f"add-{product.id}")
                                    if not product.purchasable:
                                        button.disable()
                                else:
                                    with ui.row().classes("w-full items-center justify-between"):
                                        ui.button(icon="remove", on_click=lambda p=product, q=quantity:
                                                  set_quantity(p, q - 1)).props("round dense flat") \
                                            .mark(f"minus-{product.id}").tooltip("One less")
                                        ui.label(f"{quantity} in cart").mark(f"qty-{product.id}")
                                        plus = ui.button(icon="add", on_click=lambda p=product, q=quantity:
                                                         set_quantity(p, q + 1)).props("round dense flat") \
                                            .mark(f"plus-{product.id}").tooltip("One more")
                                        if quantity >= product.stock:
                                            plus.disable()

                    products()

                with ui.card().classes("w-80 max-md:w-full max-md:order-first sticky top-20").mark("cart-panel"):

                    @ui.refreshable
                    def cart_panel() -> None:
                        cart = container.cart.view(user)
                        state["drawn_cart"] = (cart.total, cart.item_count)
                        with ui.row().classes("items-center gap-2"):
                            ui.icon("shopping_cart")
                            ui.label(f"Cart ({cart.item_count})").classes("text-lg font-semibold")
                        if not cart.lines:
                            ui.label("Your cart is empty.").classes("text-grey-7").mark("cart-empty")
                            return
                        for line in cart.lines:
                            with ui.row().classes("w-full justify-between no-wrap"):
                                ui.label(f"{line.quantity} × {line.product.name}").classes("text-sm")
                                ui.label(money(line.line_total, line.product.currency)).classes("text-sm")
                            if line.problem:
                                ui.label(line.problem).classes("text-xs text-negative").mark("cart-problem")
                        ui.separator()
                        with ui.row().classes("w-full justify-between"):
                            ui.label("Total").classes("font-semibold")
                            ui.label(money(cart.total, cart.currency or "USD")).classes("font-bold") \
                                .mark("cart-total")
                        ui.button("Checkout", icon="payments", on_click=lambda: ui.navigate.to("/payments/new")) \
                            .classes("w-full").mark("checkout")
                        ui.button("Empty cart", on_click=empty).props("flat dense").classes("w-full") \
                            .mark("empty-cart")

                    async def empty() -> None:
                        await run.io_bound(container.cart.clear, user)
                        cart_panel.refresh()
                        products.refresh()

                    cart_panel()

        def on_event(event: Event) -> None:  # the cart changed elsewhere (another tab, the API)
            # A change made here is drawn already; only a change from elsewhere needs a redraw.
            drawn = (event.data.get("totalAmount"), event.data.get("itemCount"))
            if event.type == "cart.updated" and event.customer_id == user.id and drawn != state["drawn_cart"]:
                cart_panel.refresh()
                products.refresh()
            elif event.type.startswith("product."):
                products.refresh()

        on_events(container, on_event)
        return None
