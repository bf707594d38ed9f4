"""Prometheus metrics: `GET /metrics` in the text exposition format, from the official client.

Two kinds of series (docs/operations.md explains how to read them):

- **Fleet** numbers come from the database, so every replica answers the same: payments and the
  queue by status, webhook deliveries by status, each provider's token bucket and circuit. A custom
  collector reads them with grouped counts, at most once a second whatever the scrape rate.
- **Per-process** numbers are counted in this process and carry a `process` label (the process's
  lease owner id): HTTP requests, provider calls and the event fan-out lag.

Each install gets its own `CollectorRegistry`, never the client's global one, so installing the API
again on one app (NiceGUI's test fixture does) cannot register a metric twice.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from app.api.errors import error_response
from app.bootstrap import Container
from domain.model.events import Event
from domain.model.providers import CallKind, CircuitState, Outcome
from domain.model.statuses import QUEUED, PaymentStatus, WebhookDeliveryStatus
from domain.services.processor import Route

log = logging.getLogger("paygate.metrics")
# No `*_created` series beside each counter and histogram: nothing here reads them, and they double the
# lines of a scrape (the client's switch is process-wide; PayGate is its only user).
disable_created_metrics()  # type: ignore[no-untyped-call]

METRICS_PATH = "/metrics"
# The value of paygate_circuit_state for each state (docs/operations.md).
CIRCUIT_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROVIDER_BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)
LAG_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class FleetSnapshot:
    """What the database says now, for every replica alike."""

    payments: dict[str, int]
    deliveries: dict[str, int]
    tokens: dict[str, float]
    circuits: dict[str, CircuitState]


def read_fleet(container: Container, routes: Sequence[Route]) -> FleetSnapshot:
    """Grouped counts and the providers' shared rows (blocking: a few short reads)."""
    with container.uow(read_only=True) as uow:
        payments = uow.payments.count_by_status()
        deliveries = uow.webhooks.count_by_status()
    return FleetSnapshot(payments, deliveries, {route.name: route.limiter.available() for route in routes},
                         {route.name: route.circuit.state() for route in routes})


@dataclass(eq=False)  # the registry keeps collectors in a dict
class FleetCollector(Collector):
    """The fleet's numbers from the database, read at most once per `max_age` seconds: a scrape storm
    (many Prometheus servers, a dashboard refreshing) costs the database one read a second."""

    read: Callable[[], FleetSnapshot]
    max_age: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _at: float = float("-inf")
    _snapshot: FleetSnapshot | None = None

    def snapshot(self) -> FleetSnapshot | None:
        with self._lock:  # concurrent scrapes wait for one read instead of each making their own
            if self.clock() - self._at >= self.max_age:
                try:
                    self._snapshot = self.read()
                except Exception as e:  # the per-process series are still worth serving
                    log.warning("metrics: the database could not be read: %s", type(e).__name__)
                    self._snapshot = None
                self._at = self.clock()
            return self._snapshot

    def describe(self) -> Iterable[Metric]:
        return self._families(FleetSnapshot({}, {}, {}, {}))

    def collect(self) -> Iterable[Metric]:
        snapshot = self.snapshot()
        return self._families(snapshot) if snapshot is not None else []

    @staticmethod
    def _families(s: FleetSnapshot) -> list[Metric]:
        # Gauges, though two end in _total: they count rows by their status now, and a payment leaves
        # `pending`. The terminal statuses (completed, failed; delivered) only ever grow.
        payments = GaugeMetricFamily("paygate_payments_total", "Payments in each status, the whole fleet.",
                                     labels=["status"])
        for status in PaymentStatus:
            payments.add_metric([status.value], s.payments.get(status.value, 0))
        queue = GaugeMetricFamily("paygate_queue_depth", "Payments waiting for or in a provider call, the whole "
                                  "fleet (pending, retrying, processing).", labels=["status"])
        for status in QUEUED:
            queue.add_metric([status.value], s.payments.get(status.value, 0))
        deliveries = GaugeMetricFamily("paygate_webhook_deliveries_total", "Merchant webhook deliveries in each "
                                       "status, the whole fleet.", labels=["status"])
        for delivery_status in WebhookDeliveryStatus:
            deliveries.add_metric([delivery_status.value], s.deliveries.get(delivery_status.value, 0))
        tokens = GaugeMetricFamily("paygate_rate_limiter_tokens", "Tokens in each provider's bucket (shared by the "
                                   "fleet with the database strategy).", labels=["provider"])
        circuits = GaugeMetricFamily("paygate_circuit_state", "Each provider's circuit breaker: 0 closed, "
                                     "1 half-open, 2 open (shared by the fleet).", labels=["provider"])
        for name, available in s.tokens.items():
            tokens.add_metric([name], available)
        for name, state in s.circuits.items():
            circuits.add_metric([name], CIRCUIT_VALUES[state])
        return [payments, queue, deliveries, tokens, circuits]


