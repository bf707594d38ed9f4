"""The home page (the dashboard grows here in a later step)."""

from __future__ import annotations

from nicegui import ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import frame
from app.pages.session import signed_in_user


def register(container: Container) -> None:
    @ui.page("/")
    def home_page() -> RedirectResponse | None:
        user = signed_in_user(container)
        if user is None:
            return RedirectResponse("/login")
        with frame("Dashboard", user):
            ui.label(f"Welcome, {user.name}.").classes("text-lg").mark("welcome")
        return None
