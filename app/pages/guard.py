"""Page guards: who may open a page, and the page a customer sees at an admin URL."""

from __future__ import annotations

from nicegui import ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import frame
from app.pages.session import signed_in_user
from domain.model.users import User


def require_user(container: Container) -> User | RedirectResponse:
    user = signed_in_user(container)
    return user if user is not None else RedirectResponse("/login")


def require_admin(container: Container, title: str) -> User | RedirectResponse | None:
    """The admin, or a redirect to sign in; for a customer it draws the 'not allowed' page and returns None."""
    user = signed_in_user(container)
    if user is None:
        return RedirectResponse("/login")
    if user.is_admin:
        return user
    with frame("Not allowed", user), ui.card().classes("w-full items-center p-8 gap-3").mark("not-allowed"):
        ui.icon("block", size="xl", color="negative")
        ui.label(f"{title} is for administrators only.").classes("text-lg")
        ui.label("Your account does not have access to this page.").classes("text-grey-7")
        ui.button("Back to the dashboard", icon="arrow_back", on_click=lambda: ui.navigate.to("/"))
    return None
