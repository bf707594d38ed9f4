"""`GET /metrics` of a real server (issue 14): behind its token, parsed with the official client's parser,
with the payments it made counted by status from the database and requests labelled by route template."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.conftest import postgres_url
from tests.e2e.conftest import Server, bearer
from tests.e2e.test_payment_engine_e2e import submit, wait_terminal
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

pytestmark = pytest.mark.e2e
needs_postgres = pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)

TOKEN = "e2e-metrics-token-0123456789"
FAMILIES = {"paygate_http_requests", "paygate_http_request_duration_seconds", "paygate_payments_total",
            "paygate_queue_depth", "paygate_provider_calls", "paygate_provider_call_duration_seconds",
            "paygate_rate_limiter_tokens", "paygate_circuit_state", "paygate_webhook_deliveries_total",
            "paygate_event_lag_seconds"}


def scrape(server: Server) -> dict[str, list[Sample]]:
    response = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200, response.text[:500]
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def one(samples: list[Sample], name: str, **labels: str) -> float:
    [found] = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return found


def test_a_real_server_serves_its_metrics_behind_the_token_and_counts_a_payment(
        server_factory: Callable[..., Server]) -> None:
    server = server_factory(PAYGATE_METRICS_TOKEN=TOKEN)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        refused = client.get("/metrics")
        customer = bearer(client, "customer@example.com", "password123")
        paid = submit(client, customer, "4242424242424242").json()["id"]
        declined = submit(client, customer, "4000000000000002").json()["id"]
        outcomes = {wait_terminal(client, customer, pid)["status"] for pid in (paid, declined)}
        client.get(f"/api/payments/{paid}", headers=customer)
        client.get("/login")

        samples = scrape(server)

    assert refused.status_code == 401
    assert outcomes == {"completed", "failed"}
    assert set(samples) >= FAMILIES
    payments = samples["paygate_payments_total"]
    assert one(payments, "paygate_payments_total", status="completed") == 1
    assert one(payments, "paygate_payments_total", status="failed") == 1
    assert one(samples["paygate_queue_depth"], "paygate_queue_depth", status="pending") == 0
    routes = {s.labels["route"] for s in samples["paygate_http_requests"]}
    assert {"/api/payments", "/api/payments/{paymentId}", "/login", "/health"} <= routes
    every_label = {v for family in samples.values() for s in family for v in s.labels.values()}
    assert not any(pid in label for pid in (paid, declined) for label in every_label)
    calls = samples["paygate_provider_calls"]
    assert one(calls, "paygate_provider_calls_total", provider="mock", kind="charge", outcome="approved") == 1
    assert one(calls, "paygate_provider_calls_total", provider="mock", kind="charge", outcome="declined") == 1
    assert len({s.labels["process"] for s in calls}) == 1
    assert one(samples["paygate_circuit_state"], "paygate_circuit_state", provider="mock") == 0
    assert sum(s.value for s in samples["paygate_event_lag_seconds"] if s.name.endswith("_count")) >= 1


@needs_postgres
def test_two_replicas_report_the_same_fleet_numbers_and_their_own_provider_calls(
        server_factory: Callable[..., Server], tmp_path: Path) -> None:
    with fresh_postgres_schema() as db_url:
        replicas = [server_factory(tmp_path / f"r{i}", PAYGATE_DATABASE_URL=db_url, PAYGATE_METRICS_TOKEN=TOKEN)
                    for i in range(2)]
        with httpx.Client(base_url=replicas[0].url, timeout=10) as client:
            customer = bearer(client, "customer@example.com", "password123")
        ids = []
        for n in range(4):
            with httpx.Client(base_url=replicas[n % 2].url, timeout=10) as client:
                ids.append(submit(client, customer, "4242424242424242", amount=1000 + n).json()["id"])
        with httpx.Client(base_url=replicas[1].url, timeout=10) as client:
            assert {wait_terminal(client, customer, pid)["status"] for pid in ids} == {"completed"}

        scrapes = [scrape(replica) for replica in replicas]
        for replica in replicas:
            replica.stop()

    completed = [one(s["paygate_payments_total"], "paygate_payments_total", status="completed") for s in scrapes]
    calls = [s.value for s in scrapes[0]["paygate_provider_calls"] + scrapes[1]["paygate_provider_calls"]
             if s.name == "paygate_provider_calls_total" and s.labels["kind"] == "charge"]
    processes = [{s.labels["process"] for s in scrape["paygate_http_requests"]} for scrape in scrapes]
    assert completed == [4, 4]  # the fleet's number, from the database, on each replica alike
    assert sum(calls) == 4  # each charge counted once, by the replica that made it
    assert len(processes[0]) == len(processes[1]) == 1 and processes[0] != processes[1]
