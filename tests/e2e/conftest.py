"""End-to-end fixtures: real PayGate server processes (bench/server.py starts them, for the
benchmark and the tests alike) on fresh data folders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from bench.server import Server, free_port
from bench.server import start_server as _start
from tests.conftest import TEST_SECRET
from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path

__all__ = ["Server", "bearer", "free_port", "start_server"]


def start_server(tmp_path: Path, port: int | None = None, **env: object) -> Server:
    """Start PayGate on `tmp_path` (its data folder) with the tests' secret; `env` sets PAYGATE_* settings."""
    return _start(tmp_path, port=port, secret=TEST_SECRET, **env)


def bearer(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    """Sign in through the API of the server `client` talks to; the Authorization header."""
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers (default data folder: this test's tmp_path); all are stopped at teardown."""
    started: list[Server] = []

    def start(data_dir: Path | None = None, **env: object) -> Server:
        server = start_server(data_dir or tmp_path, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(server_factory: Callable[..., Server]) -> Server:
    """One PayGate server with default settings on a fresh data folder."""
    return server_factory()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium (Debian's where Playwright's own is absent), through the async API."""
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield b
        await b.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context and page at 1280 × 860."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    p = await context.new_page()
    yield p
    await context.close()
