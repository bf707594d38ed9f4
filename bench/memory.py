"""The memory benchmark: `python -m bench.memory [--quick] [--no-write]`.

Starts PayGate (`python main.py`, a fresh SQLite database with the demo data) and reads the resident set size
(RSS) of that server process with psutil:

  idle        after start-up, nobody connected, the background jobs ticking; and the same for a replica named
              for the prod profile's proxy (PAYGATE_REPLICA_NAME), which imports every element the pages use;
  20 pages    with 20 dashboard pages open, and live, in one Chromium (one signed-in browser context), and
              after they are closed; twice, since memory the first round leaves behind should not grow again;
  storms      before a storm of 2000 payments and after it: 2000 `POST /api/payments` from 16 clients that keep
              no cookies (as API clients do, so each request opens a NiceGUI session of its own), the drain left
              to charge them for up to 90 s, then the server left alone until NiceGUI has let go of the
              sessions those requests opened. Then a second storm, the same.

Growth that stays after a storm is a leak unless it stops: memory Python's allocator took for the storm's peak
and keeps for later reuse shows once, after the first storm; a leak grows again with the second. So that the
drain charges as many payments as this machine allows in that time (not 2 a second), the limiter is opened wide
and the mock answers at once for this benchmark; per-customer limits are opened wide too (one customer sends
all of them).

Each figure is the median of five readings a second apart. Writes the table to docs/benchmarks.md between the
bench:memory markers. Targets: idle at most 200 MB; growth after a storm under 50 MB.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import platform
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from playwright.async_api import async_playwright

from bench.pages import CHROMIUM_FLAGS, chromium_path
from bench.payments import bench_parser, pct, publish
from bench.server import Server, start_server

START, END = "<!-- bench:memory:start -->", "<!-- bench:memory:end -->"
IDLE_TARGET_MB = 200.0
LEAK_TARGET_MB = 50.0
ADMIN = ("admin@example.com", "admin123")
CUSTOMER = ("customer@example.com", "password123")
MB = 1024 * 1024
# A storm that the limiter and the mock do not stretch over minutes, and that no per-customer limit refuses.
FAST = {
    "PAYGATE_RATE_LIMIT_CAPACITY": 1000, "PAYGATE_RATE_LIMIT_PER_SECOND": 1000,
    # No margin: at 1000 tokens a second it would leave 0.4 ms between a grant and its call, and a busy event
    # loop would give nearly every token back as too old instead of making the call.
    "PAYGATE_RATE_LIMIT_SAFETY_MARGIN": 0,
    "PAYGATE_MOCK_MIN_LATENCY_MS": 0, "PAYGATE_MOCK_MAX_LATENCY_MS": 0,
    "PAYGATE_CUSTOMER_RATE_PER_SECOND": 100000, "PAYGATE_CUSTOMER_BURST": 100000,
}


@dataclass(frozen=True)
class Scale:
    pages: int = 20
    storm: int = 2000
    concurrency: int = 16
    drain_seconds: float = 90.0  # the longest wait for the storm's payments to be charged
    settle_seconds: float = 25.0  # NiceGUI lets go of a session 10-20 s after its last request


FULL = Scale()
QUICK = Scale(pages=5, storm=300, drain_seconds=30.0)


def rss_mb(pid: int) -> float:
    """The resident set of the process and any children it has, in MiB."""
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / MB


def steady_rss(pid: int, readings: int = 5) -> float:
    values = []
    for _ in range(readings):
        values.append(rss_mb(pid))
        time.sleep(1.0)
    return statistics.median(values)


def chromium_pss_mb() -> float:
    """Chromium's own memory (its processes' proportional set sizes, so shared pages count once)."""
    total = 0
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name().lower():
                total += child.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total / MB


# --- 20 dashboard pages ----------------------------------------------------------------------------

async def open_pages(server: Server, count: int) -> tuple[float, float]:
    """(server RSS, Chromium's PSS) with `count` live dashboard pages of the signed-in admin in one Chromium."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 860})
        first = await context.new_page()
        await first.goto(f"{server.url}/login")
        await first.get_by_label("Email").fill(ADMIN[0])
        await first.get_by_label("Password").fill(ADMIN[1])
        await first.get_by_role("button", name="Sign in").click()
        await first.wait_for_url(f"{server.url}/")
        await first.wait_for_function("window.did_handshake === true")
        for _ in range(count - 1):
            page = await context.new_page()
            await page.goto(f"{server.url}/")
            await page.wait_for_function("window.did_handshake === true")
            if page.url != f"{server.url}/":
                raise RuntimeError(f"a dashboard page landed on {page.url}")
        await asyncio.sleep(3)  # the pages' first live refreshes
        server_rss = await asyncio.to_thread(steady_rss, server.proc.pid)
        chromium = chromium_pss_mb()
        await browser.close()
    return server_rss, chromium


# --- storms ----------------------------------------------------------------------------------------

@dataclass
class Storm:
    before: float
    peak: float
    after: float
    seconds: float
    p50_ms: float
    errors: int
    charged: int  # payments the drain charged to an end meanwhile (this storm's, or an earlier one's)
    queued: int  # payments still waiting when the wait ended


def no_cookies() -> httpx.Cookies:
    """A jar that keeps nothing: every request arrives as a new browser session would, like curl's."""
    return httpx.Cookies(http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])))


