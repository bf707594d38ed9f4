"""Product Management (admin): list, add, edit, remove, with errors beside each field."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import page, still_signed_in
from app.pages.widgets import attempt, clear_field_errors, confirm, product_image
from domain.model.catalog import Product, ProductQuery
from domain.model.errors import DomainError
from domain.model.money import CURRENCIES, format_money
from domain.model.users import User

TITLE = "Product Management"


class ProductForm:
    """Add or edit one product in a dialog."""

    def __init__(self, container: Container, on_saved: Callable[[], Awaitable[None]]) -> None:
        self.container = container
        self.on_saved = on_saved
        self.product: Product | None = None
        self.opened: dict[str, Any] = {}  # the fields as the dialog showed them when it opened
        with ui.dialog() as self.dialog, ui.card().classes("w-[34rem] max-w-[96vw] gap-2").mark("product-form"):
            self.title = ui.label("").classes("text-lg font-semibold")
            self.name = ui.input("Name").props("outlined dense").classes("w-full").mark("product-name")
            self.description = ui.textarea("Description").props("outlined dense autogrow").classes("w-full") \
                .mark("product-description")
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.price = ui.input("Price", placeholder="19.99").props("outlined dense inputmode=decimal") \
                    .classes("flex-1").mark("product-price")
                self.currency = ui.select(list(CURRENCIES), value="USD", label="Currency").props("outlined dense") \
                    .classes("w-28").mark("product-currency")
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.category = ui.input("Category", placeholder="books").props("outlined dense").classes("flex-1") \
                    .mark("product-category")
                self.stock = ui.input("Stock", value="0").props("outlined dense inputmode=numeric").classes("w-28") \
                    .mark("product-stock")
            self.image = ui.input("Image URL", placeholder="https://… or /images/…").props("outlined dense") \
                .classes("w-full").mark("product-image")
            self.active = ui.switch("Active", value=True).mark("product-active")
            self.error = ui.label("").classes("text-negative text-sm").mark("product-form-error")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat")
                ui.button("Save", icon="save", on_click=self.save).mark("save-product")
        self.fields = {"name": self.name, "description": self.description, "unitPrice": self.price,
                       "currency": self.currency, "category": self.category, "stock": self.stock,
                       "imageUrl": self.image}

    def open(self, product: Product | None) -> None:
        self.product = product
        clear_field_errors(self.fields.values(), self.error)
        self.title.set_text(f"Edit {product.name}" if product else "Add a product")
        self.name.value = product.name if product else ""
        self.description.value = product.description if product else ""
        self.price.value = str(product.unit_price) if product else ""
        self.currency.value = product.currency if product else "USD"
        self.category.value = product.category if product else ""
        self.stock.value = str(product.stock) if product else "0"
        self.image.value = (product.image_url or "") if product else ""
        self.active.value = product.active if product else True
        self.opened = self.raw()
        self.dialog.open()

    def raw(self) -> dict[str, Any]:
        stock_text = (self.stock.value or "").strip()
        return {"name": self.name.value or "", "description": self.description.value or "",
                "unitPrice": (self.price.value or "").strip(), "currency": self.currency.value,
                "category": (self.category.value or "").strip(),
                "stock": int(stock_text) if stock_text.isdigit() else stock_text,
                "imageUrl": (self.image.value or "").strip() or None, "active": bool(self.active.value)}

    def changes(self) -> dict[str, Any]:
        """What an edit sends: only the fields changed in the dialog. Stock reserved by an order while it was
        open stays reserved, a price changed elsewhere stays changed, unless the admin changed that field."""
        return {key: value for key, value in self.raw().items() if value != self.opened.get(key)}

    async def save(self) -> None:
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        catalog, product_id = self.container.catalog, self.product.id if self.product else None
        ok, product = await attempt(
            lambda: run.io_bound(catalog.create, self.raw()) if product_id is None
            else run.io_bound(catalog.update, product_id, self.changes()), self.fields, self.error)
        if not ok or product is None:  # None: run.io_bound's, the app is stopping
            return
        self.dialog.close()
        ui.notify(f"Saved {product.name}", type="positive")
        await self.on_saved()


class ProductList:
    """Every product, active or not, with buttons to edit and remove each."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.products: list[Product] = []
        self.form = ProductForm(container, on_saved=self.reload)
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result

    async def reload(self) -> None:
        async with self._reading:
            products = await run.io_bound(self.container.catalog.browse,
                                          ProductQuery(include_inactive=True, sort_by="name"))
            if products is None:  # run.io_bound's None: the app is stopping
                return
            self.products = products
        self.draw.refresh()

    async def remove(self, product: Product) -> None:
        if not await confirm(f"Remove {product.name}? If it is in an order it is deactivated instead."):
            return
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        try:
            deleted = await run.io_bound(self.container.catalog.delete, product.id)
        except DomainError as e:
            ui.notify(e.message, type="negative")
            return
        ui.notify(f"Deleted {product.name}" if deleted
                  else f"{product.name} is in orders, so it was deactivated instead")
        await self.reload()

    @ui.refreshable_method
    def draw(self) -> None:
        if not self.products:
            ui.label("No products yet.").classes("text-grey-7").mark("empty-state")
            return
        with ui.column().classes("w-full gap-1").mark("product-list"):
            for product in self.products:
                self._row(product)

    def _row(self, p: Product) -> None:
        with ui.row().classes("w-full items-center gap-3 border-b py-1 no-wrap").mark(f"row-{p.id}"):
            product_image(p).classes("w-12 h-9 rounded")
            with ui.column().classes("flex-1 gap-0 min-w-0"):
                ui.label(p.name).classes("font-medium truncate")
                ui.label(f"{p.category} · {p.id}").classes("text-xs text-grey-7")
            ui.label(format_money(p.unit_price_minor, p.currency)).classes("w-24 text-right")
            ui.label(f"{p.stock} in stock").classes("w-24 text-right text-sm")
            ui.badge("active" if p.active else "inactive", color="positive" if p.active else "grey")
            ui.button(icon="edit", on_click=lambda: self.form.open(p)).props("flat round dense") \
                .mark(f"edit-{p.id}").tooltip("Edit")
            ui.button(icon="delete", on_click=lambda: self.remove(p)) \
                .props("flat round dense color=negative").mark(f"delete-{p.id}").tooltip("Remove")


def register(container: Container) -> None:
    @page(container, "/admin/products", TITLE, "inventory_2", admin_only=True)
    async def products_page(user: User) -> None:
        products = ProductList(container)
        await products.reload()
        ui.button("Add product", icon="add", on_click=lambda: products.form.open(None)).mark("add-product")
        products.draw()
