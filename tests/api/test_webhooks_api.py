"""Webhooks to merchants' endpoints over HTTP (API.md, "Webhooks to your endpoints"): admins only,
the secret shown on creation and rotation only, URLs checked, the delivery log and retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import install_api
from app.api.ws import visible
from app.bootstrap import Container, build
from domain.model.events import Event
from domain.model.webhooks import SendResult
from tests.conftest import login, make_settings
from tests.fakes import T0, make_user
from tests.unit.test_webhooks import FakeResolver, ScriptedSender

Headers = dict[str, str]
URL = "https://shop.example.com/hooks"
HOSTS = {"shop.example.com": ["93.184.216.34"], "inside.example.com": ["10.0.0.8"],
         "meta.example.com": ["169.254.169.254"]}


@pytest.fixture(autouse=True)
def dns(container: Container) -> FakeResolver:
    """The tests' DNS: no network here, and names with the answers each test needs."""
    resolver = FakeResolver(HOSTS)
    container.webhooks.resolver = resolver
    return resolver


def create(client: TestClient, headers: Headers, **changes: object) -> dict:
    response = client.post("/api/webhooks/endpoints", headers=headers,
                           json={"url": URL, "events": ["payment.completed", "refund.succeeded"],
                                 "description": "the shop", **changes})
    assert response.status_code == 201, response.text
    return response.json()


def test_an_admin_creates_an_endpoint_and_sees_its_secret_once(client: TestClient, admin_headers: Headers):
    created = create(client, admin_headers)

    listed = client.get("/api/webhooks/endpoints", headers=admin_headers).json()["data"]
    one = client.get(f"/api/webhooks/endpoints/{created['id']}", headers=admin_headers).json()

    assert created["id"].startswith("we_") and created["secret"].startswith("whsec_")
    assert {k: created[k] for k in ("url", "events", "description", "status")} == {
        "url": URL, "events": ["payment.completed", "refund.succeeded"], "description": "the shop",
        "status": "enabled"}
    assert created["createdAt"].endswith("Z")
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0] and "secret" not in one and one["url"] == URL


def test_rotating_the_secret_shows_a_new_one_once(client: TestClient, admin_headers: Headers):
    created = create(client, admin_headers)

    rotated = client.post(f"/api/webhooks/endpoints/{created['id']}/rotate-secret", headers=admin_headers)

    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != created["secret"]
    assert client.post("/api/webhooks/endpoints/we_nope/rotate-secret", headers=admin_headers).status_code == 404


def test_patch_changes_the_fields_given_and_delete_removes_the_endpoint(client: TestClient, admin_headers: Headers):
    created = create(client, admin_headers)
    path = f"/api/webhooks/endpoints/{created['id']}"

    patched = client.patch(path, headers=admin_headers, json={"events": ["*"], "status": "disabled"})
    deleted = client.delete(path, headers=admin_headers)

    assert patched.status_code == 200
    assert (patched.json()["events"], patched.json()["status"], patched.json()["url"]) == (["*"], "disabled", URL)
    assert deleted.status_code == 204
    assert client.get(path, headers=admin_headers).status_code == 404
    assert client.delete(path, headers=admin_headers).status_code == 404
    assert client.patch(path, headers=admin_headers, json={"description": "x"}).status_code == 404


def test_customers_may_not_touch_webhooks_and_anonymous_callers_are_unauthorized(
        client: TestClient, customer_headers: Headers, admin_headers: Headers):
    created = create(client, admin_headers)
    calls = [("GET", "/api/webhooks/endpoints"), ("POST", "/api/webhooks/endpoints"),
             ("GET", f"/api/webhooks/endpoints/{created['id']}"),
             ("PATCH", f"/api/webhooks/endpoints/{created['id']}"),
             ("DELETE", f"/api/webhooks/endpoints/{created['id']}"),
             ("POST", f"/api/webhooks/endpoints/{created['id']}/rotate-secret"),
             ("GET", f"/api/webhooks/endpoints/{created['id']}/deliveries"),
             ("POST", "/api/webhooks/deliveries/whd_x/retry")]

    for method, path in calls:
        as_customer = client.request(method, path, headers=customer_headers, json={})
        anonymous = client.request(method, path, json={})
        assert as_customer.status_code == 403, (method, path)
        assert anonymous.status_code == 401, (method, path)
        assert as_customer.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"events": ["payment.done"]}, "events", ""),
    ({"events": ["user.created"]}, "events", ""),
    ({"events": []}, "events", ""),
    ({"events": ["*", "payment.completed"]}, "events", "stands alone"),
    ({"url": "ftp://shop.example.com/hooks"}, "url", ""),
    ({"url": "https://inside.example.com/hooks"}, "url", "10.0.0.8 is a private address"),
    ({"url": "http://meta.example.com/latest"}, "url", "link-local"),
    ({"url": "http://127.0.0.1:8080/hooks"}, "url", "loopback"),
    ({"url": "https://nowhere.example.com/hooks"}, "url", "does not resolve"),
    ({"url": "https://admin:pw@shop.example.com/hooks"}, "url", "user name"),
    ({"secret": "whsec_mine"}, "secret", "not a field"),
])
def test_a_bad_endpoint_is_a_422_naming_the_field(client: TestClient, admin_headers: Headers, body: dict,
                                                  field: str, words: str):
    response = client.post("/api/webhooks/endpoints", headers=admin_headers,
                           json={"url": URL, "events": ["*"], **body})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"].startswith(field) for d in error["details"])
    assert words in error["message"] + " ".join(d["message"] for d in error["details"])
    assert client.get("/api/webhooks/endpoints", headers=admin_headers).json()["data"] == []


