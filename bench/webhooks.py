"""Benchmark of merchant webhooks against a served PayGate (SQLite, one process):

1. the sender's own rate: a backlog of deliveries written while no sender runs, drained by a process
   started on it, to local receivers that answer at once;
2. the time from a payment.completed event to its delivery, p50 and p99, over 500+ payments;
3. that receivers taking 10 s per request, enough of them to fill every in-flight slot, do not slow
   the payment drain rate (against a baseline measured in the same run).

Run: `python -m bench.webhooks` (prints the figures and rewrites its section of docs/benchmarks.md).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from bench.server import Server, start_server

ADMIN = {"email": "admin@example.com", "password": "admin123"}
SETTINGS = {"PAYGATE_WEBHOOKS_ALLOW_PRIVATE": "1", "PAYGATE_MOCK_MIN_LATENCY_MS": "0",
            "PAYGATE_MOCK_MAX_LATENCY_MS": "0"}
DEFAULTS = Settings.model_fields
IN_FLIGHT = DEFAULTS["webhook_max_in_flight"].default  # POSTs at once per process
PER_ENDPOINT = DEFAULTS["webhook_max_in_flight_per_endpoint"].default
BUCKET_RATE = DEFAULTS["rate_limit_per_second"].default
# For the latency part only: the mock provider's bucket raised from 2 to this many tokens a second,
# so 500 payments complete in about half a minute instead of four minutes.
LATENCY_BUCKET_RATE = 25
# For the second drain comparison: a bucket the drain never waits on, so what it measures is the process.
RAISED_BUCKET = 100.0


@dataclass
class Arrivals:
    """What one receiver saw: first arrival per webhook-id, and how many requests it held at once."""

    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    at: dict[str, float] = field(default_factory=dict)  # webhook-id -> time.time() of its first arrival
    created: dict[str, float] = field(default_factory=dict)  # webhook-id -> the event's createdAt
    types: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    open: int = 0
    max_open: int = 0


@contextmanager
def receiver(arrivals: Arrivals) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            now = time.time()
            event = json.loads(body)
            with arrivals.lock:
                arrivals.requests += 1
                arrivals.open += 1
                arrivals.max_open = max(arrivals.max_open, arrivals.open)
                if self.headers["webhook-id"] not in arrivals.at:
                    arrivals.at[self.headers["webhook-id"]] = now
                    arrivals.created[self.headers["webhook-id"]] = parse_time(event["createdAt"])
                    arrivals.types[self.headers["webhook-id"]] = event["type"]
            try:
                if arrivals.delay:
                    time.sleep(arrivals.delay)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()
            finally:
                with arrivals.lock:
                    arrivals.open -= 1

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 64
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def serve(data: Path, env: dict[str, str]) -> Server:
    return start_server(data, **env)  # type: ignore[arg-type]  # env holds PAYGATE_* settings only


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), math.ceil(q * len(ordered))) - 1)]


def login(client: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.post('/api/auth/login', json=ADMIN).json()['token']}"}


def add_endpoint(client: httpx.Client, admin: dict[str, str], url: str, events: list[str]) -> str:
    answer = client.post("/api/webhooks/endpoints", headers=admin, json={"url": url, "events": events})
    answer.raise_for_status()
    return str(answer.json()["id"])


def pay(client: httpx.Client, admin: dict[str, str], n: int) -> str:
    answer = client.post("/api/payments", headers=admin, json={"amount": 100 + n, "currency": "USD"})
    answer.raise_for_status()
    return str(answer.json()["id"])


def unfinished(client: httpx.Client, admin: dict[str, str]) -> int:
    """Payments not yet completed or failed (each status counted up to a page of 200)."""
    return sum(len(client.get("/api/payments", params={"status": status, "limit": 200}, headers=admin).json()["data"])
               for status in ("pending", "processing", "retrying"))


def wait_for(check: Any, timeout: float, step: float = 0.02) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(step)
    return bool(check())


# --- 1. the sender's own rate ------------------------------------------------------------------
def write_backlog(data: Path, template: dict[str, Any], events: int) -> float:
    """`events` payment.created events written to the stopped server's database through PayGate's
    own unit of work, which owes each enabled, subscribed endpoint a delivery in the same transaction
    (domain.ports.NewEvents), exactly as a submission would. Seconds it took."""
    from domain.model.events import Event
    from storage.db import Database
    from storage.uow import SqlUnitOfWorkFactory

    db = Database(Settings(data_dir=data).resolved_database_url)
    uow = SqlUnitOfWorkFactory(db)
    started = time.time()
    try:
        for first in range(0, events, 100):
            with uow() as work:
                for n in range(first, min(events, first + 100)):
                    data_n = {**template, "amount": 100 + n}
                    work.publish(Event("payment.created", data_n, datetime.now(UTC)))
                work.commit()
    finally:
        db.dispose()
    return time.time() - started


def throughput(data: Path, endpoints: int = 4, events: int = 500, in_flight: int = IN_FLIGHT,
               per_endpoint: int = PER_ENDPOINT) -> dict[str, Any]:
    """Deliveries per second of one process's sender, draining a backlog of `endpoints` × `events`
    deliveries that was written while no sender ran, each endpoint on a receiver of its own."""
    arrivals = [Arrivals() for _ in range(endpoints)]
    env = {**SETTINGS, "PAYGATE_WEBHOOK_MAX_IN_FLIGHT": str(in_flight),
           "PAYGATE_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT": str(per_endpoint)}
    with ExitStack() as stack:
        urls = [stack.enter_context(receiver(a)) for a in arrivals]
        server = serve(data, env)
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                admin = login(client)
                for url in urls:
                    add_endpoint(client, admin, url, ["payment.created"])
                # One real payment, so the backlog's events carry a real payment's body.
                pid = pay(client, admin, 0)
                event = next(e for e in client.get(f"/api/payments/{pid}/events", headers=admin).json()["data"]
                             if e["type"] == "payment.created")
                template = event["data"]
                wait_for(lambda: all(len(a.at) >= 1 for a in arrivals), 30)
        finally:
            server.stop()
        for a in arrivals:  # the warm-up payment's deliveries are not part of the figure
            a.at.clear()
            a.requests = a.max_open = 0
        wrote = write_backlog(data, template, events)
        expected = endpoints * events
        server = serve(data, env)
        try:
            ready = time.time()
            done = wait_for(lambda: sum(len(a.at) for a in arrivals) >= expected, 300)
            finished = time.time()
        finally:
            server.stop()
    times = sorted(t for a in arrivals for t in a.at.values())
    first, last = times[0], times[-1]
    return {"expected": expected, "arrived": len(times), "done": done, "endpoints": endpoints, "events": events,
            "wrote": wrote, "first_after_ready": first - ready, "span": last - first,
            "rate": (len(times) - 1) / (last - first) if last > first else float("nan"),
            "ready_to_last": finished - ready if done else float("nan"),
            "requests": sum(a.requests for a in arrivals), "in_flight": in_flight, "per_endpoint": per_endpoint,
            "max_open": max(a.max_open for a in arrivals), "load": os.getloadavg()[0]}


# --- 2. payment.completed → its delivery -------------------------------------------------------
def latency(data: Path, payments: int = 500) -> dict[str, Any]:
    arrivals = Arrivals()
    env = {**SETTINGS, "PAYGATE_RATE_LIMIT_PER_SECOND": str(LATENCY_BUCKET_RATE)}
    with receiver(arrivals) as url:
        server = serve(data, env)
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                admin = login(client)
                add_endpoint(client, admin, url, ["payment.completed"])
                started = time.time()
                for n in range(payments):
                    pay(client, admin, n)
                submitted = time.time() - started
                done = wait_for(lambda: len(arrivals.at) >= payments, 120, 0.1)
                took = time.time() - started
        finally:
            server.stop()
    lags = [(arrivals.at[i] - arrivals.created[i]) * 1000 for i in arrivals.at
            if arrivals.types[i] == "payment.completed"]
    return {"payments": payments, "samples": len(lags), "done": done, "submitted": submitted, "took": took,
            "p50": statistics.median(lags), "p90": percentile(lags, 0.90), "p99": percentile(lags, 0.99),
            "max": max(lags)}


# --- 3. slow receivers and the payment drain ---------------------------------------------------
def drain_rate(data: Path, endpoints: int, delay: float, payments: int, bucket: float | None = None
               ) -> dict[str, Any]:
    """Payments per second from the first submission until all `payments` are final, with `endpoints`
    endpoints subscribed to every event, each on a receiver of its own that answers after `delay`
    seconds. Warm-up payments first make deliveries, so slow receivers hold the in-flight slots
    before the measured payments are submitted."""
    receivers = [Arrivals(delay=delay) for _ in range(endpoints)]
    env = dict(SETTINGS)
    if bucket is not None:
        env["PAYGATE_RATE_LIMIT_PER_SECOND"] = str(bucket)
    held: list[int] = []
    with ExitStack() as stack:
        urls = [stack.enter_context(receiver(a)) for a in receivers]
        server = serve(data, env)
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                admin = login(client)
                for url in urls:
                    add_endpoint(client, admin, url, ["*"])
                if receivers:
                    for n in range(IN_FLIGHT * 2):
                        pay(client, admin, 10_000 + n)
                    if delay:
                        wait_for(lambda: sum(a.open for a in receivers) >= IN_FLIGHT, 30, 0.05)
                    wait_for(lambda: unfinished(client, admin) == 0, 60, 0.2)
                started = time.time()
                for n in range(payments):
                    pay(client, admin, n)
                    if delay and n % 10 == 0:
                        held.append(sum(a.open for a in receivers))
                left = payments
                while time.time() - started < 300:
                    if delay:
                        held.append(sum(a.open for a in receivers))
                    left = unfinished(client, admin)
                    if left == 0:
                        break
                    time.sleep(0.05)
                took = time.time() - started
                final = payments - left
        finally:
            server.stop(timeout=15)
    return {"payments": payments, "final": final, "took": took, "rate": final / took,
            "held_median": statistics.median(held) if held else 0,
            "held_full": sum(h >= IN_FLIGHT for h in held) / len(held) if held else 0.0,
            "requests": sum(a.requests for a in receivers)}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}, {five:.1f}, {fifteen:.1f}"


def verdict(met: bool) -> str:
    return "**met**" if met else "**not met**"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.0%}"


def mean(runs: list[dict[str, Any]]) -> float:
    return statistics.fmean(r["rate"] for r in runs)


def drain_cells(runs: list[dict[str, Any]], unit: str = "payments/s") -> str:
    each = " and ".join(f"{r['rate']:.1f} ({r['final']} in {r['took']:.1f} s)" for r in runs)
    return f"{mean(runs):.1f} {unit}: {each}" if len(runs) > 1 else f"{runs[0]['rate']:.2f} {unit} " \
        f"({runs[0]['final']} payments in {runs[0]['took']:.1f} s)"


def min_max(runs: list[dict[str, Any]]) -> str:
    rates = [r["rate"] for r in runs]
    return f"{min(rates):.1f}–{max(rates):.1f}"


def held(runs: list[dict[str, Any]]) -> str:
    medians = ", ".join(f"{r['held_median']:g}" for r in runs)
    full = ", ".join(f"{r['held_full']:.0%}" for r in runs)
    return f"median {medians} of {IN_FLIGHT}; all {IN_FLIGHT} in {full} of samples"


def findings(rate: dict[str, Any], wide: dict[str, Any], raised: dict[str, list[dict[str, Any]]]) -> str:
    """What the figures say beyond the targets; each sentence only when this run's figures bear it out."""
    said = []
    if wide["max_open"] <= PER_ENDPOINT and wide["rate"] < 1.5 * rate["rate"]:
        said.append(
            f"Four times the in-flight bounds (1b) raised the sender's rate by only "
            f"{wide['rate'] / rate['rate'] - 1:.0%}, and no receiver held more than {wide['max_open']} POSTs at once "
            "even then: the POSTs are not what bounds it, its work per delivery in the process is (a claim, and a "
            "write transaction recording each outcome, on SQLite's one writer, which the drain also uses).")
    r_none, r_fast, r_slow = mean(raised["none"]), mean(raised["fast"]), mean(raised["slow"])
    if r_fast < r_slow and r_fast < 0.9 * r_none:
        per_payment = statistics.fmean(r["requests"] / (r["payments"] + 2 * IN_FLIGHT) for r in raised["fast"])
        said.append(
            f"Receivers that answer at once (3d, about {per_payment:.0f} deliveries per payment) took the drain to "
            f"{ratio(r_fast, r_none)} of 3c, more than slow receivers do: once the bucket is out of the way, the "
            "sender's own load, not a receiver's slowness, is what competes with payments.")
    return "Findings. " + " ".join(said) if said else "Findings: nothing beyond the targets below."


