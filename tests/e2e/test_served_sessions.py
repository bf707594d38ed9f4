"""Sessions, tokens and sign-in against the process that `make run` starts (main.py, a fresh data folder)."""

from __future__ import annotations

import asyncio
import json
import stat
import time
from pathlib import Path

import httpx
import pytest
import websockets
from playwright.async_api import Browser

from tests.e2e.browser import sign_in
from tests.e2e.conftest import Server, bearer

pytestmark = pytest.mark.e2e

CLOSE_WITHIN_SECONDS = 5.0


def login(client: httpx.Client, email: str, password: str, **headers: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


def new_user(client: httpx.Client, admin: dict[str, str], email: str, role: str = "customer") -> tuple[str, str]:
    created = client.post("/api/users", headers=admin, json={"email": email, "password": "s3cret-pass",
                                                             "name": "Someone", "role": role})
    assert created.status_code == 201, created.text
    return created.json()["id"], bearer(client, email, "s3cret-pass")["Authorization"].split()[1]


def ws_url(server: Server, token: str) -> str:
    return f"ws://127.0.0.1:{server.port}/api/ws?token={token}"


async def closed_code(socket: websockets.ClientConnection, within: float) -> int | None:
    """The close code the server sends within `within` seconds (frames before it are skipped)."""
    deadline = time.monotonic() + within
    try:
        while True:
            await asyncio.wait_for(socket.recv(), timeout=max(0.01, deadline - time.monotonic()))
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None


# --- the WebSocket is checked again while it is open ---------------------------------------
@pytest.mark.parametrize("change", ["delete", "deactivate", "reset password", "demote"])
async def test_an_open_websocket_is_closed_with_4401_soon_after_its_user_loses_access(server: Server, change: str):
    with httpx.Client(base_url=server.url) as client:
        admin = bearer(client, "admin@example.com", "admin123")
        user_id, token = new_user(client, admin, f"ws-{change.replace(' ', '-')}@example.com",
                                  role="admin" if change == "demote" else "customer")
        async with websockets.connect(ws_url(server, token)) as socket:
            assert await closed_code(socket, 1.5) is None  # open, and staying open
            if change == "delete":
                response = client.delete(f"/api/users/{user_id}", headers=admin)
            else:
                body = {"deactivate": {"active": False}, "reset password": {"password": "another-pass-1"},
                        "demote": {"role": "customer"}}[change]
                response = client.put(f"/api/users/{user_id}", headers=admin, json=body)
            assert response.status_code in (200, 204), response.text
            changed_at = time.monotonic()

            code = await closed_code(socket, CLOSE_WITHIN_SECONDS)

        assert code == 4401
        assert time.monotonic() - changed_at <= CLOSE_WITHIN_SECONDS


async def test_a_demoted_admins_socket_gets_no_other_customers_event_after_the_demotion(server: Server):
    with httpx.Client(base_url=server.url) as client:
        admin = bearer(client, "admin@example.com", "admin123")
        customer = bearer(client, "customer@example.com", "password123")
        user_id, token = new_user(client, admin, "demoted-admin@example.com", role="admin")
        async with websockets.connect(ws_url(server, token)) as socket:
            client.put(f"/api/users/{user_id}", headers=admin, json={"role": "customer"})
            paid = client.post("/api/payments", headers=customer, json={"amount": 321, "currency": "USD"})
            assert paid.status_code == 202
            seen: list[dict] = []
            try:
                while True:
                    seen.append(json.loads(await asyncio.wait_for(socket.recv(), timeout=CLOSE_WITHIN_SECONDS)))
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4401

    assert [e for e in seen if e["data"].get("id") == paid.json()["id"]] == []


async def test_a_websocket_is_closed_when_its_token_expires(server_factory, tmp_path: Path):
    server = server_factory(tmp_path / "short-tokens", PAYGATE_JWT_TTL_SECONDS="3")
    with httpx.Client(base_url=server.url) as client:
        token = bearer(client, "customer@example.com", "password123")["Authorization"].split()[1]
    async with websockets.connect(ws_url(server, token)) as socket:
        opened = time.monotonic()

        code = await closed_code(socket, 3 + CLOSE_WITHIN_SECONDS)

    assert code == 4401
    assert time.monotonic() - opened >= 2.0  # not before the token expired


# --- sign-in throttling -------------------------------------------------------------------
def test_wrong_guesses_from_one_client_do_not_lock_the_owner_out(server_factory, tmp_path: Path):
    server = server_factory(tmp_path / "behind-a-proxy", PAYGATE_TRUSTED_PROXIES="127.0.0.1")
    attacker, owner = {"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "198.51.100.20"}
    with httpx.Client(base_url=server.url) as client:
        for _ in range(10):
            assert login(client, "customer@example.com", "wrong-guess", **attacker).status_code == 401

        assert login(client, "customer@example.com", "password123", **attacker).status_code == 429
        assert login(client, "customer@example.com", "password123", **owner).status_code == 200


def test_x_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_per_client_throttle(server: Server):
    per_client = 30  # PAYGATE_LOGIN_MAX_CLIENT_FAILURES' default
    with httpx.Client(base_url=server.url) as client:
        statuses = [login(client, f"guess{i}@example.com", "wrong-guess",
                          **{"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(per_client + 1)]

    assert statuses[:per_client] == [401] * per_client
    assert statuses[per_client] == 429


# --- the browser session ------------------------------------------------------------------
def storage_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("storage-user-*.json"))


async def test_browser_sessions_live_in_the_data_folder_private_and_hold_no_bearer_token(
        server_factory, tmp_path: Path, browser: Browser):
    workdir = tmp_path / "workdir"
    data = workdir / "data"
    server = server_factory(workdir, PAYGATE_DATA_DIR=str(data))
    page = await (await browser.new_context()).new_page()

    await sign_in(page, server.url, "customer@example.com", "password123")
    await page.wait_for_timeout(1500)  # NiceGUI writes user storage in the background

    files = storage_files(data / ".nicegui")
    assert files, "no NiceGUI user storage in the data folder"
    assert not (workdir / ".nicegui").exists()
    assert stat.S_IMODE((data / ".nicegui").stat().st_mode) == 0o700
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        text = f.read_text()
        assert "eyJ" not in text  # no JWT (their base64 header starts so)
        assert "Bearer" not in text

    await page.get_by_text("Sign out", exact=True).click()
    await page.wait_for_url("**/login")
    await page.wait_for_timeout(1500)
    assert all('"session"' not in f.read_text() for f in storage_files(data / ".nicegui"))


async def test_a_password_reset_ends_the_browser_session(server: Server, browser: Browser):
    page = await (await browser.new_context()).new_page()
    await sign_in(page, server.url, "customer@example.com", "password123")
    with httpx.Client(base_url=server.url) as client:
        admin = bearer(client, "admin@example.com", "admin123")
        me = client.get("/api/auth/me", headers=bearer(client, "customer@example.com", "password123")).json()
        assert client.put(f"/api/users/{me['id']}", headers=admin,
                          json={"password": "a-new-passw0rd"}).status_code == 200

    # The open page hears the user's change live and is taken to the login page; wait for that
    # first, or a navigation of our own races it (net::ERR_ABORTED).
    await page.wait_for_url("**/login")
    await page.goto(f"{server.url}/payments")

    await page.wait_for_url("**/login")
