"""Browser sessions across replicas: two processes on one PostgreSQL database keep NiceGUI's user storage in
Redis, so a browser signed in through one is signed in (and then signed out) through the other.

Needs PAYGATE_TEST_POSTGRES_URL and PAYGATE_TEST_REDIS_URL (.ci/run sets both).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from playwright.async_api import Page, expect

from tests.conftest import postgres_url
from tests.e2e.browser import sign_in
from tests.e2e.conftest import Server, start_server
from tests.integration.pg import fresh_postgres_schema

pytestmark = pytest.mark.e2e

REDIS_URL = os.environ.get("PAYGATE_TEST_REDIS_URL")
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
    by PayGate's setting, B by NiceGUI's own variable: either one puts the sessions there. Each names itself
    (PAYGATE_REPLICA_NAME) for a proxy that routes pages' live connections."""
    assert REDIS_URL is not None
    started: list[Server] = []
    with fresh_postgres_schema() as database:
        common = {"PAYGATE_DATABASE_URL": database, "NICEGUI_REDIS_KEY_PREFIX": redis_prefix}
        try:
            started.append(start_server(tmp_path / "a", PAYGATE_REDIS_URL=REDIS_URL, PAYGATE_REPLICA_NAME="a",
                                        **common))
            started.append(start_server(tmp_path / "b", NICEGUI_REDIS_URL=REDIS_URL, PAYGATE_REPLICA_NAME="b",
                                        **common))
            yield started[0], started[1]
        finally:
            for server in started:
                server.stop()


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
    assert live and all("replica=b" in url for url in live), sockets  # what a proxy routes it back to B by
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
