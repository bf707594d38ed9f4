"""The HTTP frame around the routes: a 500 that keeps the connection, and honest methods.

Both are pure ASGI middleware (no response buffering), installed by `install_api`:

- `ErrorBoundary` turns an unexpected exception into the JSON 500 body inside the app. Starlette's
  outermost ServerErrorMiddleware would send its 500 and then re-raise, and uvicorn answers a
  re-raised exception by dropping the keep-alive connection; here nothing escapes.
- `MethodFrame` answers `OPTIONS` with an `Allow` header, serves `HEAD` wherever `GET` is served
  (the GET response without its body), and makes a 405's `Allow` list every method of the path,
  not only those of the first route that matched it. A literal path is never also a template's.
"""

from __future__ import annotations

import logging
import re

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response, internal_error_response
from app.api.limits import is_api_path

try:  # FastAPI 0.16x nests included routers; this flattens them (older versions keep a flat list)
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover
    iter_route_contexts = None  # type: ignore[assignment]

log = logging.getLogger("paygate.api")

METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


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


class RouteTable:
    """(path pattern, literal, methods) of every HTTP route, flattened out of included routers."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._rows: list[tuple[re.Pattern[str], bool, frozenset[str]]] = []

    def rows(self, app: object) -> list[tuple[re.Pattern[str], bool, frozenset[str]]]:
        routes = list(getattr(getattr(app, "router", None), "routes", ()))
        key = (id(app), len(routes))  # NiceGUI adds a route or two at start-up
        if key != self._key:
            flat = iter_route_contexts(routes) if iter_route_contexts is not None else routes
            self._rows = []
            for route in flat:
                path, methods = getattr(route, "path", None), getattr(route, "methods", None)
                if path and methods:  # mounts and WebSocket routes serve their own methods
                    regex, _, convertors = compile_path(path)
                    self._rows.append((regex, not convertors, frozenset(methods)))
            self._key = key
        return self._rows

    def methods(self, scope: Scope) -> tuple[set[str], bool]:
        """The methods served at the request's path, and whether a literal route (no parameters) serves it.

        A literal path wins over a template, as OpenAPI matches paths: /api/products/categories is not
        also /api/products/{productId}.
        """
        literal: set[str] = set()
        templated: set[str] = set()
        for regex, is_literal, methods in self.rows(scope.get("app")):
            if regex.match(scope["path"]):
                (literal if is_literal else templated).update(methods)
        return (literal, True) if literal else (templated, False)


def allow_header(methods: set[str]) -> str:
    allowed = set(methods) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else 99, m)))


class MethodFrame:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = RouteTable()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        methods, literal = self.routes.methods(scope)
        served = methods | ({"HEAD"} if "GET" in methods else set())
        if method == "OPTIONS" and methods and "OPTIONS" not in methods:
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(b"allow", allow_header(methods).encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        # Under /api/ only: the router would hand such a request to a template's route.
        if literal and method not in served and is_api_path(scope["path"]):
            response = error_response(405, "method_not_allowed", "Method Not Allowed",
                                      headers={"Allow": allow_header(methods)})
            await response(scope, receive, send)
            return
        if method == "HEAD" and "GET" in methods and "HEAD" not in methods:
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        await self.app(scope, receive, _full_allow(methods, send))


def _without_body(send: Send) -> Send:
    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return head_send


def _full_allow(methods: set[str], send: Send) -> Send:
    async def allow_send(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 405:
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
            message = {**message, "headers": [*headers, (b"allow", allow_header(methods).encode())]}
        await send(message)

    return allow_send
