"""The HTTP frame around the routes: a 500 that keeps the connection, and honest methods.

Both are pure ASGI middleware (no response buffering), installed by `install_api`:

- `ErrorBoundary` turns an unexpected exception into the JSON 500 body inside the app. Starlette's
  outermost ServerErrorMiddleware would send its 500 and then re-raise, and uvicorn answers a
  re-raised exception by dropping the keep-alive connection; here nothing escapes.
- `MethodFrame` answers `OPTIONS` with an `Allow` header, serves `HEAD` wherever `GET` is served
  (the GET response without its body), and makes a 405's `Allow` list every method of the path,
  not only those of the first route that matched it.
"""

from __future__ import annotations

import logging

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import internal_error_response

log = logging.getLogger("paygate.api")

METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PROBED_METHODS = (*METHOD_ORDER, "TRACE", "QUERY")


class ErrorBoundary:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:  # half a response cannot be mended; the server closes the connection
                raise
            log.exception("unhandled error", exc_info=exc)
            await internal_error_response()(scope, receive, send)


def route_methods(scope: Scope) -> set[str]:
    """The methods that the app's routes accept for this request's path.

    Each method is tried against the routes (FastAPI nests included routers, so routes are asked,
    not inspected); mounts are left out, as they serve every method of their prefix themselves.
    """
    router = getattr(scope.get("app"), "router", None)
    routes = [r for r in getattr(router, "routes", ()) if not isinstance(r, Mount)]
    return {method for method in PROBED_METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)}


def allow_header(methods: set[str]) -> str:
    allowed = set(methods) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else 99, m)))


class MethodFrame:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method in ("OPTIONS", "HEAD"):
            methods = route_methods(scope)
            if method == "OPTIONS" and methods and "OPTIONS" not in methods:
                await send({"type": "http.response.start", "status": 204,
                            "headers": [(b"allow", allow_header(methods).encode())]})
                await send({"type": "http.response.body", "body": b""})
                return
            if method == "HEAD" and "GET" in methods and "HEAD" not in methods:
                scope = {**scope, "method": "GET"}
                send = _without_body(send)
        await self.app(scope, receive, _full_allow(scope, send))


def _without_body(send: Send) -> Send:
    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return head_send


def _full_allow(scope: Scope, send: Send) -> Send:
    async def allow_send(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 405:
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
            message = {**message, "headers": [*headers, (b"allow", allow_header(route_methods(scope)).encode())]}
        await send(message)

    return allow_send
