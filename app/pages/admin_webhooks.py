"""Webhooks (admin): merchants' endpoints (add, enable or disable, rotate the secret, delete), each secret
shown once, and the delivery log of the chosen endpoint, live, with a Retry on every delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nicegui import run, ui
from nicegui.events import GenericEventArguments, ValueChangeEventArguments

from app.bootstrap import Container
from app.pages.guard import page, still_signed_in
from app.pages.widgets import attempt, clear_field_errors, confirm, empty_state, on_events
from domain.clock import utc
from domain.model.errors import DomainError, NotFound
from domain.model.events import Event
from domain.model.statuses import EndpointStatus, WebhookDeliveryStatus
from domain.model.users import User
from domain.model.webhooks import (
    ALL_EVENTS,
    MAX_DESCRIPTION,
    MAX_URL,
    PUBLIC_EVENT_TYPES,
    WebhookDelivery,
    WebhookEndpoint,
)

TITLE = "Webhooks"
PAGE_SIZE = 20
REDRAW_SECONDS = 0.5  # at most this often, however many events arrive
EVENT_CHOICES = {ALL_EVENTS: "All events (*)", **{t: t for t in PUBLIC_EVENT_TYPES}}
COLORS: dict[str, str] = {
    EndpointStatus.ENABLED: "positive", EndpointStatus.DISABLED: "grey-7",
    WebhookDeliveryStatus.PENDING: "grey-7", WebhookDeliveryStatus.DELIVERED: "positive",
    WebhookDeliveryStatus.FAILED: "orange-8",  # it will be tried again, as a retrying payment is
    WebhookDeliveryStatus.DEAD: "negative",
}
# What an admin looks for first comes first: on a phone the table scrolls sideways in its own box.
COLUMNS = [{"name": "eventType", "label": "Event", "field": "eventType", "align": "left"},
           {"name": "status", "label": "Status", "field": "status", "align": "left"},
           {"name": "attempts", "label": "Tries", "field": "attempts", "align": "right"},
           {"name": "lastStatusCode", "label": "Code", "field": "lastStatusCode", "align": "right"},
           {"name": "lastError", "label": "Last error", "field": "lastError", "align": "left",
            "classes": "whitespace-normal", "style": "min-width: 12rem"},
           {"name": "nextAttemptAt", "label": "Next try", "field": "nextAttemptAt", "align": "left"},
           {"name": "deliveredAt", "label": "Delivered", "field": "deliveredAt", "align": "left"},
           {"name": "createdAt", "label": "Created", "field": "createdAt", "align": "left"},
           {"name": "retry", "label": "", "field": "id", "align": "right"}]
# The templates hold no data: the badge's colour comes from its row, where Python put it, and the button
# sends back its row's id, which the handler checks against the deliveries it showed.
STATUS_CELL = """
    <q-td :props="props"><q-badge :color="props.row.statusColor" :label="props.value"/></q-td>
"""
RETRY_CELL = """
    <q-td :props="props">
      <q-btn flat dense no-caps size="sm" color="primary" icon="replay" label="Retry"
             @click="() => $parent.$emit('retry', props.row.id)"/>
    </q-td>
