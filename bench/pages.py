"""The pages benchmark: `python -m bench.pages [--quick] [--no-write]`.

Starts PayGate (`python main.py`, a fresh SQLite database, the demo data plus an order and a few payments),
signs in as the demo admin in a headless Chromium (Playwright; Debian's /usr/bin/chromium, as the journeys
use) and opens every page at 390 × 844 and at 1280 × 860, a few times each, in a fresh browser context per
width (so the first page of each width loads NiceGUI's and Quasar's files cold). For each visit it reads the
page's own clock (milliseconds from the start of the navigation):

  first content  the first contentful paint (the frame and the page's title are in the served HTML);
  interactive    NiceGUI's socket handshake done (`window.did_handshake`): from then on clicks and keys act;
  network idle   the end of the last exchange: the last response the page loaded, or the socket's handshake
                 if that came later (read once Playwright saw 500 ms without a request).

The sign-in page is measured too, before signing in, and is the first (cold) page of each width.

Prints a table and writes it to docs/benchmarks.md between the bench:pages markers, with the worst figures.
Target: every page interactive within 1 s.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.async_api import Page, ViewportSize, async_playwright

from bench.payments import bench_parser, publish
from bench.server import start_server

START, END = "<!-- bench:pages:start -->", "<!-- bench:pages:end -->"
TARGET_MS = 1000.0
ADMIN = ("admin@example.com", "admin123")
CUSTOMER = ("customer@example.com", "password123")
WIDTHS: dict[int, ViewportSize] = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 860}}
# Every page of the navigation (an admin sees them all), a payment's and an order's own page, and sign-in.
PAGES = ["/login", "/", "/shop", "/payments/new", "/payments", "/payments/{payment}", "/orders", "/orders/{order}",
         "/admin/metrics", "/admin/users", "/admin/products", "/admin/webhooks"]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Notes the moment of NiceGUI's handshake on the page's clock, before any of the page's scripts run.
HANDSHAKE_CLOCK = """
Object.defineProperty(window, 'did_handshake', {
  configurable: true,
  get() { return this.__didHandshake; },
  set(value) {
    this.__didHandshake = value;
    if (value && this.__handshakeAt === undefined) this.__handshakeAt = performance.now();
  },
});
"""
READ_CLOCK = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const loads = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const handshake = window.__handshakeAt ?? null;
  return [paint ? paint.startTime : null, handshake, Math.max(handshake ?? 0, ...loads.map(e => e.responseEnd))];
}"""


@dataclass
class Figures:
    """One page at one width: the milliseconds of each visit."""

    first_content: list[float] = field(default_factory=list)
    interactive: list[float] = field(default_factory=list)
    network_idle: list[float] = field(default_factory=list)


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return None  # Playwright's own, if `playwright install chromium` put one there


def seed(url: str) -> dict[str, str]:
    """An order and two payments of the demo customer's, through the API; the ids the pages' paths take."""
    card = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/auth/login", json={"email": CUSTOMER[0], "password": CUSTOMER[1]}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        order = client.post("/api/orders", headers=headers, json={
            "items": [{"productId": "prod_001", "quantity": 1}], "description": "Benchmark order", "card": card})
        order.raise_for_status()
        for amount in (1250, 4999):
            client.post("/api/payments", headers=headers,
                        json={"amount": amount, "currency": "USD", "description": "Benchmark", "card": card}) \
                .raise_for_status()
    return {"payment": order.json()["paymentId"], "order": order.json()["id"]}


def machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"Machine: {cpus} CPUs (nproc), {platform.machine()}, Python {platform.python_version()} on "
            f"{platform.system()} {platform.release()}; PayGate and Chromium share it "
            f"(load average at the end: {load}).")


async def sign_in(page: Page, url: str) -> None:
    """On the sign-in page, already open: the admin's email and password, then the dashboard."""
    await page.get_by_label("Email").fill(ADMIN[0])
    await page.get_by_label("Password").fill(ADMIN[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{url}/")


async def visit(page: Page, url: str) -> tuple[float, float, float]:
    await page.goto(url, wait_until="networkidle")
    await page.wait_for_function("window.did_handshake === true")
    first, interactive, idle = await page.evaluate(READ_CLOCK)
    if first is None or interactive is None:
        raise RuntimeError(f"{url} painted nothing or never connected")
    return float(first), float(interactive), float(idle)


async def measure(url: str, ids: dict[str, str], repeats: int) -> dict[tuple[str, int], Figures]:
    figures: dict[tuple[str, int], Figures] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        for width, viewport in WIDTHS.items():
            context = await browser.new_context(viewport=viewport)
            await context.add_init_script(HANDSHAKE_CLOCK)
            page = await context.new_page()
            for _ in range(repeats):
                for path in PAGES:
                    got = figures.setdefault((path, width), Figures())
                    first, interactive, idle = await visit(page, url + path.format(**ids))
                    got.first_content.append(first)
                    got.interactive.append(interactive)
                    got.network_idle.append(idle)
                    if path == "/login":
                        await sign_in(page, url)
                await context.clear_cookies()  # signed out: the next round starts at the sign-in page again
            await context.close()
        await browser.close()
    return figures


def cell(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} / {max(values):.0f}"


def report(figures: dict[tuple[str, int], Figures], repeats: int, command: str, seconds: float) -> str:
    worst = {name: max((getattr(f, name) for f in figures.values()), key=max)
             for name in ("first_content", "interactive", "network_idle")}
    slowest = max(figures.items(), key=lambda item: max(item[1].interactive))
    (slow_path, slow_width), slow = slowest
    met = max(slow.interactive) <= TARGET_MS
    rows = [f"| `{path}` | {width} | {cell(f.first_content)} | {cell(f.interactive)} | {cell(f.network_idle)} |"
            for (path, width), f in sorted(figures.items(), key=lambda item: (item[0][1], PAGES.index(item[0][0])))]
    return "\n".join([
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} with `{command}` ({seconds:.0f} s in all).",
        machine(),
        "",
        "Signed in as the demo admin (who sees every page), headless Chromium, each page opened "
        f"{repeats} time(s) at each width in a fresh browser context per width (the sign-in page, first, loads "
        "the static files cold; each round signs in anew). Milliseconds from the start of the navigation, "
        "on the page's own clock: "
        "**first content** is the first contentful paint; **interactive** is NiceGUI's socket handshake "
        "(clicks and keys act from then on); **network idle** is the end of the last exchange (the last response "
        "the page loaded, or the handshake if later). "
        "Each cell: median / worst.",
        "",
        "| page | width | first content | interactive | network idle |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Worst of all: first content {max(worst['first_content']):.0f} ms, interactive "
        f"{max(worst['interactive']):.0f} ms (`{slow_path}` at {slow_width} px), network idle "
        f"{max(worst['network_idle']):.0f} ms.",
        "",
        f"Target: every page interactive within {TARGET_MS / 1000:g} s: {'**met**' if met else '**missed**'}.",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("bench.pages", __doc__, quick="each page once at each width")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 5
    command = "python -m bench.pages" + (" --quick" if args.quick else "")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="paygate-pages-") as tmp:
        server = start_server(Path(tmp))
        try:
            ids = seed(server.url)
            figures = asyncio.run(measure(server.url, ids, repeats))
        finally:
            server.stop()
    publish(report(figures, repeats, command, time.monotonic() - started), not args.no_write, START, END, "Pages")


if __name__ == "__main__":
    main()
