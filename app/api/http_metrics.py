"""HTTP request metrics by route template, as pure ASGI middleware (nothing buffered, streams pass).

A request is counted under the template of the route that serves it (`/api/payments/{payment_id}`),
never its raw path, so ids cannot blow up the number of series. A path no route serves is counted as
`unmatched`, and NiceGUI's own assets and internals (`/_nicegui/...`) as one `/_nicegui` route. The
series live in the app's `Metrics` (app/prometheus.py), found on `app.state` at each request.
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

try:  # FastAPI 0.16x nests included routers; this flattens them (older versions keep a flat list)
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover
    iter_route_contexts = None  # type: ignore[assignment]

UNMATCHED = "unmatched"
NICEGUI = "/_nicegui"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
METERED = "paygate.metered"  # set on the scope by the outermost copy (the API may be installed twice)


class RouteTemplates:
    """The route template that serves a path, as the router picks it: the first route whose path and
    method match, else the first whose path matches (it answers 405), else a mount's prefix."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._rows: list[tuple[re.Pattern[str] | None, str, frozenset[str] | None]] = []

    def _table(self, app: Any) -> list[tuple[re.Pattern[str] | None, str, frozenset[str] | None]]:
        routes = list(getattr(getattr(app, "router", None), "routes", ()))
        key = (id(app), len(routes))  # NiceGUI adds a route or two at start-up
        if key != self._key:
            flat = iter_route_contexts(routes) if iter_route_contexts is not None else routes
            rows: list[tuple[re.Pattern[str] | None, str, frozenset[str] | None]] = []
            for route in flat:
                path = getattr(route, "path", None)
                if not path:
                    continue
                methods = getattr(route, "methods", None)
                if methods:
                    rows.append((compile_path(path)[0], path, frozenset(methods)))
                elif isinstance(getattr(route, "original_route", route), Mount):
                    rows.append((None, path.rstrip("/"), None))  # a mount: everything under its prefix
            self._rows, self._key = rows, key
        return self._rows

    def template(self, app: Any, method: str, path: str) -> str:
        fallback: str | None = None
        for regex, template, methods in self._table(app):
            if regex is None:
                if fallback is None and (path == template or path.startswith(template + "/")):
                    fallback = template or "/"
            elif regex.match(path):
                if methods is not None and (method in methods or (method == "HEAD" and "GET" in methods)):
                    return _grouped(template)
                if fallback is None:
                    fallback = template
        if fallback is None and path.startswith(NICEGUI + "/"):
            return NICEGUI
        return _grouped(fallback) if fallback is not None else UNMATCHED


def _grouped(template: str) -> str:
    return NICEGUI if template == NICEGUI or template.startswith(NICEGUI + "/") else template


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
        if scope["type"] != "http" or metrics is None or scope.get(METERED):
            await self.app(scope, receive, send)
            return
        scope[METERED] = True
        method = scope["method"] if scope["method"] in METHODS else "other"
        path = scope["path"]
        status = 500  # unless the app starts a response: an exception that escaped everything
        started = time.perf_counter()

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            route = self.routes.template(scope.get("app"), scope["method"], path)
            metrics.process.observe_request(method, route, status, time.perf_counter() - started)
