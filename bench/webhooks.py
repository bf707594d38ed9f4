"""Benchmark of merchant webhooks against a served PayGate (SQLite, one process):

1. deliveries per second to local receivers that answer at once;
2. the time from a payment.completed event to its delivery, p50 and p99;
3. that a receiver taking 10 s per request does not slow the payment drain.

Run: `python -m bench.webhooks` (prints the figures; docs/benchmarks.md keeps them).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.server import start_server

ADMIN = {"email": "admin@example.com", "password": "admin123"}
SETTINGS = {"PAYGATE_WEBHOOKS_ALLOW_PRIVATE": "1", "PAYGATE_MOCK_MIN_LATENCY_MS": "0",
            "PAYGATE_MOCK_MAX_LATENCY_MS": "0"}


class Arrivals:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.at: dict[str, float] = {}  # webhook-id -> time.time() of its first arrival


@contextmanager
def receiver(arrivals: Arrivals) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("content-length", "0")))
            now = time.time()
            with arrivals.lock:
                arrivals.at.setdefault(self.headers["webhook-id"], now)
            if arrivals.delay:
                time.sleep(arrivals.delay)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def login(client: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.post('/api/auth/login', json=ADMIN).json()['token']}"}


def throughput(data: Path, endpoints: int = 4, events: int = 150) -> str:
    """Deliveries of `events` order.created-like public events (payment.created of queued payments
    would be throttled by the 2/s bucket, so the events come from many payments submitted at once)."""
    arrivals = Arrivals()
    server = start_server(data, **SETTINGS)
    try:
        with receiver(arrivals) as url, httpx.Client(base_url=server.url, timeout=30) as client:
            admin = login(client)
            for _ in range(endpoints):
                client.post("/api/webhooks/endpoints", headers=admin, json={"url": url, "events": ["payment.created"]})
            started = time.time()
            for n in range(events):
                client.post("/api/payments", headers=admin, json={"amount": 100 + n, "currency": "USD"})
            submitted = time.time()
            expected = events  # one webhook-id per event, delivered to each endpoint
            while len(arrivals.at) < expected and time.time() - started < 120:
                time.sleep(0.05)
            ids = client.get("/api/webhooks/endpoints", headers=admin).json()["data"]
            delivered = 0
            while time.time() - started < 180:
                delivered = sum(len(client.get(f"/api/webhooks/endpoints/{e['id']}/deliveries",
                                               params={"status": "delivered", "limit": 200},
                                               headers=admin).json()["data"]) for e in ids)
                if delivered >= endpoints * events:
                    break
                time.sleep(0.1)
            took = time.time() - started
        return (f"{delivered} deliveries ({endpoints} endpoints × {events} events) in {took:.1f} s = "
                f"{delivered / took:.0f}/s; the events were submitted over {submitted - started:.1f} s, so this is "
                "a floor, bounded by how fast the events were made")
    finally:
        server.stop()


def latency(data: Path, payments: int = 60) -> str:
    arrivals = Arrivals()
    server = start_server(data, **SETTINGS)
    try:
        with receiver(arrivals) as url, httpx.Client(base_url=server.url, timeout=30) as client:
            admin = login(client)
            client.post("/api/webhooks/endpoints", headers=admin, json={"url": url, "events": ["payment.completed"]})
            ids = [client.post("/api/payments", headers=admin, json={"amount": 100 + n, "currency": "USD"}).json()["id"]
                   for n in range(payments)]
            deadline = time.time() + 120
            while len(arrivals.at) < payments and time.time() < deadline:
                time.sleep(0.1)
            lags = []
            for pid in ids:
                events = client.get(f"/api/payments/{pid}/events", headers=admin).json()["data"]
                event = next(e for e in events if e["type"] == "payment.completed")
                lags.append((arrivals.at[event["id"]] - parse_time(event["createdAt"])) * 1000)
        return (f"over {payments} payments: p50 {statistics.median(lags):.0f} ms, p99 {percentile(lags, 0.99):.0f} ms, "
                f"max {max(lags):.0f} ms")
    finally:
        server.stop()


def drain_rate(data: Path, slow: bool, payments: int = 30) -> float:
    arrivals = Arrivals(delay=10.0)
    server = start_server(data, **SETTINGS)
    try:
        with receiver(arrivals) as url, httpx.Client(base_url=server.url, timeout=30) as client:
            admin = login(client)
            if slow:
                client.post("/api/webhooks/endpoints", headers=admin, json={"url": url, "events": ["*"]})
            started = time.time()
            ids = [client.post("/api/payments", headers=admin, json={"amount": 100 + n, "currency": "USD"}).json()["id"]
                   for n in range(payments)]
            while time.time() - started < 120:
                page = client.get("/api/payments", params={"limit": 200}, headers=admin).json()["data"]
                if sum(p["status"] in ("completed", "failed") for p in page if p["id"] in ids) == payments:
                    break
                time.sleep(0.1)
            took = time.time() - started
        return payments / took
    finally:
        server.stop()


def main() -> None:
    import platform
    import sys

    from bench.payments import write_doc

    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("webhooks: throughput ...", file=sys.stderr, flush=True)
        rate = throughput(root / "throughput")
        print("webhooks: latency ...", file=sys.stderr, flush=True)
        lag = latency(root / "latency")
        print("webhooks: drain with a slow receiver ...", file=sys.stderr, flush=True)
        baseline = drain_rate(root / "baseline", slow=False)
        with_slow = drain_rate(root / "slow", slow=True)
    section = "\n".join([
        f"Measured {datetime.now().strftime('%Y-%m-%d %H:%M')} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, one served process on SQLite, receivers on localhost that answer "
        f"204; `python -m bench.webhooks` ({time.time() - started:.0f} s).",
        "",
        "| what | figure |",
        "|---|---|",
        f"| deliveries per second, receivers that answer at once | {rate} |",
        f"| `payment.completed` committed → its delivery arrives | {lag} |",
        f"| payment drain rate without an endpoint | {baseline:.2f} payments/s |",
        f"| payment drain rate with a receiver taking 10 s per request (every event) | {with_slow:.2f} payments/s |",
    ])
    print(section)
    write_doc(section, "<!-- bench:webhooks:start -->", "<!-- bench:webhooks:end -->", "Merchant webhooks")


if __name__ == "__main__":
    main()