class ProcessMetrics:
    """The series this process counts itself, each labelled with `process`."""

    def __init__(self, registry: CollectorRegistry, process: str) -> None:
        self.process = process
        self.http_requests = Counter("paygate_http_requests", "HTTP requests answered, by route template.",
                                     ["method", "route", "status", "process"], registry=registry)
        self.http_duration = Histogram("paygate_http_request_duration_seconds", "Time to answer an HTTP request, "
                                       "by route template.", ["method", "route", "process"],
                                       buckets=HTTP_BUCKETS, registry=registry)
        self.provider_calls = Counter("paygate_provider_calls", "Provider calls made by this process.",
                                      ["provider", "kind", "outcome", "process"], registry=registry)
        self.provider_duration = Histogram("paygate_provider_call_duration_seconds", "Time a provider took to "
                                           "answer (a timeout counts its full wait).", ["provider", "process"],
                                           buckets=PROVIDER_BUCKETS, registry=registry)
        self.event_lag = Histogram("paygate_event_lag_seconds", "From an event's commit to the outbox to its "
                                   "fan-out to this process's subscribers.", ["process"],
                                   buckets=LAG_BUCKETS, registry=registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status), self.process).inc()
        self.http_duration.labels(method, route, self.process).observe(seconds)

    def observe_call(self, provider: str, kind: CallKind, outcome: Outcome, seconds: float) -> None:
        self.provider_calls.labels(provider, kind.value, outcome.value, self.process).inc()
        self.provider_duration.labels(provider, self.process).observe(seconds)

    def observe_lag(self, seconds: float) -> None:
        self.event_lag.labels(self.process).observe(max(seconds, 0.0))  # clocks of two hosts may disagree


class Metrics:
    """One registry with the fleet collector and this process's series, wired to the container."""

    def __init__(self, container: Container, max_age: float = 1.0) -> None:
        self.registry = CollectorRegistry()
        self.process = ProcessMetrics(self.registry, container.owner or "paygate")
        self.fleet = FleetCollector(lambda: read_fleet(container, container.routes), max_age=max_age)
        self.registry.register(self.fleet)
        self.token = container.settings.metrics_token
        clock = container.clock
        container.processor.call_observers.append(self.process.observe_call)

        def fanned_out(event: Event) -> None:  # called by the hub as it hands each event out
            self.process.observe_lag((clock.now() - event.created_at).total_seconds())

        container.hub.subscribe(fanned_out)

    def allowed(self, request: Request) -> bool:
        """Open when no token is set; else the bearer token must match (compared in constant time)."""
        if not self.token:
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    def endpoint(self, request: Request) -> Response:
        """The exposition, or 401 without the token."""
        if not self.allowed(request):
            return error_response(401, "unauthorized", "A valid metrics token is required "
                                  "(Authorization: Bearer <PAYGATE_METRICS_TOKEN>).",
                                  headers={"WWW-Authenticate": "Bearer"})
        encode, content_type = choose_encoder(request.headers.get("accept", ""))  # text, or OpenMetrics if asked
        return Response(encode(self.registry), headers={"Content-Type": content_type})


def serve_metrics(request: Request) -> Response:
    """`GET /metrics` of the app's current install (sync: the fleet read blocks, so Starlette runs it in
    a worker thread)."""
    metrics: Metrics = request.app.state.metrics
    return metrics.endpoint(request)


def install_metrics(app: FastAPI, container: Container) -> Metrics:
    """`GET /metrics` on the app (outside /api, no JWT, not in the OpenAPI schema). Installed again on the
    same app (NiceGUI's test fixture does), the one route serves the newest container's metrics."""
    metrics = Metrics(container)
    app.state.metrics = metrics
    if not any(getattr(route, "path", None) == METRICS_PATH for route in app.router.routes):
        app.add_route(METRICS_PATH, serve_metrics, methods=["GET"], include_in_schema=False)
    return metrics