"""


def badge(status: str) -> ui.badge:
    return ui.badge(status, color=COLORS.get(status, "grey")).classes("text-sm")


def moment(value: datetime | None) -> str:
    return utc(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def row(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.id, "createdAt": moment(d.created_at), "eventType": d.event_type, "status": str(d.status),
            "statusColor": COLORS.get(d.status, "grey"), "attempts": d.attempts,
            "lastStatusCode": "" if d.last_status_code is None else d.last_status_code,
            "lastError": d.last_error or "", "nextAttemptAt": moment(d.next_attempt_at),
            "deliveredAt": moment(d.delivered_at)}


async def show_secret(parent: ui.element, endpoint: WebhookEndpoint, heading: str) -> None:
    """The endpoint's secret, this once: the dialog and the secret leave the page when it is closed.

    The dialog goes in `parent`, an element that outlives the redraw that the change itself causes."""
    secret = endpoint.secret

    def copy() -> None:
        ui.clipboard.write(secret)
        ui.notify("Secret copied", type="positive")

    with parent, ui.dialog().props("persistent") as dialog, \
            ui.card().classes("w-[36rem] max-w-[96vw] gap-3").mark("secret-dialog"):
        ui.label(heading).classes("text-lg font-semibold")
        ui.label(endpoint.url).classes("text-sm text-grey-7 break-all")
        with ui.row().classes("w-full items-center gap-1 no-wrap"):
            ui.label(secret).classes("flex-1 min-w-0 font-mono text-sm break-all bg-grey-2 rounded p-2 select-all") \
                .mark("secret-value")
            ui.button(icon="content_copy", on_click=copy).props("flat round").mark("copy-secret").tooltip("Copy")
        with ui.row().classes("w-full items-start gap-2 no-wrap text-orange-9"):
            ui.icon("warning", size="sm")
            ui.label("Copy it now: it will not be shown again. Your endpoint verifies each delivery's "
                     "webhook-signature with it.").classes("text-sm").mark("secret-warning")
        with ui.row().classes("w-full justify-end"):
            ui.button("I have copied it", icon="check", on_click=lambda: dialog.submit(True)).mark("secret-done")
    await dialog
    dialog.delete()


class EndpointForm:
    """Add an endpoint in a dialog; on success the secret is shown once."""

    def __init__(self, container: Container, on_created: Callable[[WebhookEndpoint], Awaitable[None]]) -> None:
        self.container = container
        self.on_created = on_created
        # What the events select held before its change (a select's own previous_value is its model's form).
        self.chosen: list[str] = [ALL_EVENTS]
        with ui.dialog() as self.dialog, ui.card().classes("w-[34rem] max-w-[96vw] gap-2").mark("endpoint-form"):
            ui.label("Add an endpoint").classes("text-lg font-semibold")
            self.url = ui.input("URL", placeholder="https://shop.example.com/hooks").props("outlined dense") \
                .classes("w-full").mark("endpoint-url")
            self.events = ui.select(EVENT_CHOICES, multiple=True, value=[ALL_EVENTS], label="Events",
                                    on_change=self._all_stands_alone) \
                .props("outlined dense use-chips").classes("w-full").mark("endpoint-events")
            self.url.props["hint"] = f"http or https, up to {MAX_URL:,} characters"
            self.description = ui.input("Description (optional)").props("outlined dense").classes("w-full") \
                .mark("endpoint-description")
            self.description.props["hint"] = f"Up to {MAX_DESCRIPTION} characters"
            self.error = ui.label("").classes("text-negative text-sm").mark("endpoint-form-error")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat")
                self.save_button = ui.button("Save", icon="save", on_click=self.save).mark("save-endpoint")
        self.fields = {"url": self.url, "events": self.events, "description": self.description}

    def open(self) -> None:
        self.url.value = self.description.value = ""
        self.events.value = [ALL_EVENTS]
        clear_field_errors(self.fields.values(), self.error)
        self.dialog.open()

    def _all_stands_alone(self, e: ValueChangeEventArguments[Any]) -> None:
        """"*" subscribes to every type, so it goes alone: choosing it drops the others, and the reverse."""
        chosen = list(e.value or [])
        if ALL_EVENTS in chosen and len(chosen) > 1:
            chosen = [ALL_EVENTS] if ALL_EVENTS not in self.chosen else [t for t in chosen if t != ALL_EVENTS]
        self.chosen = chosen
        if chosen != list(e.value or []):
            self.events.value = chosen

    async def save(self) -> None:
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        raw = {"url": (self.url.value or "").strip(), "events": list(self.events.value or []),
               "description": self.description.value or ""}
        self.save_button.disable()  # a second click while the first is on its way would add a second endpoint
        try:
            ok, endpoint = await attempt(lambda: run.io_bound(self.container.webhooks.create, raw),
                                         self.fields, self.error)
        finally:
            self.save_button.enable()
        if not ok or endpoint is None:  # None: run.io_bound's, the app is stopping
            return
        self.dialog.close()
        await self.on_created(endpoint)


class DeliveryLog:
    """The chosen endpoint's deliveries, newest first, filtered by status, paged with cursors, live."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.endpoint: WebhookEndpoint | None = None
        self.status: str | None = None
        self.cursors: list[str | None] = [None]  # the cursor of each page up to this one
        self.deliveries: list[WebhookDelivery] = []
        self.next_cursor: str | None = None
        self.error = ""
        self.dirty = False
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result

    async def show(self, endpoint: WebhookEndpoint | None) -> None:
        """Show `endpoint`'s log from its first page (nothing for None)."""
        self.endpoint, self.cursors, self.error = endpoint, [None], ""
        await self.reload()

    async def reload(self) -> None:
        async with self._reading:
            # What is shown stays until the read is back: a Retry clicked meanwhile checks against it.
            deliveries: list[WebhookDelivery] = []
            next_cursor, error = None, self.error
            if self.endpoint is not None:
                try:
                    listed = await run.io_bound(self.container.webhooks.deliveries, self.endpoint.id,
                                                status=self.status, limit=PAGE_SIZE, cursor=self.cursors[-1])
                except DomainError as e:  # deleted meanwhile: the endpoint list follows on its own event
                    error = e.message
                else:
                    if listed is None:  # run.io_bound's None: the app is stopping
                        return
                    deliveries, next_cursor = listed
            self.deliveries, self.next_cursor, self.error = deliveries, next_cursor, error
        self.draw.refresh()

    async def act(self, change: Callable[[], object]) -> None:
        """A change the admin asked for (filter, paging), after checking the session again."""
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        change()
        self.error = ""
        await self.reload()

    def filter(self, status: str | None) -> Awaitable[None]:
        def change() -> None:
            self.status, self.cursors = status, [None]
        return self.act(change)

    async def retry(self, e: GenericEventArguments) -> None:
        delivery_id = e.args if isinstance(e.args, str) else None
        if delivery_id not in {d.id for d in self.deliveries}:  # only a delivery this log shows
            return
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        try:
            await run.io_bound(self.container.webhooks.retry, delivery_id)
        except DomainError as error:
            self.error = error.message
        else:
            self.error = ""
            ui.notify("Sent again", type="positive")
        await self.reload()

    def on_event(self, event: Event) -> None:
        endpoint = self.endpoint
        if endpoint is None:
            return
        shown = {d.id for d in self.deliveries}
        first_page = len(self.cursors) == 1
        if event.type.startswith("webhook_delivery.") and event.data.get("endpointId") == endpoint.id:
            self.dirty = self.dirty or first_page or event.aggregate_id in shown
        elif first_page and endpoint.wants(event.type):  # a new delivery, written with its event
            self.dirty = True

    async def redraw(self) -> None:
        if self.dirty:
            self.dirty = False
            await self.reload()

    @ui.refreshable_method
    def draw(self) -> None:
        if self.endpoint is None:
            empty_state("outbox", "Add an endpoint, or choose one above, to see its deliveries.") \
                .mark("empty-state", "log-empty")
            return
        with ui.row().classes("w-full items-center gap-2"):
            ui.label("Deliveries to").classes("font-medium")
            ui.label(self.endpoint.url).classes("font-mono text-sm break-all min-w-0").mark("log-endpoint")
        ui.select({None: "All statuses", **{s.value: s.value for s in WebhookDeliveryStatus}}, value=self.status,
                  label="Status", on_change=lambda e: self.filter(e.value)).props("outlined dense").classes("w-48") \
            .mark("delivery-status-filter")
        if self.error:
            ui.label(self.error).classes("text-negative text-sm").mark("delivery-error")
        if not self.deliveries:
            if self.status is None:
                empty_state("outbox", "No deliveries yet. Each event the endpoint asks for is delivered here.") \
                    .mark("empty-state", "deliveries-empty")
            else:
                empty_state("filter_alt_off", "No deliveries with this status.", "Show every status",
                            lambda: self.filter(None)).mark("empty-state", "deliveries-empty")
        else:
            table = ui.table(columns=COLUMNS, rows=[row(d) for d in self.deliveries], row_key="id") \
                .props("flat bordered dense").classes("w-full max-w-full").mark("deliveries-table")
            table.add_slot("body-cell-status", STATUS_CELL)
            table.add_slot("body-cell-retry", RETRY_CELL)
            table.on("retry", self.retry)
        with ui.row().classes("gap-2"):
            if len(self.cursors) > 1:
                ui.button("Newer", icon="chevron_left", on_click=lambda: self.act(self.cursors.pop)) \
                    .props("flat").mark("deliveries-newer")
            if self.next_cursor:
                cursor = self.next_cursor
                ui.button("Older", icon="chevron_right",
                          on_click=lambda: self.act(lambda: self.cursors.append(cursor))) \
                    .props("flat").mark("deliveries-older")


