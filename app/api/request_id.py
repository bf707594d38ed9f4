"""Each HTTP request's id and log context, and its trace span (pure ASGI, the outermost middleware).

The id is the caller's `X-Request-ID` when it is printable ASCII of at most 128 characters, else a new
one. It is bound to the log context for the whole request (so the 500's log line carries it), echoed
in `X-Request-ID` on every response, errors included, and kept on a payment the request submits, so
the drain's lines for that payment carry it too (docs/logging.md). With tracing on, the request is a
server span, and its traceparent joins the log context (the payment keeps it as well).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.tracing import OtelTracer, traceparent
from domain.observability import log_scope

log = logging.getLogger("paygate.http")

HEADER = b"x-request-id"
MAX_LENGTH = 128


def valid_request_id(value: str) -> bool:
    """Printable ASCII, no spaces, 1–128 characters: safe to echo in a header and a log line."""
    return 0 < len(value) <= MAX_LENGTH and value.isascii() and value.isprintable() and " " not in value


def request_id_of(scope: Scope) -> str:
    for name, raw in scope.get("headers", ()):
        if name == HEADER:
            value = raw.decode("latin-1")
            return value if valid_request_id(value) else new_request_id()
    return new_request_id()


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestContext:
    """Binds `request_id` for the request, echoes it, and traces the request when tracing is on.

    `container` is read per request (its `tracer`), so a test may swap the tracer after install.
    """

    def __init__(self, app: ASGIApp, container: Any = None) -> None:
        self.app = app
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        tracer = getattr(self.container, "tracer", None)
        started = time.perf_counter()
        status: list[int] = []
        with log_scope(request_id=request_id), self._span(tracer, scope) as span:
            if span is not None:
                with log_scope(traceparent=traceparent()):
                    await self.app(scope, receive, _echo(request_id, send, span, status))
                    _name_span(span, scope)
            else:
                await self.app(scope, receive, _echo(request_id, send, None, status))
            if status and status[0] >= 400:
                # An error's line, so the id a client quotes from the response leads to it.
                log.info("%s %s answered %d", scope["method"], scope["path"], status[0],
                         extra={"status": status[0], "method": scope["method"], "path": scope["path"],
                                "duration_ms": round((time.perf_counter() - started) * 1000)})

    @staticmethod
    @contextlib.contextmanager
    def _span(tracer: object, scope: Scope) -> Iterator[Any]:
        if not isinstance(tracer, OtelTracer) or scope["type"] != "http":
            yield None
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())
                   if k in (b"traceparent", b"tracestate")}
        with tracer.server_span(scope["method"], scope["path"], headers) as span:
            yield span


def _name_span(span: Any, scope: Scope) -> None:
    """Name the span by its route template (`POST /api/payments/{payment_id}`), not the raw path."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        span.update_name(f"{scope['method']} {route}")
        span.set_attribute("http.route", route)


def _echo(request_id: str, send: Send, span: Any, status: list[int]) -> Send:
    """`send` with the request id added to the response's headers; the status goes into `status`."""
    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
            message = {**message, "headers": [*headers, (HEADER, request_id.encode("latin-1"))]}
            status.append(message["status"])
            if span is not None:
                span.set_attribute("http.response.status_code", message["status"])
        await send(message)

    return send_with_id
