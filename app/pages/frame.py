"""The shared page frame: header with the user's name and role, navigation by role, sign out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from nicegui import app, ui

from app.browser_sessions import session_saved
from app.pages.session import sign_out
from domain.model.users import User


class NavEntry(NamedTuple):
    """One entry of the navigation drawer."""

    label: str
    path: str
    icon: str
    admin_only: bool = False

    @property
    def marker(self) -> str:
        return f"nav-{self.path.strip('/').replace('/', '-') or 'home'}"


BRAND = {"primary": "#4338ca", "secondary": "#0f766e", "accent": "#7c3aed", "positive": "#15803d",
         "negative": "#b91c1c", "info": "#0369a1", "warning": "#b45309"}
"""The one palette of every page: Quasar's brand colours, so `color=primary`, `bg-primary`, `text-primary`
(and a status's `positive`, `negative`, ...) are these everywhere."""

# Every page's look, beside Quasar's and Tailwind's layers (NiceGUI declares them in this order:
# theme, base, quasar, nicegui, components, utilities, overrides).
LOOK_CSS = """
@layer base {
  /* Tailwind 4's `border`/`border-b` draw in currentColor (black text: a black line) unless a colour is given.
     A light grey instead; a Tailwind or Quasar border colour still wins (their layers come later). The extra
     `html` outweighs Tailwind's own reset of the same layer, which is added after this. */
  html *, html ::before, html ::after { border-color: #e5e7eb; }
}
@layer overrides {
  /* One button case: sentence case, as written, on every button and tab. */
  .q-btn, .q-tab { text-transform: none; }
  /* Keyboard focus shows on every control in the palette (Quasar's fields show theirs by their own frame).
     Quasar gives its buttons `no-outline` (outline: 0 !important); an !important of this earlier layer wins. */
  :focus-visible { outline: 2px solid var(--q-primary); outline-offset: 2px; }
  .q-btn:focus-visible, .q-item:focus-visible, .q-tab:focus-visible, .q-chip:focus-visible,
  .q-checkbox:focus-visible, .q-toggle:focus-visible, .q-radio:focus-visible {
    outline: 2px solid var(--q-primary) !important; outline-offset: 2px;
  }
  .q-header .q-btn:focus-visible { outline-color: #fff !important; }  /* on the primary header */
  .q-item.nav-current { background: color-mix(in srgb, var(--q-primary) 12%, transparent); }
}
"""

NAV: list[NavEntry] = []
"""Filled as the pages register (app/pages/guard.py), in the order they do."""


def add_nav(entry: NavEntry) -> None:
    """Pages register their entry here, so the navigation lists exactly the pages that exist."""
    if not any(e.path == entry.path for e in NAV):
        NAV.append(entry)


def install_look() -> None:
    """The palette, the global styles and Quasar's defaults for every page (once, as the app is set up).

    Repeated toasts are not grouped: Quasar would stack them into one with a counter badge ("2", "3").
    """
    app.colors(**BRAND)
    app.config.quasar_config["notify"] = {"group": False}
    ui.add_css(LOOK_CSS, shared=True)


def current_entry(path: str) -> NavEntry | None:
    """The navigation entry of the page at `path`: its own, or the deepest one it lies under
    (a payment's page is under Payment History, not the dashboard)."""
    under = [e for e in NAV if path == e.path or (e.path != "/" and path.startswith(e.path.rstrip("/") + "/"))]
    return max(under, key=lambda e: len(e.path), default=None)


async def _sign_out() -> None:
    sign_out()
    await session_saved()  # the sign-in page may come from another replica
    ui.navigate.to("/login")


def _nav_item(label: str, icon: str, icon_color: str, marker: str, on_click: Callable[[], object],
              current: bool = False) -> None:
    with ui.item(on_click=on_click).props("clickable").mark(marker) as item:
        with ui.item_section().props("avatar"):
            ui.icon(icon, color=icon_color)
        ui.item_section(label)
    if current:  # the page one is on: highlighted, and said so to a screen reader
        item.props["active"] = True
        item.props["active-class"] = "nav-current text-primary text-weight-medium"
        item.props["aria-current"] = "page"


def _go(path: str) -> Callable[[], None]:
    return lambda: ui.navigate.to(path)


@contextmanager
def frame(title: str, user: User) -> Iterator[None]:
    """Header (name, role, sign out), a navigation drawer by role, and the page's content column.

    The drawer stays open on wide screens and folds behind the menu button on narrow ones (390 px).
    """
    ui.page_title(f"{title} · PayGate")
    drawer: ui.left_drawer  # made below; the menu button reads it when clicked
    here = current_entry(ui.context.client.page.path)  # the route: "/payments/{payment_id}" is under /payments
    with ui.header().classes("items-center justify-between bg-primary text-white px-2 py-1 no-wrap").mark("header"):
        with ui.row().classes("items-center gap-1 no-wrap"):
            ui.button(icon="menu", on_click=lambda: drawer.toggle()).props("flat round color=white") \
                .mark("menu").tooltip("Menu")
            ui.icon("payments", size="md")
            ui.label("PayGate").classes("text-xl font-bold")
        with ui.row().classes("items-center gap-2 no-wrap"):
            ui.label(user.name).classes("font-medium max-sm:hidden").mark("user-name")
            ui.badge(user.role, color="amber" if user.is_admin else "teal").mark("user-role")
            ui.button(icon="logout", on_click=_sign_out).props("flat round color=white").mark("sign-out") \
                .tooltip("Sign out")
    with ui.left_drawer(value=None, bordered=True).props("width=230 breakpoint=1000").classes("bg-grey-1 p-0") \
            as drawer, ui.list().classes("w-full").mark("nav"):
        for entry in NAV:
            if not entry.admin_only or user.is_admin:
                _nav_item(entry.label, entry.icon, "primary", entry.marker, _go(entry.path), entry == here)
        ui.separator()
        _nav_item("Sign out", "logout", "grey-7", "sign-out-nav", _sign_out)
    with ui.column().classes("w-full max-w-6xl mx-auto p-4 max-sm:p-2 gap-4 min-w-0"):
        ui.label(title).classes("text-2xl font-semibold").mark("page-title")
        yield