class EndpointList:
    """Every endpoint with its status; the one chosen shows its delivery log below."""

    def __init__(self, container: Container, log: DeliveryLog) -> None:
        self.container = container
        self.log = log
        self.endpoints: list[WebhookEndpoint] = []
        self.errors: dict[str, str] = {}  # an action's error, shown in its endpoint's card until the next one
        self.dirty = False
        self.form = EndpointForm(container, on_created=self.created)
        self.anchor = ui.context.slot.parent  # the page's column: the secret's dialog outlives the cards' redraws
        self._reading = asyncio.Lock()

    async def reload(self) -> None:
        async with self._reading:
            endpoints = await run.io_bound(self.container.webhooks.list)
            if endpoints is None:  # run.io_bound's None: the app is stopping
                return
            self.endpoints = endpoints
        self.draw.refresh()
        chosen = self.log.endpoint
        now = next((e for e in endpoints if chosen and e.id == chosen.id), None)
        if now is None:  # none chosen yet, or the chosen one is gone: the first, if there is one
            await self.log.show(endpoints[0] if endpoints else None)
        elif now != chosen:  # changed (a new status, say): its log's header and live filter follow
            if chosen is not None and now.status != chosen.status:
                self.log.error = ""  # "the endpoint is disabled" no longer holds, or holds anew
            self.log.endpoint = now
            self.log.draw.refresh()

    async def created(self, endpoint: WebhookEndpoint) -> None:
        ui.notify(f"Added {endpoint.url}", type="positive")
        await self.log.show(endpoint)
        await self.reload()
        await show_secret(self.anchor, endpoint, "Signing secret of the new endpoint")

    async def choose(self, endpoint: WebhookEndpoint) -> None:
        if await still_signed_in(self.container, admin_only=True) is None:
            return
        await self.log.show(endpoint)
        self.draw.refresh()

    async def run(self, endpoint: WebhookEndpoint, action: Callable[[], Any]) -> Any:
        """Run a change to `endpoint` in a worker thread; None (and its error in its card) when it fails."""
        if await still_signed_in(self.container, admin_only=True) is None:
            return None
        try:
            result = await run.io_bound(action)
            self.errors.pop(endpoint.id, None)
        except NotFound:
            result, self.errors[endpoint.id] = None, "This endpoint was deleted meanwhile."
        except DomainError as e:
            result, self.errors[endpoint.id] = None, e.message
        await self.reload()
        return result

    async def set_enabled(self, endpoint: WebhookEndpoint, enabled: bool) -> None:
        if enabled != endpoint.enabled:
            await self.run(endpoint, lambda: self.container.webhooks.set_enabled(endpoint.id, enabled))

    async def rotate(self, endpoint: WebhookEndpoint) -> None:
        if not await confirm(f"Rotate the secret of {endpoint.url}? The current secret stops working at once: "
                             "the next deliveries are signed with the new one only.", action="Rotate"):
            return
        rotated = await self.run(endpoint, lambda: self.container.webhooks.rotate_secret(endpoint.id))
        if rotated is not None:
            await show_secret(self.anchor, rotated, "New signing secret")

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        if not await confirm(f"Delete {endpoint.url} and its delivery log? This cannot be undone."):
            return
        await self.run(endpoint, lambda: self.container.webhooks.delete(endpoint.id))

    def on_event(self, event: Event) -> None:
        if event.type.startswith("webhook_endpoint."):
            self.dirty = True

    async def redraw(self) -> None:
        if self.dirty:
            self.dirty = False
            await self.reload()

    @ui.refreshable_method
    def draw(self) -> None:
        if not self.endpoints:
            empty_state("webhook", "No endpoints yet. Add one to have PayGate post its events to it.",
                        "Add endpoint", self.form.open).mark("empty-state", "endpoints-empty")
            return
        with ui.column().classes("w-full gap-2").mark("endpoints-list"):
            for endpoint in self.endpoints:
                self._card(endpoint)

    def _card(self, e: WebhookEndpoint) -> None:
        chosen = self.log.endpoint is not None and self.log.endpoint.id == e.id
        with ui.card().classes("w-full p-3 gap-1").classes("ring-2 ring-[var(--q-primary)]" if chosen else "") \
                .mark(f"endpoint-{e.id}"):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                badge(e.status).mark(f"endpoint-status-{e.id}")
                ui.label(e.url).classes("font-mono text-sm break-all min-w-0")
            if e.description:
                ui.label(e.description).classes("text-sm break-words")
            ui.label(f"Events: {', '.join(e.event_types)}").classes("text-xs text-grey-7 break-words")
            if e.disabled_reason:
                ui.label(f"Disabled: {e.disabled_reason}").classes("text-xs text-negative") \
                    .mark(f"disabled-reason-{e.id}")
            with ui.row().classes("w-full items-center gap-1"):
                ui.switch("Enabled", value=e.enabled, on_change=lambda ev: self.set_enabled(e, bool(ev.value))) \
                    .mark(f"toggle-{e.id}")
                ui.button("Deliveries", icon="list_alt", on_click=lambda: self.choose(e)) \
                    .props("flat dense no-caps").mark(f"show-log-{e.id}")
                ui.button("Rotate secret", icon="key", on_click=lambda: self.rotate(e)) \
                    .props("flat dense no-caps").mark(f"rotate-{e.id}")
                ui.button("Delete", icon="delete", on_click=lambda: self.delete(e)) \
                    .props("flat dense no-caps color=negative").mark(f"delete-{e.id}")
            if e.id in self.errors:
                ui.label(self.errors[e.id]).classes("text-negative text-sm").mark(f"endpoint-error-{e.id}")


def register(container: Container) -> None:
    @page(container, "/admin/webhooks", TITLE, "webhook", admin_only=True)
    async def webhooks_page(admin: User) -> None:
        log = DeliveryLog(container)
        endpoints = EndpointList(container, log)
        await endpoints.reload()
        ui.button("Add endpoint", icon="add", on_click=endpoints.form.open).mark("add-endpoint")
        endpoints.draw()
        with ui.card().classes("w-full gap-2 p-3").mark("delivery-log"):
            log.draw()

        def on_event(event: Event) -> None:
            endpoints.on_event(event)
            log.on_event(event)

        async def redraw() -> None:
            await endpoints.redraw()
            await log.redraw()

        on_events(container, on_event)
        ui.timer(REDRAW_SECONDS, redraw)