async def submit(url: str, token: str, total: int, concurrency: int, prefix: str) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for i in counter:
            body = {"amount": 1999, "currency": "USD", "description": prefix, "idempotencyKey": f"{prefix}-{i}"}
            started = time.perf_counter()
            r = await client.post("/api/payments", json=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if r.status_code not in (200, 201, 202):
                errors += 1

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0, cookies=no_cookies()) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies, errors


def queue(db: Path) -> tuple[int, int]:
    """(payments charged to an end, payments still queued), read from the SQLite file."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM payments GROUP BY status").fetchall()
    ended = sum(n for status, n in rows if status in ("completed", "failed"))
    return ended, sum(n for _, n in rows) - ended


def storm(server: Server, token: str, scale: Scale, prefix: str) -> Storm:
    pid = server.proc.pid
    before = steady_rss(pid)
    readings = [before]
    submitting = threading.Event()
    submitting.set()

    def watch() -> None:  # the highest readings come while the requests pour in
        while submitting.is_set():
            readings.append(rss_mb(pid))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    ended_before, _ = queue(server.data_dir / "paygate.db")
    started = time.monotonic()
    try:
        latencies, errors = asyncio.run(submit(server.url, token, scale.storm, scale.concurrency, prefix))
    finally:
        submitting.clear()
        watcher.join()
    peak = max(readings)
    db = server.data_dir / "paygate.db"
    deadline = time.monotonic() + scale.drain_seconds
    while True:
        peak = max(peak, rss_mb(pid))
        ended, queued = queue(db)
        if not queued or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    seconds = time.monotonic() - started
    time.sleep(scale.settle_seconds)
    after = steady_rss(pid)
    return Storm(before, max(peak, after), after, seconds, pct(latencies, 50), errors, ended - ended_before,
                 queued)


# --- the report ------------------------------------------------------------------------------------

def mb(mib: float) -> float:
    """MiB (what the tables show) in MB (what the targets say)."""
    return mib * MB / 1e6


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def report(idle: float, idle_replica: float, rounds: list[tuple[float, float, float]], storms: list[Storm],
           scale: Scale, seconds: float) -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    chromium = max(r[1] for r in rounds)
    lines = [
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} with `python -m bench.memory` "
        f"({seconds:.0f} s in all). Machine: {cpus} CPUs (nproc), {platform.machine()}, Python "
        f"{platform.python_version()} on {platform.system()} {platform.release()} (load average at the end: "
        f"{load}). One server process on a fresh SQLite database; RSS of that process (psutil), the median of "
        "five readings a second apart.",
        "",
        "| moment | server RSS MiB | change MiB |",
        "|---|---:|---:|",
        f"| idle after start-up | {idle:.0f} | |",
        f"| idle after start-up, as a named replica (`PAYGATE_REPLICA_NAME`: every element the pages use "
        f"imported at start) | {idle_replica:.0f} | {idle_replica - idle:+.0f} (vs idle) |",
    ]
    for n, (server_pages, _, closed) in enumerate(rounds, 1):
        again = " again" if n > 1 else ""
        lines += [
            f"| {scale.pages} dashboard pages open{again} and live in one Chromium | {server_pages:.0f} | "
            f"{server_pages - idle:+.0f} (vs idle) |",
            f"| those pages closed, {scale.settle_seconds:.0f} s later | {closed:.0f} | "
            f"{closed - idle:+.0f} (vs idle) |",
        ]
    for n, s in enumerate(storms, 1):
        lines += [
            f"| storm {n}: before | {s.before:.0f} | |",
            f"| storm {n}: highest reading during it | {s.peak:.0f} | {s.peak - s.before:+.0f} |",
            f"| storm {n}: after, {scale.settle_seconds:.0f} s left alone | {s.after:.0f} | "
            f"**{s.after - s.before:+.0f}** |",
        ]
    lines += [""]
    for n, s in enumerate(storms, 1):
        lines.append(f"Storm {n}: {scale.storm} `POST /api/payments` from {scale.concurrency} cookie-less clients "
                     f"(p50 {s.p50_ms:.0f} ms, {s.errors} errors); in the {s.seconds:.0f} s from the first request to "
                     f"the end of the wait the drain charged {s.charged} payments to an end, and {s.queued} "
                     "were still queued (in the database).")
    first_growth = storms[0].after - storms[0].before
    second_growth = storms[-1].after - storms[-1].before if len(storms) > 1 else first_growth
    lines += [
        "",
        f"Chromium itself held {chromium:.0f} MiB (PSS of its processes) with the {scale.pages} pages open.",
        "",
        f"Targets (1 MiB = 1.049 MB): idle at most {IDLE_TARGET_MB:.0f} MB: "
        f"{verdict(mb(max(idle, idle_replica)) <= IDLE_TARGET_MB)} ({mb(idle):.0f} MB, "
        f"{mb(idle_replica):.0f} MB as a named replica); growth that stays after a storm under "
        f"{LEAK_TARGET_MB:.0f} MB: {verdict(mb(max(first_growth, second_growth)) < LEAK_TARGET_MB)} "
        f"({mb(first_growth):+.0f} MB after the first storm, {mb(second_growth):+.0f} MB after the second).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("bench.memory", __doc__, quick="fewer pages and a smaller storm")
    parser.add_argument("--storms", type=int, default=2, help="storms one after the other (default 2)")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="paygate-memory-") as tmp:
        server = start_server(Path(tmp), **FAST)  # type: ignore[arg-type]  # (mypy: FAST could fill `port`)
        try:
            time.sleep(10)  # the jobs' first ticks, the first metrics samples
            idle = steady_rss(server.proc.pid)
            print(f"idle: {idle:.0f} MiB", flush=True)
            rounds = []  # twice: pages that stay in memory once closed would grow it again the second time
            for _ in range(2):
                pages = asyncio.run(open_pages(server, scale.pages))
                time.sleep(scale.settle_seconds)
                rounds.append((*pages, steady_rss(server.proc.pid)))
                print(f"{scale.pages} pages: {pages[0]:.0f} MiB (Chromium {pages[1]:.0f} MiB), closed: "
                      f"{rounds[-1][2]:.0f} MiB", flush=True)
            with httpx.Client(base_url=server.url, timeout=30) as client:
                r = client.post("/api/auth/login", json={"email": CUSTOMER[0], "password": CUSTOMER[1]})
                r.raise_for_status()
                token = r.json()["token"]
            storms = []
            for n in range(1, args.storms + 1):
                storms.append(storm(server, token, scale, f"memory-storm-{n}"))
                s = storms[-1]
                print(f"storm {n}: {s.before:.0f} -> peak {s.peak:.0f} -> {s.after:.0f} MiB "
                      f"({s.charged} charged, {s.queued} queued, {s.errors} errors)", flush=True)
        finally:
            server.stop()
    with tempfile.TemporaryDirectory(prefix="paygate-memory-") as tmp:
        # As a replica behind the prod profile's proxy: every element the pages use is imported at start.
        server = start_server(Path(tmp), PAYGATE_REPLICA_NAME="app1")
        try:
            time.sleep(10)
            idle_replica = steady_rss(server.proc.pid)
            print(f"idle, as a named replica: {idle_replica:.0f} MiB", flush=True)
        finally:
            server.stop()
    publish(report(idle, idle_replica, rounds, storms, scale, time.monotonic() - began), not args.no_write,
            START, END, "Memory")


if __name__ == "__main__":
    main()
