"""The sign-in page."""

from __future__ import annotations

from nicegui import run, ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from app.api.auth import client_address
from app.bootstrap import Container
from app.browser_sessions import session_saved
from app.pages.guard import RESPONSE_TIMEOUT_SECONDS
from app.pages.session import current_user, sign_in
from domain.model.errors import InvalidCredentials, RateLimited


def register(container: Container) -> None:
    @ui.page("/login", response_timeout=RESPONSE_TIMEOUT_SECONDS)
    async def login_page(request: Request) -> RedirectResponse | None:
        if await current_user(container) is not None:
            return RedirectResponse("/")
        client = client_address(request)
        ui.page_title("Sign in · PayGate")

        async def try_sign_in() -> None:
            error.set_text("")
            if not email.value or not password.value:
                error.set_text("Enter your email and password.")
                return
            button.props("loading")
            try:
                user = await run.io_bound(container.auth.authenticate, email.value, password.value, client)
            except InvalidCredentials:
                error.set_text("Wrong email or password. Please try again.")
                return
            except RateLimited as e:
                error.set_text(f"Too many failed attempts. Try again in {e.retry_after_seconds} seconds.")
                return
            finally:
                button.props(remove="loading")
            if user is None:  # run.io_bound's None: the app is stopping
                return
            sign_in(container, user)
            await session_saved()  # the next page may come from another replica
            ui.navigate.to("/")

        with ui.column().classes("absolute-center items-stretch w-80 max-w-[92vw] gap-3"):
            with ui.row().classes("items-center gap-2 justify-center"):
                ui.icon("payments", size="lg", color="primary")
                ui.label("PayGate").classes("text-3xl font-bold text-primary")
            with ui.card().classes("w-full gap-3"):
                ui.label("Sign in").classes("text-xl font-semibold")
                email = ui.input("Email", placeholder="you@example.com") \
                    .props("type=email autocomplete=username autofocus outlined").classes("w-full").mark("email")
                password = ui.input("Password", password=True, password_toggle_button=True) \
                    .props("autocomplete=current-password outlined").classes("w-full").mark("password")
                error = ui.label("").classes("text-negative text-sm").mark("login-error")
                button = ui.button("Sign in", on_click=try_sign_in).classes("w-full").mark("sign-in")
                email.on("keydown.enter", try_sign_in)
                password.on("keydown.enter", try_sign_in)
            ui.label("Demo: customer@example.com / password123 · admin@example.com / admin123") \
                .classes("text-xs text-grey-7 text-center")
        return None
