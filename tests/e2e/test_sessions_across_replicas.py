"""Browser sessions across replicas: two processes on one PostgreSQL database keep NiceGUI's user storage in
Redis, so a browser signed in through one is signed in (and then signed out) through the other; and the same
two behind the prod profile's nginx (deploy/nginx.conf), with no sticky sessions.

Needs PAYGATE_TEST_POSTGRES_URL and PAYGATE_TEST_REDIS_URL (.ci/run sets both); the proxy journey needs nginx.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from playwright.async_api import Page, expect

from tests.conftest import postgres_url
from tests.e2e.browser import sign_in
from tests.e2e.conftest import Server, free_port, start_server
from tests.integration.pg import fresh_postgres_schema

pytestmark = pytest.mark.e2e

REDIS_URL = os.environ.get("PAYGATE_TEST_REDIS_URL")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
CUSTOMER = ("customer@example.com", "password123")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the tests' Redis database; its keys are deleted afterwards."""
    if postgres_url() is None or REDIS_URL is None:
        pytest.skip("sessions across replicas need PAYGATE_TEST_POSTGRES_URL and PAYGATE_TEST_REDIS_URL "
                    "(.ci/run sets both)")
    prefix = f"paygate-test-{secrets.token_hex(4)}:"
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)


@pytest.fixture
def replicas(tmp_path: Path, redis_prefix: str) -> Iterator[tuple[Server, Server]]:
    """Two servers, each with its own data folder, on one PostgreSQL schema and one Redis. A is told about Redis
    by PayGate's setting, B by NiceGUI's own variable: either one puts the sessions there. They name themselves
    (PAYGATE_REPLICA_NAME) as the prod profile's replicas do, for the proxy that routes pages' live connections."""
    assert REDIS_URL is not None
    started: list[Server] = []
    with fresh_postgres_schema() as database:
        common = {"PAYGATE_DATABASE_URL": database, "NICEGUI_REDIS_KEY_PREFIX": redis_prefix}
        try:
            started.append(start_server(tmp_path / "a", PAYGATE_REDIS_URL=REDIS_URL, PAYGATE_REPLICA_NAME="app1",
                                        **common))
            started.append(start_server(tmp_path / "b", NICEGUI_REDIS_URL=REDIS_URL, PAYGATE_REPLICA_NAME="app2",
                                        **common))
            yield started[0], started[1]
        finally:
            for server in started:
                server.stop()


@pytest.fixture
def proxy(replicas: tuple[Server, Server], tmp_path: Path) -> Iterator[str]:
    """deploy/nginx.conf as it is, in front of the two replicas (the services' names and nginx's port swapped for
    these processes' addresses): its URL."""
    if NGINX is None:
        pytest.skip("the proxy journey needs nginx (apt-get install nginx-light)")
    a, b = replicas
    port = free_port()
    text = NGINX_CONF.read_text(encoding="utf-8")
    swaps = {"app1:3001": f"127.0.0.1:{a.port}", "app2:3001": f"127.0.0.1:{b.port}",
             "listen 80;": f"listen 127.0.0.1:{port};", "worker_processes auto;": "worker_processes 1;"}
    for old, new in swaps.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    run = tmp_path / "nginx"
    run.mkdir()
    temp_paths = "".join(f"    {kind}_temp_path {run / kind};\n" for kind in ("client_body", "proxy"))
    text = text.replace("http {\n", "http {\n" + temp_paths + f"    access_log {run / 'access.log'};\n", 1)
    conf = run / "nginx.conf"
    conf.write_text(f"pid {run / 'nginx.pid'};\nerror_log {run / 'error.log'};\n" + text, encoding="utf-8")
    process = subprocess.Popen([NGINX, "-p", str(run), "-c", str(conf), "-e", str(run / "error.log"),
                                "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start: " + (run / "error.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


async def test_a_browser_signed_in_through_one_replica_is_signed_in_and_out_on_the_other(
        replicas: tuple[Server, Server], redis_prefix: str, page: Page):
    a, b = replicas
    assert a.url.startswith("http://127.0.0.1:") and b.url.startswith("http://127.0.0.1:")  # one cookie jar
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))

    await sign_in(page, a.url, *CUSTOMER)
    await page.goto(f"{b.url}/")

    assert page.url == f"{b.url}/", "replica B sent the browser to sign in"
    await expect(page.get_by_text("Dashboard", exact=True).first).to_be_visible()
    await expect(page.get_by_text("Demo Customer").first).to_be_visible()
    await page.wait_for_function("window.did_handshake === true")
    live = [url for url in sockets if f":{b.port}/_nicegui_ws/" in url]
    assert live and all("replica=app2" in url for url in live), sockets  # what a proxy routes it back to B by
    assert REDIS_URL is not None
    with redis.Redis.from_url(REDIS_URL) as client:
        sessions = [key for key in client.scan_iter(match=redis_prefix + "user-*") if b'"session"' in client.get(key)]
    assert len(sessions) == 1, "the session is not kept in Redis"

    await page.goto(f"{a.url}/")
    await page.wait_for_function("window.did_handshake === true")  # the click needs the live connection
    await page.get_by_text("Sign out", exact=True).click()
    await page.wait_for_url(f"{a.url}/login")
    await page.goto(f"{b.url}/")

    await page.wait_for_url(f"{b.url}/login")
    await expect(page.get_by_label("Email")).to_be_visible()


async def test_behind_the_prod_proxy_pages_from_either_replica_stay_live_without_sticky_sessions(
        proxy: str, page: Page):
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await sign_in(page, proxy, *CUSTOMER)
    served_by: set[str] = set()

    for _ in range(6):  # nginx takes turns: the pages (and their files) come from both replicas
        await page.goto(f"{proxy}/")
        await page.wait_for_function("window.did_handshake === true")
        await expect(page.get_by_text("Demo Customer").first).to_be_visible()
        kind = await page.evaluate("performance.getEntriesByType('navigation')[0].type")
        assert kind == "navigate", "NiceGUI reloaded the page: its live connection reached the other replica"
        served_by.add(await page.evaluate("window.socket.io.opts.query.replica"))

    assert served_by == {"app1", "app2"}
    assert sockets and all(url.startswith(proxy.replace("http", "ws")) for url in sockets)
    await page.get_by_text("Sign out", exact=True).click()
    await page.wait_for_url(f"{proxy}/login")
    await page.goto(f"{proxy}/")
    await page.wait_for_url(f"{proxy}/login")
