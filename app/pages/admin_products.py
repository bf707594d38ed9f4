"""Product Management (admin): list, add, edit, remove; a picture uploaded or given by address, with a
preview; every field's error at once, beside the field, in a sentence."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from nicegui import events, run, ui

from app.bootstrap import Container
from app.pages.guard import page, still_signed_in
from app.pages.widgets import confirm, empty_state, product_image
from app.product_images import ALLOWED, MAX_IMAGE_BYTES, ImageRefused, image_store
from domain.model.catalog import (
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_STOCK,
    Product,
    ProductQuery,
    is_image_url,
)
from domain.model.errors import DomainError, ValidationFailed
from domain.model.money import CURRENCIES, format_money
from domain.model.users import User

TITLE = "Product Management"
LABELS = {"name": "Name", "description": "Description", "unitPrice": "Price", "currency": "Currency",
          "category": "Category", "stock": "Stock", "imageUrl": "Image URL", "active": "Active"}
# Two lines of a long name at most, broken anywhere (a 120-character word too); the tooltip has it all.
CLAMPED = ("overflow-wrap:anywhere; display:-webkit-box; -webkit-box-orient:vertical; -webkit-line-clamp:2; "
           "overflow:hidden")


def sentence(field: str, message: str) -> str:
    """A domain error on a field as the form says it: "Price has more than 2 decimals for USD."."""
    return f"{LABELS.get(field, field)} {message.rstrip('.')}."


E = TypeVar("E", bound=ui.element)


def hinted(element: E, hint: str) -> E:
    element.props["hint"] = hint  # the limit, shown before saving; an error takes its place
    return element


class ProductForm:
    """Add or edit one product in a dialog."""

    def __init__(self, container: Container, categories: Callable[[], list[str]],
                 on_saved: Callable[[], Awaitable[None]]) -> None:
        self.container = container
        self.categories = categories
        self.on_saved = on_saved
        self.product: Product | None = None
        self.opened: dict[str, Any] = {}  # the fields as the dialog showed them when it opened
        with ui.dialog() as self.dialog, \
                ui.card().classes("product-form w-[34rem] max-w-[96vw] gap-2").mark("product-form"):
            self.title = ui.label("").classes("text-lg font-semibold break-all")
            self.name = hinted(ui.input("Name").props("outlined dense counter").classes("w-full"),
                               f"Up to {MAX_NAME_CHARS} characters").mark("product-name")
            self.description = hinted(ui.textarea("Description").props("outlined dense autogrow counter"),
                                      f"Up to {MAX_DESCRIPTION_CHARS:,} characters") \
                .classes("w-full").mark("product-description")
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.price = hinted(ui.input("Price", placeholder="19.99").props("outlined dense inputmode=decimal"),
                                    "More than zero, such as 19.99").classes("flex-1 min-w-0").mark("product-price")
                self.currency = ui.select(list(CURRENCIES), value="USD", label="Currency").props("outlined dense") \
                    .classes("w-28").mark("product-currency")
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.category = hinted(ui.input("Category", placeholder="books", on_change=self._suggest)
                                       .props("outlined dense"), "A lowercase word: pick one below or type a new one") \
                    .classes("flex-1 min-w-0").mark("product-category")
                self.stock = hinted(ui.input("Stock", value="0").props("outlined dense inputmode=numeric"),
                                    f"0 to {MAX_STOCK:,}").classes("w-36").mark("product-stock")
            self.suggestions = ui.row().classes("w-full gap-1").mark("category-suggestions")
            self._picture()
            self.active = ui.switch("Active", value=True).mark("product-active")
            self.error = ui.label("").classes("text-negative text-sm").mark("product-form-error")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat")
                ui.button("Save", icon="save", on_click=self.save).mark("save-product")
        self.fields = {"name": self.name, "description": self.description, "unitPrice": self.price,
                       "currency": self.currency, "category": self.category, "stock": self.stock,
                       "imageUrl": self.image}

    def _picture(self) -> None:
        """The picture: an address or an uploaded file, and a preview of what the shop will show."""
        with ui.row().classes("w-full gap-3 no-wrap items-start"):
            with ui.column().classes("w-28 shrink-0 gap-1 items-center"):
                self.preview = ui.image("").classes("w-28 h-20 rounded").mark("image-preview")
                self.preview_note = ui.label("").classes("text-xs text-grey-7 text-center").mark("image-preview-note")
                self.preview.on("error", self._unloaded)
            with ui.column().classes("flex-1 min-w-0 gap-1"):
                self.image = hinted(ui.input("Image URL", placeholder="https://… or /images/…",
                                             on_change=self._show_preview).props("outlined dense"),
                                    "https://… or a path on this site") \
                    .classes("w-full").mark("product-image")
                self.upload = ui.upload(label="Upload PNG, JPEG or WebP (up to 2 MB)", auto_upload=True,
                                        max_file_size=MAX_IMAGE_BYTES, on_upload=self._uploaded,
                                        on_rejected=self._too_large) \
                    .props("flat bordered no-thumbnails").classes("w-full product-upload").mark("image-upload")
                self.upload_error = ui.label("").classes("text-negative text-sm").mark("image-upload-error")

    def _unloaded(self) -> None:
        self.preview_note.set_text("The picture at this address did not load.")

    def _show_preview(self) -> None:
        url = (self.image.value or "").strip()
        if url and not is_image_url(url):
            self.preview.set_source("")
            self.preview_note.set_text("No preview: an address must start with https:// or be a path on this site.")
        elif url:
            self.preview.set_source(url)
            generated = self.product is not None and url == f"/images/products/{self.product.id}.svg"
            self.preview_note.set_text("Generated picture" if generated else "Preview")
        elif self.product is not None:  # what the shop draws for it
            self.preview.set_source(f"/images/products/{self.product.id}.svg")
            self.preview_note.set_text("Generated picture")
        else:
            self.preview.set_source("")
            self.preview_note.set_text("No picture: the shop draws one from the name.")
        self.preview.set_visibility(bool(self.preview.source))

    def _suggest(self) -> None:
        """Existing categories that match what is typed (all of them while it is empty), as chips."""
        typed, known = (self.category.value or "").strip().lower(), self.categories()
        # A category already chosen offers the others; a word being typed, those that contain it.
        matches = [c for c in known if c != typed and (typed in known or typed in c)]
        self.suggestions.clear()
        with self.suggestions:
            for category in matches[:12]:
                ui.chip(category, icon="sell", on_click=partial(self.category.set_value, category)) \
                    .props("dense outline clickable").mark(f"category-{category}")

    async def _too_large(self) -> None:
        self.upload_error.set_text(f"{ALLOWED}; this file is larger than 2 MB.")

    async def _uploaded(self, e: events.UploadEventArguments) -> None:
        self.upload.reset()
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        if e.file.size() > MAX_IMAGE_BYTES:  # Quasar refuses these first; a crafted request may not
            self.upload_error.set_text(f"{ALLOWED}; this file is larger than 2 MB.")
            return
        store = image_store(self.container.settings.data_dir)
        try:
            url = await run.io_bound(store.save, await e.file.read())
        except ImageRefused as refused:
            self.upload_error.set_text(refused.message)
            return
        if url is None:  # run.io_bound's None: the app is stopping
            return
        self.upload_error.set_text("")
        self.image.value = url
        ui.notify("Picture uploaded. Save the product to use it.", type="positive")

    def open(self, product: Product | None) -> None:
        self.product = product
        self.clear_errors()
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
        self._suggest()
        self._show_preview()
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

    def clear_errors(self) -> None:
        for element in self.fields.values():
            element.error = None
        self.error.set_text("")
        self.upload_error.set_text("")

    def show_errors(self, error: ValidationFailed) -> None:
        """Every field's error at once, each beside its field as a sentence; a line above Save sums up."""
        elsewhere = []
        for detail in error.details:
            element = self.fields.get(detail.field)
            if element is not None:
                element.error = sentence(detail.field, detail.message)
            else:
                elsewhere.append(sentence(detail.field, detail.message))
        marked = sum(1 for element in self.fields.values() if element.error)
        summary = [f"Please correct the {marked} field{'s' if marked != 1 else ''} marked in red."] if marked else []
        whole = error.message[:1].upper() + error.message[1:].rstrip(".") + "."
        self.error.set_text(" ".join(summary + elsewhere) or whole)

    async def save(self) -> None:
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        self.clear_errors()
        catalog, product_id = self.container.catalog, self.product.id if self.product else None
        try:
            product = await (run.io_bound(catalog.create, self.raw()) if product_id is None
                             else run.io_bound(catalog.update, product_id, self.changes()))
        except ValidationFailed as e:
            self.show_errors(e)
            return
        except DomainError as e:
            self.error.set_text(e.message)
            return
        if product is None:  # run.io_bound's None: the app is stopping
            return
        self.dialog.close()
        ui.notify(f"Saved {product.name}", type="positive")
        await self.on_saved()


