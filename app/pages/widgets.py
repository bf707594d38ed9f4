"""Small pieces shared by pages: status colours and badges, product pictures, live subscriptions, field errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from nicegui import background_tasks, ui
from nicegui.elements.mixins.validation_element import ValidationElement

from app.bootstrap import Container
from domain.clock import utc
from domain.model.catalog import Product
from domain.model.errors import DomainError, ValidationFailed
from domain.model.events import Event
from domain.model.statuses import OrderStatus, PaymentStatus, RefundStatus

T = TypeVar("T")

STATUS_COLORS: dict[str, str] = {
    PaymentStatus.PENDING: "grey-7",
    PaymentStatus.PROCESSING: "info",
    PaymentStatus.RETRYING: "orange-8",
    PaymentStatus.COMPLETED: "positive",
    PaymentStatus.FAILED: "negative",
    OrderStatus.PENDING_PAYMENT: "grey-7",
    OrderStatus.PAID: "positive",
    OrderStatus.PAYMENT_FAILED: "negative",
    OrderStatus.REFUNDED: "purple-7",
}
"""The one colour of each payment and order status, keyed by the status enums (StrEnums, so a plain
status string from an event or a table row finds its colour too)."""
OTHER_COLOR = "grey"


WRAPS = "min-w-0 break-words [overflow-wrap:anywhere]"
"""Classes for a text that may be long (a 120-character product name): it wraps, anywhere if it must."""


def fact(label: str, value: str, marker: str) -> None:
    """One labelled fact of a detail page: "Paid with   visa •••• 4242"."""
    with ui.row().classes("w-full no-wrap gap-3 items-baseline"):
        ui.label(label).classes("w-28 shrink-0 text-sm text-grey-7")
        ui.label(value).classes(WRAPS).mark(marker)


def status_color(status: str) -> str:
    return STATUS_COLORS.get(status, OTHER_COLOR)


def status_badge(status: str) -> ui.badge:
    return ui.badge(status.replace("_", " "), color=status_color(status)).classes("text-sm")


REFUND_COLORS: dict[str, str] = {
    RefundStatus.PENDING: STATUS_COLORS[PaymentStatus.PENDING],
    RefundStatus.SUCCEEDED: "positive",
    RefundStatus.FAILED: STATUS_COLORS[PaymentStatus.FAILED],
}
"""A refund's status colours: its pending and failed look like a payment's."""


def refund_badge(status: str) -> ui.badge:
    return ui.badge(status, color=REFUND_COLORS.get(status, OTHER_COLOR)).classes("text-sm")


def set_status(badge: ui.badge, status: str) -> None:
    badge.set_text(status.replace("_", " "))
    badge.props["color"] = status_color(status)


def short_time(moment: datetime | None) -> str:
    """A stored moment as the pages show it: "2025-03-01 14:05:09" (UTC, as stored)."""
    return utc(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def card_text(brand: str | None, last4: str) -> str:
    """A card as the pages name it: "visa •••• 4242"."""
    return f"{brand or 'card'} •••• {last4}"


def payment_url(payment_id: str) -> str:
    """The path of a payment's detail page (the id quoted, so it stays one path segment)."""
    return f"/payments/{quote(payment_id, safe='')}"


def order_url(order_id: str) -> str:
    """The path of an order's page (the id quoted, so it stays one path segment)."""
    return f"/orders/{quote(order_id, safe='')}"


def product_image(product: Product) -> ui.image:
    """The product's picture (the one drawn for it when it has none), its name as the alt text.

    The name is set as a value, never written into a props string, where a quote in it would add attributes.
    """
    image = ui.image(product.image_url or f"/images/products/{product.id}.svg")
    image.props["alt"] = product.name
    return image


def on_events(container: Container, callback: Callable[[Event], Awaitable[None] | None]) -> None:
    """Call `callback` for every new event while this page's client lives.

    An async callback (one that reads in a worker thread, say) runs as a task in the page's context.
    """
    client = ui.context.client

    def deliver(event: Event) -> None:
        result = callback(event)
        if result is not None:
            background_tasks.create(result, name=f"{event.type} on {client.page.path}", context=client)

    unsubscribe = container.hub.subscribe(deliver)
    client.on_delete(unsubscribe)


def field_sentence(label: str, message: str) -> str:
    """A field's error as a sentence: "must be at least 8 characters" beside Password reads
    "Password must be at least 8 characters."; a message that is a sentence already stays as it is."""
    message = message.strip()
    if not message or message[0].isupper():
        return message if not message or message.endswith((".", "?", "!")) else message + "."
    name = label.removesuffix(" (optional)").strip() or "This field"
    return f"{name} {message.rstrip('.')}."


def show_field_errors(error: ValidationFailed, fields: Mapping[str, ValidationElement[Any]],
                      fallback: ui.label) -> None:
    """Put each error beside its field, as a sentence named after the field's label; what has no field
    of its own goes to `fallback`, and with several fields at fault it says how many."""
    rest = []
    shown = 0
    for detail in error.details:
        element = fields.get(detail.field)
        if element is not None:
            element.error = field_sentence(str(element.props.get("label") or ""), detail.message)
            shown += 1
        else:
            rest.append(field_sentence(detail.field, detail.message))
    if rest or not error.details:
        fallback.set_text(" ".join(rest) if rest else field_sentence("", error.message))
    else:
        fallback.set_text(f"Please correct the {shown} fields marked in red." if shown > 1 else "")


def clear_field_errors(fields: Iterable[ValidationElement[Any]], fallback: ui.label) -> None:
    for element in fields:
        element.error = None
    fallback.set_text("")


async def attempt(action: Callable[[], Awaitable[T]], fields: Mapping[str, ValidationElement[Any]],
                  error: ui.label) -> tuple[bool, T | None]:
    """Run a form's action: (True, result), or (False, None) with the domain's errors shown,
    each beside its field where there is one, the rest in `error`. Earlier errors are cleared first."""
    clear_field_errors(fields.values(), error)
    try:
        return True, await action()
    except ValidationFailed as e:
        show_field_errors(e, fields, error)
    except DomainError as e:
        error.set_text(e.message)
    return False, None


async def confirm(question: str, action: str = "Delete") -> bool:
    """Ask before a destructive step; True when the person confirms."""
    with ui.dialog() as dialog, ui.card().mark("confirm-dialog"):
        ui.label(question)
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=lambda: dialog.submit(False)).props("flat").mark("confirm-no")
            ui.button(action, on_click=lambda: dialog.submit(True)).props("color=negative").mark("confirm-yes")
    result = await dialog
    dialog.clear()
    return bool(result)


def empty_state(icon: str, text: str, action: str | None = None,
                on_action: Callable[[], Awaitable[None] | None] | str | None = None) -> ui.column:
    """What a list shows when it has nothing: an icon, a sentence, and the step that would fill it
    (a link when `on_action` is a path, a button when it is a callable). Marked "empty-state"."""
    with ui.column().classes("items-center w-full p-6 gap-2 text-center").mark("empty-state") as box:
        ui.icon(icon, size="lg", color="grey-5")
        ui.label(text).classes("text-grey-7")
        if action and isinstance(on_action, str):
            ui.link(action, on_action).mark("empty-action")
        elif action and on_action is not None and not isinstance(on_action, str):
            ui.button(action, on_click=on_action).props("flat no-caps").mark("empty-action")
    return box
