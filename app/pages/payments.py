"""Payment History: the payments of the signed-in customer (every customer's for an admin), live."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import add_nav, frame
from app.pages.guard import require_user
from app.pages.new_payment import METHODS
from app.pages.widgets import money, on_events
from domain.clock import iso
from domain.model.events import Event
from domain.model.users import User

PAGE_SIZE = 10


def register(container: Container) -> None:
    add_nav("Payment History", "/payments", "receipt_long")

    @ui.page("/payments")
    def history_page() -> RedirectResponse | None:
        user = require_user(container)
        if not isinstance(user, User):
            return user
        state: dict[str, Any] = {"status": None, "cursors": [None], "visible": set()}
        with frame("Payment History", user):
            with ui.row().classes("items-center gap-2"):
                ui.select({None: "All statuses", **{s: s for s in
                                                   ("pending", "processing", "retrying", "completed", "failed")}},
                          value=None, label="Status", on_change=lambda e: (state.update(status=e.value,
                                                                                           cursors=[None]),
                                                                           table.refresh())) \
                    .props("outlined dense").classes("w-48").mark("status-filter")

            @ui.refreshable
            def table() -> None:
                page, next_cursor = container.payments.list(user, status=state["status"], limit=PAGE_SIZE,
                                                            cursor=state["cursors"][-1])
                state["visible"] = {p.id for p in page}
                if not page:
                    ui.label("No payments yet." if state["status"] is None else "No payments with this status.") \
                        .classes("text-grey-7").mark("empty-state")
                    return
                columns = [{"name": "createdAt", "label": "Created", "field": "createdAt", "align": "left"},
                           {"name": "amount", "label": "Amount", "field": "amount", "align": "right"},
                           {"name": "status", "label": "Status", "field": "status", "align": "left"},
                           {"name": "card", "label": "Method", "field": "card", "align": "left"},
                           {"name": "reason", "label": "Reason", "field": "reason", "align": "left"},
                           {"name": "id", "label": "Payment", "field": "id", "align": "left"}]
                if user.is_admin:
                    columns.insert(1, {"name": "customer", "label": "Customer", "field": "customer", "align": "left"})
                rows = [{"id": p.id, "createdAt": (iso(p.created_at) or "")[:19].replace("T", " "),
                         "amount": money(p.amount, p.currency), "status": p.status, "customer": p.customer_id,
                         "card": f"{p.card_brand} ····{p.card_last4}" if p.card_last4 else METHODS[p.payment_method],
                         "reason": p.failure_message or ""} for p in page]
                tbl = ui.table(columns=columns, rows=rows, row_key="id").classes("w-full").mark("payments-table")
                tbl.add_slot("body-cell-status", """
                    <q-td :props="props"><q-badge :color="{completed:'positive',failed:'negative',
                    retrying:'orange-8',processing:'blue-7'}[props.value] || 'grey-7'" :label="props.value"/></q-td>
                """)
                with ui.row().classes("gap-2"):
                    ui.button("Newer", icon="chevron_left",
                              on_click=lambda: (state["cursors"].pop(), table.refresh())) \
                        .props("flat").bind_visibility_from(state, "cursors", backward=lambda c: len(c) > 1) \
                        .mark("page-newer")
                    if next_cursor:
                        ui.button("Older", icon="chevron_right",
                                  on_click=lambda: (state["cursors"].append(next_cursor), table.refresh())) \
                            .props("flat").mark("page-older")

            table()

            def on_event(event: Event) -> None:
                if not event.type.startswith("payment."):
                    return
                mine = user.is_admin or event.customer_id == user.id
                if event.aggregate_id in state["visible"] or (mine and len(state["cursors"]) == 1):
                    table.refresh()

            on_events(container, on_event)
        return None
