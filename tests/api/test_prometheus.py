"""`GET /metrics` (issue 14): the exposition, its token, requests by route template, the fleet's numbers
from the database, this process's provider calls and event lag, and docs/operations.md's YAML blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from app.api import install_api
from app.api.http_metrics import RouteTemplates
from app.bootstrap import Container, build
from app.prometheus import FleetCollector, FleetSnapshot
from domain.model.events import Event
from domain.model.providers import CallResult
from tests.conftest import make_settings
from tests.unit.test_webhooks import FakeResolver

Headers = dict[str, str]
OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def scrape(client: TestClient, headers: Headers | None = None) -> dict[str, list[Sample]]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.text):
        samples.setdefault(family.name, []).extend(family.samples)
    return samples


def value(samples: dict[str, list[Sample]], family: str, name: str, **labels: str) -> float:
    found = [s.value for s in samples[family] if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, samples[family])
    return found[0]


def pay(client: TestClient, headers: Headers, amount: int = 1500) -> str:
    response = client.post("/api/payments", headers=headers, json={"amount": amount, "currency": "USD"})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def drain(client: TestClient, container: Container) -> None:
    """One pass of the drain job, on the client's event loop."""
    assert client.portal is not None, "the client is open"
    client.portal.call(container.processor.drain)


def test_requests_are_counted_by_their_route_template_and_never_by_their_raw_path(
        client: TestClient, customer_headers: Headers) -> None:
    payment_id = pay(client, customer_headers)
    client.get(f"/api/payments/{payment_id}", headers=customer_headers)
    client.get(f"/api/payments/{payment_id}", headers=customer_headers)
    client.get("/wp-admin/setup-config.php")

    samples = scrape(client)

    requests = samples["paygate_http_requests"]
    assert value(samples, "paygate_http_requests", "paygate_http_requests_total", method="GET",
                 route="/api/payments/{paymentId}", status="200") == 2
    assert value(samples, "paygate_http_requests", "paygate_http_requests_total", method="POST",
                 route="/api/payments", status="202") == 1
    assert value(samples, "paygate_http_requests", "paygate_http_requests_total", route="unmatched",
                 status="404") == 1
    assert value(samples, "paygate_http_request_duration_seconds", "paygate_http_request_duration_seconds_count",
                 method="GET", route="/api/payments/{paymentId}") == 2
    every_label = {v for family in samples.values() for s in family for v in s.labels.values()}
    assert not any(payment_id in label or "wp-admin" in label for label in every_label)
    assert all(s.labels["process"] == client.app.state.container.owner for s in requests)  # type: ignore[attr-defined]


def test_metrics_are_open_without_a_token_setting_and_not_in_the_openapi_schema(client: TestClient) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    container = build(make_settings(tmp_path, metrics_token="scrape-token-0123456789"))
    container.init_storage()
    app = FastAPI()
    install_api(app, container)
    with TestClient(app) as client:
        yield client
    container.db.dispose()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic scrape-token-0123456789",
                                           "Bearer scrape-token-012345678"])
def test_with_a_token_set_a_scrape_without_the_right_bearer_token_is_401(
        guarded: TestClient, authorization: str | None) -> None:
    response = guarded.get("/metrics", headers={"Authorization": authorization} if authorization else {})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"
    assert "paygate_" not in response.text


def test_with_a_token_set_the_right_bearer_token_gets_the_metrics(guarded: TestClient) -> None:
    samples = scrape(guarded, {"Authorization": "Bearer scrape-token-0123456789"})

    assert "paygate_queue_depth" in samples


def test_payments_and_the_queue_are_the_fleets_numbers_from_the_database(
        client: TestClient, container: Container, customer_headers: Headers) -> None:
    for amount in (1000, 2000, 3000):
        pay(client, customer_headers, amount)
    other = build(container.settings)  # another process on the same database: it counts the same payments
    other_app = FastAPI()
    install_api(other_app, other)

    with TestClient(other_app) as other_client:
        before = scrape(other_client)
    drain(client, container)
    after = scrape(client)
    other.db.dispose()

    assert value(before, "paygate_payments_total", "paygate_payments_total", status="pending") == 3
    assert value(before, "paygate_queue_depth", "paygate_queue_depth", status="pending") == 3
    assert value(after, "paygate_payments_total", "paygate_payments_total", status="completed") == 3
    assert value(after, "paygate_payments_total", "paygate_payments_total", status="pending") == 0
    assert value(after, "paygate_queue_depth", "paygate_queue_depth", status="processing") == 0


def test_provider_calls_are_counted_by_this_process_with_their_durations(
        client: TestClient, container: Container, customer_headers: Headers) -> None:
    pay(client, customer_headers)
    pay(client, customer_headers)

    drain(client, container)
    samples = scrape(client)

    assert value(samples, "paygate_provider_calls", "paygate_provider_calls_total", provider="mock",
                 kind="charge", outcome="approved", process=container.owner) == 2
    assert value(samples, "paygate_provider_call_duration_seconds",
                 "paygate_provider_call_duration_seconds_count", provider="mock", process=container.owner) == 2


def test_the_providers_bucket_and_an_open_circuit_are_shown(client: TestClient, container: Container) -> None:
    circuit = container.routes[0].circuit
    for _ in range(container.settings.circuit_fail_max):
        ticket = circuit.begin()
        assert ticket is not None
        circuit.end(ticket, CallResult.error("provider_error", "the provider is down"))

    samples = scrape(client)

    assert value(samples, "paygate_circuit_state", "paygate_circuit_state", provider="mock") == 2
    assert value(samples, "paygate_rate_limiter_tokens", "paygate_rate_limiter_tokens", provider="mock") >= 0


