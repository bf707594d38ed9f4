"""WS /api/ws: the event stream, its visibility rules, and replay for a client that reconnects."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.bootstrap import Container


def pay(client: TestClient, headers: dict[str, str], amount: int = 500) -> str:
    r = client.post("/api/payments", headers=headers, json={"amount": amount, "currency": "USD"})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1]


def publish_new_events(client: TestClient, container: Container) -> None:
    client.portal.call(container.hub.tick)


def test_a_bad_or_missing_token_is_refused(client: TestClient):
    for url in ("/api/ws", "/api/ws?token=not-a-jwt"):
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url) as ws:
            ws.receive_text()
        assert refused.value.code == 1008


def test_a_customer_gets_only_their_own_events_and_an_admin_gets_all(
        client: TestClient, container: Container, customer_headers, admin_headers, new_customer):
    other = new_customer("other@example.com")
    container.hub.start_from_now()
    with client.websocket_connect(f"/api/ws?token={token(customer_headers)}") as mine, \
            client.websocket_connect(f"/api/ws?token={token(admin_headers)}") as everything:
        own_id = pay(client, customer_headers, 111)
        other_id = pay(client, other, 222)

        publish_new_events(client, container)

        first = json.loads(mine.receive_text())
        assert (first["type"], first["data"]["id"]) == ("payment.created", own_id)
        seen_by_admin = {json.loads(everything.receive_text())["data"]["id"] for _ in range(2)}
        assert seen_by_admin == {own_id, other_id}
        mine.send_text("ping")  # the customer's stream holds nothing more: the other payment is not theirs
        pay(client, customer_headers, 333)
        publish_new_events(client, container)
        assert json.loads(mine.receive_text())["data"]["amount"] == 333


def test_a_reconnecting_client_gets_what_it_missed_after_its_last_event(
        client: TestClient, container: Container, customer_headers):
    container.hub.start_from_now()
    with client.websocket_connect(f"/api/ws?token={token(customer_headers)}") as ws:
        pay(client, customer_headers, 100)
        publish_new_events(client, container)
        last_seen = json.loads(ws.receive_text())["id"]
    missed = [pay(client, customer_headers, amount) for amount in (200, 300)]

    with client.websocket_connect(f"/api/ws?token={token(customer_headers)}&after={last_seen}") as ws:
        replayed = [json.loads(ws.receive_text()) for _ in range(2)]

    assert [e["data"]["id"] for e in replayed] == missed
    assert all(e["type"] == "payment.created" for e in replayed)
