"""UI tests run main.py in NiceGUI's user simulation, on a fresh data folder each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nicegui import app

from tests.conftest import TEST_SECRET


@pytest.fixture(autouse=True)
def paygate_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAYGATE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PAYGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PAYGATE_JWT_SECRET", TEST_SECRET)
    monkeypatch.setenv("PAYGATE_STORAGE_SECRET", TEST_SECRET)
    monkeypatch.setenv("PAYGATE_DEMO_DATA", "1")
    monkeypatch.setenv("PAYGATE_MOCK_MIN_LATENCY_MS", "0")
    monkeypatch.setenv("PAYGATE_MOCK_MAX_LATENCY_MS", "0")
    return tmp_path


@pytest.fixture(autouse=True)
def fresh_lifespan() -> Iterator[None]:
    """Each test runs main.py on NiceGUI's one app, and each `include_router` nests the app's lifespan one
    level deeper (FastAPI merges the router's into it); past about 50 tests that nesting exceeds Python's
    recursion limit at start-up. Each test starts from the lifespan the app had before it."""
    lifespan = app.router.lifespan_context
    yield
    app.router.lifespan_context = lifespan
