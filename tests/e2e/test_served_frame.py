"""The HTTP frame of the served app (main.py as `make run` starts it): the OpenAPI schema and its docs,
JSON 404s under /api/, body limits through uvicorn, and a 500 that keeps the keep-alive connection."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.api.test_api_frame import assert_error_body, assert_security_headers
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


@pytest.fixture
def faulty_server(server_factory: Callable[..., Server]) -> Server:
    return server_factory(PAYGATE_FAULT_ROUTES="1")


def test_the_served_app_has_its_openapi_schema_and_docs(server: Server) -> None:
    schema = httpx.get(f"{server.url}/openapi.json", timeout=10)
    docs = httpx.get(f"{server.url}/docs", timeout=10)

    assert schema.status_code == 200, schema.text[:200]
    assert schema.json()["info"]["title"] == "PayGate API"
    assert "/api/payments" in schema.json()["paths"]
    assert not any(path.startswith("/_nicegui") for path in schema.json()["paths"])
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


@pytest.mark.parametrize("path", ["/api/no-such-route", "/api/payments/pay_x/nope", "/api"])
def test_unknown_api_paths_are_the_json_404_not_the_html_page(server: Server, path: str) -> None:
    response = httpx.get(f"{server.url}{path}", timeout=10)

    assert_error_body(response, 404, "not_found")
    assert response.headers["content-type"].startswith("application/json")


def test_unknown_page_paths_still_get_the_html_page(server: Server) -> None:
    response = httpx.get(f"{server.url}/no-such-page", timeout=10)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_a_body_100000_levels_deep_is_422_from_the_served_app(server: Server) -> None:
    response = httpx.post(f"{server.url}/api/auth/login", content="[" * 100_000,
                          headers={"Content-Type": "application/json"}, timeout=10)

    assert_error_body(response, 422, "validation_error")


def test_a_500_keeps_the_keep_alive_connection(faulty_server: Server) -> None:
    with httpx.Client(base_url=faulty_server.url, timeout=10) as client:
        before = client.get("/api/_faults/peer")

        failed = client.get("/api/_faults/boom")
        after = client.get("/api/_faults/peer")

    assert_error_body(failed, 500, "internal_error")
    assert_security_headers(failed)
    assert "password_hash" not in failed.text
    assert after.status_code == 200
    assert after.json()["port"] == before.json()["port"]  # the same TCP connection