def main(argv: list[str] | None = None) -> None:
    from bench.payments import bench_parser, publish

    parser = bench_parser("bench.webhooks", __doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the raised-bucket drain comparison")
    args = parser.parse_args(argv)
    started, load_before = time.time(), load()
    slow_n = IN_FLIGHT // PER_ENDPOINT  # enough endpoints to take every slot of the process
    wide = (IN_FLIGHT * 4, PER_ENDPOINT * 4)

    def step(what: str) -> None:
        print(f"webhooks: {what} ...", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        step(f"the sender's rate on a backlog, {IN_FLIGHT}/{PER_ENDPOINT} in flight")
        rate = throughput(root / "rate")
        step(f"the sender's rate on a backlog, {wide[0]}/{wide[1]} in flight")
        rate_wide = throughput(root / "rate-wide", in_flight=wide[0], per_endpoint=wide[1])
        step("payment.completed → delivery")
        lag = latency(root / "latency")
        step("drain, default bucket, no endpoint")
        none_d = drain_rate(root / "d-none", 0, 0.0, 30)
        step(f"drain, default bucket, {slow_n} slow endpoints")
        slow_d = drain_rate(root / "d-slow", slow_n, 10.0, 30)
        raised: dict[str, list[dict[str, Any]]] = {"none": [], "fast": [], "slow": []}
        for r in range(args.rounds):  # interleaved, so a change in the machine's load touches each alike
            for kind, n, delay in (("none", 0, 0.0), ("fast", slow_n, 0.0), ("slow", slow_n, 10.0)):
                step(f"drain, bucket {RAISED_BUCKET:g}/s, {kind} endpoints, round {r + 1}")
                raised[kind].append(drain_rate(root / f"r-{kind}-{r}", n, delay, 300, RAISED_BUCKET))
    for name, value in (("rate", rate), ("rate_wide", rate_wide), ("lag", lag), ("none_d", none_d),
                        ("slow_d", slow_d), ("raised", raised)):
        print(f"{name}: {value}", file=sys.stderr)
    ended = datetime.now(UTC)
    rate_ok = rate["done"] and rate["arrived"] == rate["expected"]
    lag_ok = lag["done"] and lag["samples"] >= 500
    r_none, r_fast, r_slow = mean(raised["none"]), mean(raised["fast"]), mean(raised["slow"])
    full = min([slow_d["held_full"]] + [r["held_full"] for r in raised["slow"]])
    default_ok = slow_d["rate"] >= 0.9 * none_d["rate"]
    low = min(r["rate"] for r in raised["none"])
    if r_slow >= 0.9 * r_none:
        spread = "so it is not slowed there either (within 10 %)"
    elif r_slow >= low:
        spread = ("within the spread of the rounds without endpoints on this shared machine, so this run neither "
                  "shows nor rules out a slowing there")
    else:
        spread = ("below every round without endpoints: slowed there, **not met** at that rate (the deliveries "
                  "that every event owes these endpoints are written in the payments' own transactions, a cost "
                  "this bench does not separate from that of the slow POSTs)")
    missing = " (but not every delivery arrived: see above)"
    section = "\n".join([
        f"Measured {ended:%Y-%m-%d %H:%M} UTC with `python -m bench.webhooks` ({time.time() - started:.0f} s in all); "
        f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, load average (1, 5, 15 "
        f"min) {load_before} at the start and {load()} at the end: the machine was shared with other work, so "
        "figures move between runs. One served process on SQLite; the receivers are plain HTTP servers in the "
        "bench process on localhost, one per endpoint, that answer 204 (after 10 s for the slow ones). Unless a "
        f"row says otherwise the sender's bounds are the defaults: {IN_FLIGHT} POSTs in flight per process, "
        f"{PER_ENDPOINT} per endpoint. The mock provider answers at once (latency 0).",
        "",
        "| what | figure |",
        "|---|---|",
        f"| 1a. deliveries per second of one process's sender, {IN_FLIGHT} in flight per process, {PER_ENDPOINT} per "
        f"endpoint (receivers that answer at once) | **{rate['rate']:.0f}/s**: {rate['arrived']} of "
        f"{rate['expected']} deliveries ({rate['endpoints']} endpoints × {rate['events']} events) arrived "
        f"{rate['span']:.1f} s from the first to the last (each receiver held at most {rate['max_open']} at once); "
        f"{rate['ready_to_last']:.1f} s from the process answering /health to the last (its first poll came "
        f"{rate['first_after_ready']:.1f} s after) |",
        f"| 1b. the same with {wide[0]} in flight per process, {wide[1]} per endpoint (not the default) | "
        f"{rate_wide['rate']:.0f}/s: {rate_wide['arrived']} of {rate_wide['expected']} in {rate_wide['span']:.1f} s "
        f"(each receiver held at most {rate_wide['max_open']} at once) |",
        f"| 2. `payment.completed` created (`createdAt`) → its delivery arrives | p50 **{lag['p50']:.0f} ms**, "
        f"p90 {lag['p90']:.0f} ms, p99 **{lag['p99']:.0f} ms**, max {lag['max']:.0f} ms over {lag['samples']} "
        f"payments ({lag['payments']} submitted one after another over {lag['submitted']:.1f} s, the mock's bucket "
        f"raised from {BUCKET_RATE:g}/s to {LATENCY_BUCKET_RATE}/s for this part) |",
        f"| 3a. payment drain, default bucket ({BUCKET_RATE:g}/s), no endpoint | {drain_cells([none_d])} |",
        f"| 3b. the same with {slow_n} endpoints on receivers taking 10 s per request, subscribed to every event | "
        f"{drain_cells([slow_d])}, {ratio(slow_d['rate'], none_d['rate'])} of 3a; slow POSTs open during the "
        f"drain: {held([slow_d])} |",
        f"| 3c. payment drain, bucket raised to {RAISED_BUCKET:g}/s so it never holds the drain back (the "
        f"submissions and the drain then share the process), no endpoint, "
        f"{args.rounds} rounds | {drain_cells(raised['none'])} |",
        f"| 3d. as 3c with {slow_n} endpoints on receivers that answer at once, subscribed to every event | "
        f"{drain_cells(raised['fast'])}; {ratio(r_fast, r_none)} of 3c |",
        f"| 3e. as 3c with the {slow_n} slow endpoints | {drain_cells(raised['slow'])}; {ratio(r_slow, r_none)} of "
        f"3c, {ratio(r_slow, r_fast)} of 3d; slow POSTs open during the drain: {held(raised['slow'])} |",
        "",
        f"Method. (1) The endpoints are made on a running process, which is then stopped; {rate['events']} "
        "`payment.created` events (a real payment's body) are written to its database through PayGate's own unit of "
        "work, which owes each endpoint a delivery in the same transaction, as a submission does; a new process is "
        "started on it and the time from the first delivery's arrival to the last is the sender's own rate, with no "
        "event being made meanwhile. (2) Every `payment.completed` delivery is timed from the event's `createdAt` (in "
        "its body) to its first arrival, on one clock. (3) Warm-up payments make the deliveries that fill the slow "
        "receivers' slots first; the drain is timed from the first measured submission (one after another, so the "
        "submissions are part of the time) until no payment is pending, processing or retrying. Each part is a fresh "
        "process on a fresh database; the raised-bucket parts run interleaved. A slow POST ends at the sender's 10 s "
        "timeout as the receiver answers, so a sample may count one that is being given up or miss one being "
        "replaced; the endpoints subscribe to every event, so they never run out of due deliveries.",
        "",
        findings(rate, rate_wide, raised),
        "",
        f"Targets. Deliveries per second: the issue sets no number; {rate['rate']:.0f}/s is the sender's own rate "
        "with its default bounds, measured on a backlog, so it is no longer a floor set by how fast events were "
        f"made{'' if rate_ok else missing}. Its p50 and p99: {lag['samples']} samples, so p99 is a percentile, not "
        f"the maximum{'' if lag_ok else ' (fewer samples than planned: see above)'}; no number was set. A receiver "
        f"taking 10 s does not slow the payment drain: {verdict(default_ok)} at the default bucket, the drain "
        f"PayGate runs (taken as met at 90 % or more of the same run's drain without endpoints, with every slot held "
        f"by slow receivers): {ratio(slow_d['rate'], none_d['rate'])}. With the bucket out of the way, where the "
        f"drain runs as fast as the process can, the slow endpoints' drain averaged {ratio(r_slow, r_none)} of the "
        f"one without endpoints ({min_max(raised['slow'])} payments/s against {min_max(raised['none'])}), "
        f"{spread}; the slow receivers held all {IN_FLIGHT} slots in {full:.0%} or more of each run's samples. "
        "Each figure is one run (or a few interleaved rounds) on a shared machine, so expect them to move by a "
        "fifth or more between runs.",
    ])
    publish(section, not args.no_write, "<!-- bench:webhooks:start -->", "<!-- bench:webhooks:end -->",
            "Merchant webhooks")


if __name__ == "__main__":
    main()
