"""The shared page frame: header with the user's name and role, navigation by role, sign out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from nicegui import ui

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


NAV: list[NavEntry] = []
"""Filled as the pages register (app/pages/guard.py), in the order they do."""


def add_nav(entry: NavEntry) -> None:
    """Pages register their entry here, so the navigation lists exactly the pages that exist."""
    if not any(e.path == entry.path for e in NAV):
        NAV.append(entry)


def _sign_out() -> None:
    sign_out()
    ui.navigate.to("/login")


def _nav_item(label: str, icon: str, icon_color: str, marker: str, on_click: Callable[[], None]) -> None:
    with ui.item(on_click=on_click).props("clickable").mark(marker):
        with ui.item_section().props("avatar"):
            ui.icon(icon, color=icon_color)
        ui.item_section(label)


def _go(path: str) -> Callable[[], None]:
    return lambda: ui.navigate.to(path)


@contextmanager
def frame(title: str, user: User) -> Iterator[None]:
    """Header (name, role, sign out), a navigation drawer by role, and the page's content column.

    The drawer stays open on wide screens and folds behind the menu button on narrow ones (390 px).
    """
    ui.page_title(f"{title} · PayGate")
    drawer: ui.left_drawer  # made below; the menu button reads it when clicked
    with ui.header().classes("items-center justify-between bg-indigo-700 px-2 py-1 no-wrap"):
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
                _nav_item(entry.label, entry.icon, "indigo-7", entry.marker, _go(entry.path))
        ui.separator()
        _nav_item("Sign out", "logout", "grey-7", "sign-out-nav", _sign_out)
    with ui.column().classes("w-full max-w-6xl mx-auto p-4 max-sm:p-2 gap-4"):
        ui.label(title).classes("text-2xl font-semibold").mark("page-title")
        yield
