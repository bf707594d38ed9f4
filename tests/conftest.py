"""Shared fixtures: settings on a temporary SQLite file, a wired container, an API client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import install_api
from app.bootstrap import Container, build
from app.config import Settings

pytest_plugins = ["nicegui.testing.user_plugin"]

TEST_SECRET = "test-secret-" + "x" * 40


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": None,
        "jwt_secret": TEST_SECRET,
        "storage_secret": TEST_SECRET,
        "demo_data": True,
        "mock_min_latency_ms": 0,
        "mock_max_latency_ms": 0,
        # Tests submit many payments from one user in a row; the per-customer limit's own tests set it.
        "customer_rate_per_second": 100_000,
        "customer_burst": 100_000,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build(settings)
    c.init_storage()
    yield c
    c.db.dispose()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    app = FastAPI()
    install_api(app, container)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def login(client: TestClient, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    return login(client, "admin@example.com", "admin123")


@pytest.fixture
def customer_headers(client: TestClient) -> dict[str, str]:
    return login(client, "customer@example.com", "password123")


@pytest.fixture
def new_customer(client: TestClient, admin_headers: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """Create another customer and return their auth headers."""

    def make(email: str) -> dict[str, str]:
        r = client.post("/api/users", headers=admin_headers,
                        json={"email": email, "password": "s3cret-pass", "name": "Other", "role": "customer"})
        assert r.status_code == 201, r.text
        return login(client, email, "s3cret-pass")

    return make


def postgres_url() -> str | None:
    return os.environ.get("PAYGATE_TEST_POSTGRES_URL")
