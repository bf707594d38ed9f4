"""The HTTP frame around every route: error bodies, security headers, CORS, health, OpenAPI."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import install_api
from app.bootstrap import Container, build
from storage.db import Database
from tests.conftest import make_settings

UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/x"


def assert_error_body(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    return body["error"]


def assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert (headers.get("x-frame-options", "").upper() in {"DENY", "SAMEORIGIN"}
            or "frame-ancestors" in headers.get("content-security-policy", ""))
    assert headers.get("referrer-policy")


@pytest.fixture
def app_with_a_failing_route(container: Container) -> Iterator[TestClient]:
    app = FastAPI()
    install_api(app, container)

    @app.get("/boom")
    def boom() -> dict:
        raise RuntimeError("Traceback: sqlalchemy.exc.OperationalError SELECT password_hash FROM users")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def client_for(tmp_path: Path, **overrides: object) -> tuple[TestClient, Container]:
    container = build(make_settings(tmp_path, **overrides))
    app = FastAPI()
    install_api(app, container)
    return TestClient(app, raise_server_exceptions=False), container


@pytest.fixture
def shop_cors_client(tmp_path: Path) -> Iterator[TestClient]:
    client, container = client_for(tmp_path / "cors", cors_origins=["https://shop.example"])
    container.init_storage()
    with client:
        yield client
    container.db.dispose()


# --- error bodies -------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/auth/login", "/api/payments", "/api/users"])
def test_malformed_json_is_400_bad_request(client: TestClient, admin_headers: dict[str, str],
                                           url: str) -> None:
    response = client.post(url, headers={**admin_headers, "Content-Type": "application/json"},
                           content=b'{"email": "a@example.com", ')

    assert_error_body(response, 400, "bad_request")


def test_wrong_types_are_422_with_the_fields_named(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"email": 5, "password": ["x"]})

    error = assert_error_body(response, 422, "validation_error")
    assert {d["field"] for d in error["details"]} == {"email", "password"}
    assert all(set(d) == {"field", "message"} and d["message"] for d in error["details"])


def test_a_missing_field_is_422_naming_it(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"email": "customer@example.com"})

    error = assert_error_body(response, 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["password"]


def test_every_kind_of_error_has_the_one_error_body(client: TestClient,
                                                    customer_headers: dict[str, str]) -> None:
    cases = [
        (client.post("/api/auth/login", content=b"{", headers={"Content-Type": "application/json"}),
         400, "bad_request"),
        (client.get("/api/payments"), 401, "unauthorized"),
        (client.post("/api/auth/login", json={"email": "x@example.com", "password": "nope"}),
         401, "invalid_credentials"),
        (client.get("/api/users", headers=customer_headers), 403, "forbidden"),
        (client.get("/api/payments/pay_missing", headers=customer_headers), 404, "not_found"),
        (client.get("/api/no-such-route"), 404, "not_found"),
        (client.delete("/health"), 405, "method_not_allowed"),
        (client.get("/api/payments?limit=0", headers=customer_headers), 422, "validation_error"),
    ]

    for response, status, code in cases:
        assert_error_body(response, status, code)


def test_an_unexpected_exception_is_500_internal_error_without_internals(
        app_with_a_failing_route: TestClient) -> None:
    response = app_with_a_failing_route.get("/boom")

    assert_error_body(response, 500, "internal_error")
    for leak in ("Traceback", "sqlalchemy", "RuntimeError", "password_hash", "SELECT", 'File "'):
        assert leak not in response.text


def test_a_500_also_carries_the_security_headers(app_with_a_failing_route: TestClient) -> None:
    response = app_with_a_failing_route.get("/boom")

    assert response.status_code == 500
    assert_security_headers(response)


# --- security headers ---------------------------------------------------------------------
def test_security_headers_are_on_successes_and_errors(client: TestClient,
                                                      customer_headers: dict[str, str]) -> None:
    responses = [
        client.get("/health"),
        client.get("/api/auth/me", headers=customer_headers),
        client.get("/api/auth/me"),
        client.get("/api/users", headers=customer_headers),
        client.get("/api/no-such-route"),
        client.post("/api/auth/login", content=b"{", headers={"Content-Type": "application/json"}),
        client.post("/api/auth/login", json={"email": 1}),
        client.get("/openapi.json"),
    ]

    for response in responses:
        assert_security_headers(response)


# --- CORS ---------------------------------------------------------------------------------
def test_without_configured_origins_no_origin_is_allowed(client: TestClient) -> None:
    simple = client.get("/health", headers={"Origin": "https://evil.example"})
    preflight = client.options("/api/payments", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "POST"})

    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers


def test_a_configured_origin_is_allowed_and_an_unlisted_one_is_not(shop_cors_client: TestClient) -> None:
    listed = shop_cors_client.get("/health", headers={"Origin": "https://shop.example"})
    unlisted = shop_cors_client.get("/health", headers={"Origin": "https://evil.example"})

    assert listed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-origin" not in unlisted.headers


def test_a_preflight_is_answered_only_for_a_configured_origin(shop_cors_client: TestClient) -> None:
    ask = {"Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization,content-type"}

    listed = shop_cors_client.options("/api/payments", headers={"Origin": "https://shop.example", **ask})
    unlisted = shop_cors_client.options("/api/payments", headers={"Origin": "https://evil.example", **ask})

    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in listed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in unlisted.headers


# --- health -------------------------------------------------------------------------------
def test_health_is_200_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["version"]


def test_health_is_503_degraded_soon_when_the_database_is_unreachable(
        client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    container.db.dispose()
    monkeypatch.setattr(container, "db", Database(UNREACHABLE_DB))
    started = time.monotonic()

    response = client.get("/health")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] != "ok"
    assert "nobody" not in response.text and "psycopg" not in response.text
    assert_security_headers(response)


# --- OpenAPI ------------------------------------------------------------------------------
CONTRACT_ROUTES = [
    ("post", "/api/auth/login"), ("get", "/api/auth/me"),
    ("get", "/api/users"), ("post", "/api/users"),
    ("get", "/api/users/{}"), ("put", "/api/users/{}"), ("delete", "/api/users/{}"),
    ("post", "/api/payments"), ("get", "/api/payments"), ("get", "/api/payments/{}"),
    ("get", "/api/payments/{}/events"),
    ("get", "/api/metrics"), ("get", "/api/providers/mock/charges"), ("get", "/health"),
]
PROTECTED = [r for r in CONTRACT_ROUTES if r not in {("post", "/api/auth/login"), ("get", "/health")}]
ADMIN_ONLY = [r for r in PROTECTED if r[1].startswith(("/api/users", "/api/metrics", "/api/providers"))]


@pytest.fixture
def openapi(client: TestClient) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(openapi: dict) -> dict[tuple[str, str], dict]:
    """(method, path with parameter names blanked) -> operation."""
    return {(method, re.sub(r"\{[^}]+\}", "{}", path)): op
            for path, item in openapi["paths"].items() for method, op in item.items()}


def test_the_openapi_schema_lists_every_contract_route(openapi: dict) -> None:
    listed = operations(openapi)

    missing = [route for route in CONTRACT_ROUTES if route not in listed]

    assert missing == []


def test_protected_routes_declare_bearer_security_and_401(openapi: dict) -> None:
    schemes = openapi["components"]["securitySchemes"]
    bearer_schemes = {name for name, s in schemes.items()
                      if s.get("type") == "http" and s.get("scheme") == "bearer"}
    listed = operations(openapi)

    for route in PROTECTED:
        op = listed[route]
        assert {name for req in op.get("security", []) for name in req} & bearer_schemes, route
        assert "401" in op["responses"], route


def test_admin_routes_declare_403(openapi: dict) -> None:
    listed = operations(openapi)

    for route in ADMIN_ONLY:
        assert "403" in listed[route]["responses"], route


def test_public_routes_need_no_token(openapi: dict) -> None:
    listed = operations(openapi)

    assert not listed[("post", "/api/auth/login")].get("security")
    assert not listed[("get", "/health")].get("security")