class ProductList:
    """Every product, active or not, with buttons to edit and remove each."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.products: list[Product] = []
        self.form = ProductForm(container, categories=self.categories, on_saved=self.reload)
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result

    def categories(self) -> list[str]:
        return sorted({p.category for p in self.products})

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
            empty_state("inventory_2", "No products yet. Add one and it appears in the shop.",
                        "Add product", lambda: self.form.open(None))
            return
        with ui.column().classes("w-full gap-0").mark("product-list"):
            for product in self.products:
                self._row(product)

    def _row(self, p: Product) -> None:
        """One product: picture, name (two lines at most), then price, stock, status and category, which
        wrap under each other on a narrow screen; the buttons keep their place at the end."""
        with ui.row().classes("w-full items-center gap-3 py-2 no-wrap border-b border-gray-200") \
                .mark(f"row-{p.id}"):
            product_image(p).classes("w-14 h-10 rounded shrink-0")
            with ui.column().classes("flex-1 min-w-0 gap-0"):
                name = ui.label(p.name).classes("font-medium").style(CLAMPED).mark(f"name-{p.id}")
                with name:
                    ui.tooltip(p.name)
                with ui.row().classes("items-center gap-x-3 gap-y-0 text-sm"):
                    ui.label(format_money(p.unit_price_minor, p.currency)).classes("font-medium") \
                        .mark(f"price-{p.id}")
                    ui.label(f"{p.stock:,} in stock").classes("text-grey-8")
                    ui.badge("active" if p.active else "inactive", color="positive" if p.active else "grey")
                    ui.label(f"{p.category} · {p.id}").classes("text-xs text-grey-7").style("overflow-wrap:anywhere")
            with ui.row().classes("gap-0 no-wrap shrink-0"):
                edit = ui.button(icon="edit", on_click=lambda: self.form.open(p)).props("flat round dense") \
                    .mark(f"edit-{p.id}").tooltip("Edit")
                remove = ui.button(icon="delete", on_click=lambda: self.remove(p)) \
                    .props("flat round dense color=negative").mark(f"delete-{p.id}").tooltip("Remove")
                edit.props["aria-label"] = f"Edit {p.name}"  # values, never written into a props string
                remove.props["aria-label"] = f"Remove {p.name}"


def register(container: Container) -> None:
    @page(container, "/admin/products", TITLE, "inventory_2", admin_only=True)
    async def products_page(user: User) -> None:
        # The uploader's file list would stay an empty box: each file is taken, or refused, at once. A field's
        # hint or error takes the lines it needs, where Quasar keeps one line and lets the rest overlap below.
        ui.add_css(".product-upload .q-uploader__list { display: none; }"
                   ".product-form .q-field--with-bottom { padding-bottom: 0; }"
                   ".product-form .q-field__bottom { position: static; transform: none; }")
        products = ProductList(container)
        await products.reload()
        ui.button("Add product", icon="add", on_click=lambda: products.form.open(None)).mark("add-product")
        products.draw()
