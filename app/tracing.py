"""OpenTelemetry traces, optional: PAYGATE_OTEL_ENDPOINT turns on OTLP/HTTP export.

`OtelTracer` implements the domain's tracing port (domain/observability.py) on the OpenTelemetry SDK,
with a tracer provider of its own (not the global one, so tests can build several). Unset endpoint:
`build_tracer` returns the domain's `NO_TRACER` and nothing is recorded. The HTTP middleware
(app/api/request_id.py) opens each request's server span with `server_span`; a payment keeps the W3C
`traceparent` of its submit span, and the drain's span for it is that span's child, so one trace
follows the payment: HTTP submit → drain → token wait → provider call → outcome.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from domain.observability import NO_TRACER, Attribute, OpenSpan, Span, Tracer

PROPAGATOR = TraceContextTextMapPropagator()


class _Span:
    """An SDK span behind the port's `Span`/`OpenSpan`."""

    def __init__(self, span: trace.Span) -> None:
        self.span = span

    def set(self, key: str, value: Attribute) -> None:
        self.span.set_attribute(key, value)

    def use(self) -> AbstractContextManager[None]:
        return _using(self.span)

    def end(self) -> None:
        self.span.end()


@contextlib.contextmanager
def _using(span: trace.Span) -> Iterator[None]:
    with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
        yield


def _resource() -> Resource:
    """service.name "paygate", unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names the service."""
    detected = Resource.create()  # reads both variables
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        return detected.merge(Resource({"service.name": "paygate"}))
    return detected


def traceparent() -> str | None:
    """The W3C traceparent of the current span, or None when nothing is traced."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


class OtelTracer:
    def __init__(self, exporter: SpanExporter, batch: bool = True) -> None:
        """Spans go to `exporter`: in batches (production), or one by one (`batch=False`, for tests)."""
        self.provider = TracerProvider(resource=_resource())
        self.provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("paygate")

    @contextlib.contextmanager
    def span(self, name: str, attributes: Mapping[str, Attribute] | None = None) -> Iterator[Span]:
        with self.tracer.start_as_current_span(name, attributes=attributes) as span:
            yield _Span(span)

    def start(self, name: str, parent: str | None = None,
              attributes: Mapping[str, Attribute] | None = None) -> OpenSpan:
        context = PROPAGATOR.extract({"traceparent": parent}) if parent else None
        return _Span(self.tracer.start_span(name, context=context, attributes=attributes))

    @contextlib.contextmanager
    def server_span(self, method: str, path: str, headers: Mapping[str, str]) -> Iterator[trace.Span]:
        """An HTTP request's span, child of the caller's `traceparent` header if it sent one."""
        parent = PROPAGATOR.extract(dict(headers))
        span = self.tracer.start_span(method, context=parent, kind=SpanKind.SERVER,
                                      attributes={"http.request.method": method, "url.path": path})
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            yield span
        except BaseException as e:
            span.record_exception(e)
            span.set_status(Status(StatusCode.ERROR, type(e).__name__))
            raise
        finally:
            otel_context.detach(token)
            span.end()

    def shutdown(self) -> None:
        """Export what is still batched, then stop."""
        self.provider.shutdown()


def otlp_url(endpoint: str) -> str:
    """The collector's traces URL: `endpoint` as given if it names /v1/traces, else with it."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"


def build_tracer(endpoint: str | None) -> Tracer:
    """OTLP/HTTP export to `endpoint` (PAYGATE_OTEL_ENDPOINT) in batches; None: no tracing at all."""
    if not endpoint:
        return NO_TRACER
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OtelTracer(OTLPSpanExporter(endpoint=otlp_url(endpoint)))
