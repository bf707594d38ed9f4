"""Who may open a page: the `page` decorator, and the page a customer sees at an admin URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from nicegui import run, ui
from nicegui.storage import request_contextvar
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import NavEntry, add_nav, frame
from app.pages.session import current_user, sign_out
from app.pages.widgets import on_events
from domain.model.errors import NotFound
from domain.model.events import Event
from domain.model.users import User

PageBody = Callable[[User], Awaitable[None]]
T = TypeVar("T")
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

    That check holds when the page loads; each action of the page checks again (`still_signed_in`), and a
    change to the page's own user (demoted, deactivated, deleted, password reset) is checked at once.
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
            follow_own_user(container, user, admin_only)
            return None

        return body

    return register


class DetailView(Protocol):
    """What a detail page draws: the item whole, kept live by its events."""

    def draw(self) -> None: ...

    def on_event(self, event: Event) -> Awaitable[None] | None: ...


@dataclass(frozen=True)
class Detail(Generic[T]):
    """A page that shows one item, named by the one parameter of its path: a payment's, an order's.

    `read(user, key)` reads it as that user may see it (in a worker thread) and raises NotFound for an
    item the user may not see, which then reads the same as one that does not exist; `view` draws it.
    """

    noun: str  # "payment", "order": the not-found card says "Payment not found."
    key_word: str  # what names it: "There is no order with this number that you may see."
    back: tuple[str, str, str]  # the link back to the list: (text, path, marker)
    read: Callable[[User, str], T]
    view: Callable[[User, T], DetailView]


def detail_page(container: Container, path: str, title: str, detail: Detail[T]) -> None:
    """Register the page at `path` (one parameter, `{key}`) for signed-in users, with no entry in the
    navigation. An admin sees any customer's item: demoted meanwhile, they leave the page as from an admin page.
    """

    @ui.page(path, response_timeout=RESPONSE_TIMEOUT_SECONDS)
    async def guarded(key: str) -> RedirectResponse | None:
        user = await current_user(container)
        if user is None:
            return RedirectResponse("/login")
        with frame(title, user):
            await _show(container, user, key, detail)
        follow_own_user(container, user, admin_only=user.is_admin)
        return None


async def _show(container: Container, user: User, key: str, detail: Detail[T]) -> None:
    text, back_path, back_marker = detail.back
    ui.link(f"← {text}", back_path).classes("text-sm").mark(back_marker)
    try:
        item = await run.io_bound(detail.read, user, key)
    except NotFound:
        with ui.card().classes("w-full items-center p-8 gap-3").mark(f"{detail.noun}-not-found"):
            ui.icon("search_off", size="xl", color="grey-7")
            ui.label(f"{detail.noun.capitalize()} not found.").classes("text-lg")
            ui.label(f"There is no {detail.noun} with this {detail.key_word} that you may see.") \
                .classes("text-grey-7 text-center")
            ui.button(text, icon="arrow_back", on_click=lambda: ui.navigate.to(back_path))
        return
    if item is None:  # run.io_bound's None: the app is stopping
        return
    view = detail.view(user, item)
    view.draw()
    on_events(container, view.on_event)


async def still_signed_in(container: Container, admin_only: bool = False) -> User | None:
    """The signed-in user, read again for an action of an open page; None when the action must not run.

    A session no longer valid (user deactivated, deleted, password reset, session expired) is signed out and
    the browser sent to /login; an admin demoted meanwhile, on an admin page, is sent to the dashboard.
    Call it first in every action handler, and act as the user it returns (not the one the page loaded with).
    """
    user = await current_user(container)
    if user is None:
        sign_out()
        ui.navigate.to("/login")
        return None
    if admin_only and not user.is_admin:
        ui.navigate.to("/")
        return None
    return user


def follow_own_user(container: Container, user: User, admin_only: bool) -> None:
    """Check the session again as soon as the page's own user changes, and leave the page when it no longer holds."""
    client = ui.context.client

    async def recheck() -> None:
        # A live event arrives outside any browser request; the session is this page's, so read it as the page's.
        request_contextvar.set(client.request)
        await still_signed_in(container, admin_only)

    def on_event(event: Event) -> Awaitable[None] | None:
        if event.type.startswith("user.") and event.aggregate_id == user.id:
            return recheck()
        return None

    on_events(container, on_event)


def not_allowed(title: str, user: User) -> None:
    """What a signed-in customer sees at an admin page."""
    with frame("Not allowed", user), ui.card().classes("w-full items-center p-8 gap-3").mark("not-allowed"):
        ui.icon("block", size="xl", color="negative")
        ui.label(f"{title} is for administrators only.").classes("text-lg")
        ui.label("Your account does not have access to this page.").classes("text-grey-7")
        ui.button("Back to the dashboard", icon="arrow_back", on_click=lambda: ui.navigate.to("/"))
