"""What the current work is about, for logs and traces, in the standard library only.

- The **log context**: fields (`request_id`, `payment_id`, `order_id`, `user_id`, `traceparent`) that
  every log line written within it carries. app/logs.py puts them on each line; the request
  middleware, the API's user dependency and the drain (for one payment) bind them.
- The **tracing port**: the processor opens spans through a `Tracer`. app/tracing.py implements it
  with OpenTelemetry when PAYGATE_OTEL_ENDPOINT is set; the default, `NO_TRACER`, does nothing.

A payment carries the request id and the W3C `traceparent` of the request that submitted it (its
row's `request_id` and `traceparent`), so the drain, in any process, logs and traces it as part of
that request (docs/logging.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Protocol

# One dict per scope (a request, one payment in the drain): `bind` adds to it in place, so a field
# bound inside a dependency that FastAPI runs in a thread is seen by the rest of the request too.
_fields: ContextVar[dict[str, str] | None] = ContextVar("paygate_log_fields", default=None)

Attribute = str | int | float | bool


def log_fields() -> dict[str, str]:
    """The fields of the current log context (a copy)."""
    return dict(_fields.get() or {})


def bind(**fields: str | None) -> None:
    """Add fields to the current scope (None values are left out); outside any scope this opens
    one for the rest of the current context."""
    current = _fields.get()
    values = {key: value for key, value in fields.items() if value is not None}
    if current is None:
        _fields.set(values)
    else:
        current.update(values)


@contextlib.contextmanager
def log_scope(**fields: str | None) -> Iterator[None]:
    """A new scope within the block: the current fields plus these (None values left out)."""
    values = {**(_fields.get() or {}), **{key: value for key, value in fields.items() if value is not None}}
    token = _fields.set(values)
    try:
        yield
    finally:
        _fields.reset(token)


class Span(Protocol):
    def set(self, key: str, value: Attribute) -> None:
        """Record an attribute (an outcome, a status) on the span."""


class OpenSpan(Span, Protocol):
    """A span started by `Tracer.start`: current only within `use()`, ended by `end()`."""

    def use(self) -> AbstractContextManager[None]: ...

    def end(self) -> None: ...


class Tracer(Protocol):
    def span(self, name: str, attributes: Mapping[str, Attribute] | None = None) -> AbstractContextManager[Span]:
        """A child of the current span, current within the block and ended at its end."""

    def start(self, name: str, parent: str | None = None,
              attributes: Mapping[str, Attribute] | None = None) -> OpenSpan:
        """A span whose parent is `parent` (a W3C traceparent), or the current span when None. It
        may outlive the block that started it (the drain hands a payment to a task)."""


class _NoSpan:
    def set(self, key: str, value: Attribute) -> None:
        pass

    def use(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def end(self) -> None:
        pass


class NoTracer:
    """Tracing off: nothing is recorded, at the cost of a call."""

    _span = _NoSpan()

    def span(self, name: str, attributes: Mapping[str, Attribute] | None = None) -> AbstractContextManager[Span]:
        return contextlib.nullcontext(self._span)

    def start(self, name: str, parent: str | None = None,
              attributes: Mapping[str, Attribute] | None = None) -> OpenSpan:
        return self._span


NO_TRACER: Tracer = NoTracer()
