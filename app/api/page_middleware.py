"""NiceGUI's page middleware, for pages only: API requests skip it.

NiceGUI installs three middlewares on the whole app, each a Starlette `BaseHTTPMiddleware`, which
runs the rest of the request in a task group of its own and passes the body and the response
through memory streams: `RequestTrackingMiddleware` (the browser session behind `app.storage.user`),
`RedirectWithPrefixMiddleware` (an `X-Forwarded-Prefix` before a relative `Location`) and
`SetCacheControlMiddleware` (caching of NiceGUI's own static files). None of them means anything
to the JSON API (bearer tokens, no browser storage, no redirects, no NiceGUI files), yet together
they were about a fifth of the event loop's time per submission (docs/benchmarks.md). Requests
under /api and the benchmark's /bench routes go straight on; pages get all three as before.
"""

from __future__ import annotations

from typing import Any

from nicegui.middlewares import RedirectWithPrefixMiddleware, SetCacheControlMiddleware
from nicegui.storage import RequestTrackingMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.limits import is_api_path

PAGE_MIDDLEWARE: tuple[object, ...] = (RequestTrackingMiddleware, RedirectWithPrefixMiddleware,
                                     SetCacheControlMiddleware)


def skips_page_middleware(path: str) -> bool:
    return is_api_path(path) or path.startswith("/bench/")


class PagesOnly:
    """Runs `middleware` (built on the same inner app) for page requests; other requests skip it."""

    def __init__(self, app: ASGIApp, middleware: Any, *args: Any, **kwargs: Any) -> None:
        self.app = app
        self.wrapped: ASGIApp = middleware(app, *args, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and skips_page_middleware(scope["path"]):
            await self.app(scope, receive, send)
            return
        await self.wrapped(scope, receive, send)


def pages_only(app: Starlette) -> None:
    """Wrap NiceGUI's page middleware in PagesOnly when the app builds its middleware stack (at its
    first request or lifespan, after ui.run has added them). Once per app: NiceGUI's `user` fixture
    runs the app's setup again for every test on one global app, and each wrapping would nest."""
    if getattr(app.state, "pages_only", False):
        return
    app.state.pages_only = True
    build = app.build_middleware_stack

    def build_for_pages() -> ASGIApp:
        app.user_middleware = [Middleware(PagesOnly, m.cls, *m.args, **m.kwargs) if m.cls in PAGE_MIDDLEWARE else m
                               for m in app.user_middleware]
        return build()

    app.build_middleware_stack = build_for_pages  # type: ignore[method-assign]