def test_webhook_deliveries_are_counted_by_status_from_the_database(
        client: TestClient, container: Container, admin_headers: Headers, customer_headers: Headers) -> None:
    container.webhooks.resolver = FakeResolver({"shop.example.com": ["93.184.216.34"]})
    created = client.post("/api/webhooks/endpoints", headers=admin_headers,
                          json={"url": "https://shop.example.com/hooks", "events": ["payment.created"]})
    assert created.status_code == 201, created.text

    pay(client, customer_headers)
    pay(client, customer_headers)
    samples = scrape(client)

    assert value(samples, "paygate_webhook_deliveries_total", "paygate_webhook_deliveries_total",
                 status="pending") == 2
    assert value(samples, "paygate_webhook_deliveries_total", "paygate_webhook_deliveries_total",
                 status="dead") == 0


def test_the_event_lag_is_the_time_from_an_events_commit_to_its_fan_out_here(
        client: TestClient, container: Container) -> None:
    now = container.clock.now()
    container.hub.publish([Event("payment.created", {}, now - timedelta(seconds=3), seq=1),
                           Event("payment.completed", {}, now - timedelta(seconds=1), seq=2)])

    samples = scrape(client)

    lag = "paygate_event_lag_seconds"
    assert value(samples, lag, f"{lag}_count", process=container.owner) == 2
    assert 4 <= value(samples, lag, f"{lag}_sum", process=container.owner) < 5
    assert value(samples, lag, f"{lag}_bucket", le="2.0") == 1


def test_a_scrape_storm_reads_the_database_at_most_once_a_second() -> None:
    now = [100.0]
    reads: list[float] = []

    def read() -> FleetSnapshot:
        reads.append(now[0])
        return FleetSnapshot({"pending": len(reads)}, {}, {}, {})

    collector = FleetCollector(read, max_age=1.0, clock=lambda: now[0])
    first = [list(collector.collect()) for _ in range(5)]
    now[0] += 1.0
    later = list(collector.collect())

    assert reads == [100.0, 101.0]
    assert first[4][0].samples[0].value == 1 and later[0].samples[0].value == 2


def test_a_database_that_cannot_be_read_leaves_out_the_fleets_series_and_serves_the_rest() -> None:
    def read() -> FleetSnapshot:
        raise ConnectionError("database gone")

    collector = FleetCollector(read)

    assert list(collector.collect()) == []


def yaml_blocks() -> list[object]:
    text = OPERATIONS.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```ya?ml\n(.*?)```", text, flags=re.DOTALL)]


def test_the_operations_guides_yaml_blocks_parse_and_name_only_metrics_a_scrape_has(
        client: TestClient, customer_headers: Headers, container: Container) -> None:
    pay(client, customer_headers)
    drain(client, container)
    families = set(scrape(client))
    exposed = {sample.name for family in scrape(client).values() for sample in family} | families
    blocks = yaml_blocks()
    rules = [rule for block in blocks if isinstance(block, dict)
             for group in block.get("groups", []) for rule in group["rules"]]

    named = {name for rule in rules for name in re.findall(r"\bpaygate_[a-z_]+", rule["expr"])}
    alerts = [rule for rule in rules if "alert" in rule]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    used = {name for rule in alerts for name in re.findall(r"\bpaygate:[a-z_:0-9]+", rule["expr"])}
    [scrape_config] = [b for b in blocks if isinstance(b, dict) and "scrape_configs" in b]
    assert scrape_config["scrape_configs"][0]["authorization"]["type"] == "Bearer"
    assert len(scrape_config["scrape_configs"][0]["static_configs"][0]["targets"]) >= 2
    assert {"PayGateQueueGrowing", "PayGateCircuitOpen", "PayGateSuccessRateLow", "PayGateWebhookDeliveriesDead",
            "PayGateHealthFailing"} <= {rule["alert"] for rule in alerts}
    assert all(rule["annotations"]["summary"] for rule in alerts)
    assert used <= recorded, used - recorded
    assert named and named <= exposed, named - exposed


def route_table_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/things/{thing_id}")
    def thing(thing_id: str) -> str:
        return thing_id

    @app.get("/_nicegui/{version}/static/{name}")
    def asset(version: str, name: str) -> str:
        return name

    app.mount("/files", StaticFiles(directory=str(Path(__file__).parent)), name="files")
    return app


@pytest.mark.parametrize(("method", "path", "template"), [
    ("GET", "/api/things/th_123", "/api/things/{thing_id}"),
    ("HEAD", "/api/things/th_123", "/api/things/{thing_id}"),
    ("DELETE", "/api/things/th_123", "/api/things/{thing_id}"),  # answered 405 by that route
    ("GET", "/_nicegui/3.18.0/static/quasar.js", "/_nicegui"),
    ("GET", "/_nicegui/anything/else", "/_nicegui"),
    ("GET", "/files/secret/report.pdf", "/files"),
    ("GET", "/api/things", "unmatched"),
    ("GET", "/etc/passwd", "unmatched"),
])
def test_a_request_is_labelled_with_the_template_that_serves_it(method: str, path: str, template: str) -> None:
    assert RouteTemplates().template(route_table_app(), method, path) == template
