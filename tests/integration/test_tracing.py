"""One trace follows a payment: HTTP submit → the drain's span → token wait → provider call → outcome;
and the drain's log lines for a payment carry the request (and order) it came from."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.api import install_api
from app.bootstrap import Container, build
from app.logs import formatter
from app.tracing import OtelTracer, otlp_url
from domain.observability import NO_TRACER
from tests.conftest import make_settings

CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def spans(container: Container) -> Iterator[InMemorySpanExporter]:
    """The container traces into memory (each span exported as it ends)."""
    exporter = InMemorySpanExporter()
    tracer = OtelTracer(exporter, batch=False)
    container.tracer = tracer
    container.processor.tracer = tracer
    yield exporter
    tracer.shutdown()


def pay(client: TestClient, container: Container, headers: dict[str, str]) -> str:
    response = client.post("/api/payments", headers=headers,
                           json={"amount": 1500, "currency": "USD", "description": "traced", "card": CARD})
    assert response.status_code == 202, response.text
    client.portal.call(container.processor.drain)
    return str(response.json()["id"])


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, (name, [span.name for span in spans])
    return found[0]


def test_the_spans_of_a_payment_are_one_trace_linked_parent_to_child(
        client: TestClient, container: Container, customer_headers: dict[str, str],
        spans: InMemorySpanExporter) -> None:
    spans.clear()  # the sign-in's request

    payment_id = pay(client, container, customer_headers)

    finished = spans.get_finished_spans()
    submit = by_name(finished, "POST /api/payments")
    process = by_name(finished, "payment.process")
    wait = by_name(finished, "payment.token_wait")
    charge = by_name(finished, "provider.charge")
    outcome = by_name(finished, "payment.outcome")
    assert submit.kind is SpanKind.SERVER and submit.attributes is not None
    assert submit.attributes["http.response.status_code"] == 202
    assert submit.attributes["http.route"] == "/api/payments"
    assert {span.context.trace_id for span in (submit, process, wait, charge, outcome)} == {submit.context.trace_id}
    assert process.parent is not None and process.parent.span_id == submit.context.span_id
    for child in (wait, charge, outcome):
        assert child.parent is not None and child.parent.span_id == process.context.span_id, child.name
    assert process.attributes is not None and process.attributes["payment.id"] == payment_id
    assert charge.attributes is not None and charge.attributes["outcome"] == "approved"
    assert charge.attributes["provider"] == "mock"
    assert outcome.attributes is not None and outcome.attributes["payment.status"] == "completed"
    # the order in time: submit, then the wait for a token, the call, the outcome, and the drain's span ends last
    assert wait.end_time <= charge.start_time and charge.end_time <= outcome.start_time
    assert outcome.end_time <= process.end_time


def test_a_caller_s_traceparent_makes_the_payment_part_of_the_caller_s_trace(
        client: TestClient, container: Container, customer_headers: dict[str, str],
        spans: InMemorySpanExporter) -> None:
    headers = {**customer_headers, "traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"}

    pay(client, container, headers)

    charge = by_name(spans.get_finished_spans(), "provider.charge")
    assert format(charge.context.trace_id, "032x") == CALLER_TRACE


def test_the_payment_keeps_the_request_id_and_the_trace_context_of_its_submission(
        client: TestClient, container: Container, customer_headers: dict[str, str],
        spans: InMemorySpanExporter) -> None:
    response = client.post("/api/payments", headers={**customer_headers, "X-Request-ID": "req-trace-1"},
                           json={"amount": 700, "currency": "USD", "card": CARD})

    with container.uow(read_only=True) as uow:
        payment = uow.payments.get(response.json()["id"])
    assert response.headers["X-Request-ID"] == "req-trace-1"
    assert payment is not None and payment.request_id == "req-trace-1"
    submit = by_name(spans.get_finished_spans(), "POST /api/payments")
    assert payment.traceparent is not None
    assert payment.traceparent.startswith(f"00-{submit.context.trace_id:032x}-{submit.context.span_id:016x}-")
    assert "traceparent" not in response.text and "req-trace-1" not in response.text  # never in the public view


def test_without_an_endpoint_nothing_is_traced_and_payments_keep_only_the_request_id(
        client: TestClient, container: Container, customer_headers: dict[str, str]) -> None:
    assert container.tracer is NO_TRACER

    payment_id = pay(client, container, {**customer_headers, "X-Request-ID": "req-plain"})

    with container.uow(read_only=True) as uow:
        payment = uow.payments.get(payment_id)
    assert payment is not None and payment.status == "completed"
    assert payment.request_id == "req-plain" and payment.traceparent is None


def test_every_response_carries_a_request_id_errors_included(client: TestClient) -> None:
    missing = client.get("/api/payments/pay_missing")
    mine = client.get("/api/nowhere", headers={"X-Request-ID": "mine-1"})

    assert missing.status_code == 401 and len(missing.headers["X-Request-ID"]) == 32
    assert mine.status_code == 404 and mine.headers["X-Request-ID"] == "mine-1"


@pytest.mark.parametrize(("given", "url"), [
    ("http://collector:4318", "http://collector:4318/v1/traces"),
    ("http://collector:4318/", "http://collector:4318/v1/traces"),
    ("https://otel.example/v1/traces", "https://otel.example/v1/traces"),
])
def test_the_endpoint_names_the_collector_or_its_traces_url(given: str, url: str) -> None:
    assert otlp_url(given) == url


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON lines the process writes meanwhile (formatted when logged, as the server's handler does)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_drain_s_lines_for_an_order_s_payment_carry_the_order_and_the_placing_request(
        client: TestClient, container: Container, customer_headers: dict[str, str],
        json_log: io.StringIO) -> None:
    placed = client.post("/api/orders", headers={**customer_headers, "X-Request-ID": "req-order-1"},
                         json={"items": [{"productId": "prod_013", "quantity": 1}], "card": CARD})
    client.portal.call(container.processor.drain)

    order = placed.json()
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    path = [line for line in lines if line.get("payment_id") == order["paymentId"]]
    assert placed.status_code == 201, placed.text
    assert [line["message"] for line in path] == ["payment submitted", "payment claimed",
                                                  "provider call: charge approved", "payment completed"]
    assert {(line["request_id"], line["order_id"]) for line in path} == {("req-order-1", order["id"])}


def test_a_browser_on_an_allowed_origin_may_send_a_request_id_and_a_traceparent_and_read_the_id(
        tmp_path: Path) -> None:
    container = build(make_settings(tmp_path, cors_origins=["https://shop.example"]))
    app = FastAPI()
    install_api(app, container)
    container.init_storage()
    origin = {"Origin": "https://shop.example"}

    with TestClient(app) as client:
        preflight = client.options("/api/payments", headers={
            **origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-request-id, traceparent, content-type"})
        answer = client.get("/api/products", headers={**origin, "X-Request-ID": "from-the-shop"})
    container.db.dispose()

    assert preflight.status_code == 200 and "X-Request-ID" in preflight.headers
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "x-request-id" in allowed and "traceparent" in allowed
    assert answer.headers["X-Request-ID"] == "from-the-shop"
    assert answer.headers["Access-Control-Expose-Headers"] == "X-Request-ID"
