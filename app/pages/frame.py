"""The shared page frame: header with the user's name and role, navigation by role, sign out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from app.pages.session import sign_out
from domain.users import User

NAV = [
    # (label, path, icon, admin only)
    ("Dashboard", "/", "dashboard", False),
]


def add_nav(label: str, path: str, icon: str, admin: bool = False) -> None:
    """Pages register their entry here, so the navigation lists exactly the pages that exist."""
    if not any(p == path for _, p, _, _ in NAV):
        NAV.append((label, path, icon, admin))


def _sign_out() -> None:
    sign_out()
    ui.navigate.to("/login")


@contextmanager
def frame(title: str, user: User) -> Iterator[None]:
    ui.page_title(f"{title} · PayGate")
    with ui.header().classes("items-center justify-between bg-indigo-700 px-4 py-2 flex-wrap gap-2"):
        with ui.row().classes("items-center gap-2"):
            ui.icon("payments", size="md")
            ui.label("PayGate").classes("text-xl font-bold")
        with ui.row().classes("items-center gap-1 flex-wrap").mark("nav"):
            for label, path, icon, admin_only in NAV:
                if admin_only and not user.is_admin:
                    continue
                ui.button(label, icon=icon, on_click=lambda p=path: ui.navigate.to(p)) \
                    .props("flat color=white no-caps").mark(f"nav-{path.strip('/').replace('/', '-') or 'home'}")
        with ui.row().classes("items-center gap-2"):
            ui.label(user.name).classes("font-medium").mark("user-name")
            ui.badge(user.role, color="amber" if user.is_admin else "teal").mark("user-role")
            ui.button("Sign out", icon="logout", on_click=_sign_out).props("flat color=white no-caps") \
                .mark("sign-out")
    with ui.column().classes("w-full max-w-6xl mx-auto p-4 gap-4"):
        ui.label(title).classes("text-2xl font-semibold").mark("page-title")
        yield