def test_a_patch_to_a_private_url_is_refused_too(client: TestClient, admin_headers: Headers):
    created = create(client, admin_headers)

    response = client.patch(f"/api/webhooks/endpoints/{created['id']}", headers=admin_headers,
                            json={"url": "https://inside.example.com/hooks"})

    assert response.status_code == 422 and "private" in response.json()["error"]["message"]
    assert client.get(f"/api/webhooks/endpoints/{created['id']}", headers=admin_headers).json()["url"] == URL


def test_with_private_addresses_allowed_a_localhost_endpoint_is_accepted(tmp_path: Path):
    container = build(make_settings(tmp_path, webhooks_allow_private=True))
    container.init_storage()
    app = FastAPI()
    install_api(app, container)
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = login(client, "admin@example.com", "admin123")
        response = client.post("/api/webhooks/endpoints", headers=headers,
                               json={"url": "http://127.0.0.1:9999/hooks", "events": ["*"]})
    container.db.dispose()

    assert response.status_code == 201


def test_a_payment_makes_deliveries_that_the_log_shows_and_a_retry_sends_again(
        client: TestClient, container: Container, admin_headers: Headers, customer_headers: Headers):
    endpoint = create(client, admin_headers, events=["payment.created", "payment.completed"])
    container.webhook_dispatcher.sender = ScriptedSender(SendResult(status_code=500), SendResult(status_code=204))
    payment = client.post("/api/payments", headers=customer_headers, json={"amount": 1500, "currency": "USD"}).json()
    client.portal.call(container.processor.drain)
    client.portal.call(container.webhook_dispatcher.run_until_idle)
    log_path = f"/api/webhooks/endpoints/{endpoint['id']}/deliveries"

    log = client.get(log_path, headers=admin_headers).json()
    [failed] = client.get(log_path, params={"status": "failed"}, headers=admin_headers).json()["data"]
    retried = client.post(f"/api/webhooks/deliveries/{failed['id']}/retry", headers=admin_headers)
    client.portal.call(container.webhook_dispatcher.run_until_idle)
    after = client.get(log_path, params={"status": "delivered"}, headers=admin_headers).json()["data"]

    assert [d["eventType"] for d in log["data"]] == ["payment.completed", "payment.created"]
    assert log["nextCursor"] is None
    assert set(log["data"][0]) == {"id", "endpointId", "eventId", "eventType", "status", "attempts", "lastStatusCode",
                                   "lastError", "nextAttemptAt", "deliveredAt", "createdAt", "updatedAt"}
    assert failed["eventType"] == "payment.created" and failed["attempts"] == 1
    assert (failed["lastStatusCode"], failed["lastError"]) == (500, "HTTP 500") and failed["nextAttemptAt"]
    with container.uow(read_only=True) as uow:
        created_event = [e for e in uow.outbox.for_aggregate(payment["id"]) if e.type == "payment.created"][0]
    assert failed["eventId"] == created_event.id
    assert retried.status_code == 202 and retried.json()["status"] == "pending"
    assert {d["id"] for d in after} == {d["id"] for d in log["data"]}
    assert all(d["deliveredAt"] and d["nextAttemptAt"] is None for d in after)


def test_the_log_pages_with_a_cursor_and_refuses_bad_queries(client: TestClient, container: Container,
                                                             admin_headers: Headers, customer_headers: Headers):
    endpoint = create(client, admin_headers, events=["payment.created"])
    for n in range(5):
        client.post("/api/payments", headers=customer_headers, json={"amount": 100 + n, "currency": "USD"})
    path = f"/api/webhooks/endpoints/{endpoint['id']}/deliveries"

    seen, cursor = [], None
    while True:
        page = client.get(path, params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=admin_headers).json()
        seen += page["data"]
        cursor = page["nextCursor"]
        if not cursor:
            break

    assert len(seen) == 5 and len({d["id"] for d in seen}) == 5
    assert client.get(path, params={"status": "done"}, headers=admin_headers).status_code == 422
    assert client.get(path, params={"limit": 0}, headers=admin_headers).status_code == 422
    assert client.get(path, params={"cursor": "bogus!"}, headers=admin_headers).status_code == 422
    assert client.get("/api/webhooks/endpoints/we_nope/deliveries", headers=admin_headers).status_code == 404


def test_a_retry_of_an_unknown_delivery_is_404_and_of_a_disabled_endpoints_is_409(
        client: TestClient, admin_headers: Headers, customer_headers: Headers):
    endpoint = create(client, admin_headers, events=["payment.created"])
    client.post("/api/payments", headers=customer_headers, json={"amount": 100, "currency": "USD"})
    [delivery] = client.get(f"/api/webhooks/endpoints/{endpoint['id']}/deliveries",
                            headers=admin_headers).json()["data"]
    client.patch(f"/api/webhooks/endpoints/{endpoint['id']}", headers=admin_headers, json={"status": "disabled"})

    disabled = client.post(f"/api/webhooks/deliveries/{delivery['id']}/retry", headers=admin_headers)
    unknown = client.post("/api/webhooks/deliveries/whd_nope/retry", headers=admin_headers)

    assert disabled.status_code == 409 and disabled.json()["error"]["code"] == "endpoint_disabled"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_the_event_stream_shows_an_endpoints_disabling_to_admins_only():
    disabled = Event("webhook_endpoint.disabled", {"id": "we_1"}, T0, aggregate_id="we_1")
    internal = Event("webhook_delivery.dead", {"id": "whd_1"}, T0, aggregate_id="whd_1")

    assert visible(disabled, make_user(role="admin")) and not visible(disabled, make_user())
    assert not visible(internal, make_user(role="admin"))  # the delivery log's own events stay off the stream
