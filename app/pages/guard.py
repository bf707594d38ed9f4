"""Who may open a page: the `page` decorator, and the page a customer sees at an admin URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import NavEntry, add_nav, frame
from app.pages.session import current_user
from domain.model.users import User

PageBody = Callable[[User], Awaitable[None]]
# A page waits for its reads in worker threads; on a busy database that may pass NiceGUI's default of 3 s,
# after which it would serve an error page where a page built synchronously was merely slow.
RESPONSE_TIMEOUT_SECONDS = 30.0


def page(container: Container, path: str, title: str, icon: str, *,
         admin_only: bool = False) -> Callable[[PageBody], PageBody]:
    """Register the decorated function as the page at `path`, for signed-in users (admins only if `admin_only`),
    with its entry in the navigation.

    The function gets the signed-in User and draws inside the frame titled `title`. An anonymous visitor is
    sent to /login; a customer at an admin page sees the 'not allowed' page instead. The session is looked
    up in a worker thread, as every read of a page is, so the event loop never waits for the database.
    """
    add_nav(NavEntry(title, path, icon, admin_only))

    def register(body: PageBody) -> PageBody:
        @ui.page(path, response_timeout=RESPONSE_TIMEOUT_SECONDS)
        async def guarded() -> RedirectResponse | None:
            user = await current_user(container)
            if user is None:
                return RedirectResponse("/login")
            if admin_only and not user.is_admin:
                not_allowed(title, user)
                return None
            with frame(title, user):
                await body(user)
            return None

        return body

    return register


def not_allowed(title: str, user: User) -> None:
    """What a signed-in customer sees at an admin page."""
    with frame("Not allowed", user), ui.card().classes("w-full items-center p-8 gap-3").mark("not-allowed"):
        ui.icon("block", size="xl", color="negative")
        ui.label(f"{title} is for administrators only.").classes("text-lg")
        ui.label("Your account does not have access to this page.").classes("text-grey-7")
        ui.button("Back to the dashboard", icon="arrow_back", on_click=lambda: ui.navigate.to("/"))
