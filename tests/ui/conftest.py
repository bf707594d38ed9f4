"""UI tests run main.py in NiceGUI's user simulation, on a fresh data folder each."""

from __future__ import annotations

from pathlib import Path

import pytest

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
