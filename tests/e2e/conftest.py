"""End-to-end fixtures: real PayGate server processes (bench/server.py starts them, for the
benchmark and the tests alike) on fresh data folders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.server import Server, free_port
from bench.server import start_server as _start
from tests.conftest import TEST_SECRET

__all__ = ["Server", "free_port", "start_server"]


def start_server(tmp_path: Path, port: int | None = None, **env: object) -> Server:
    """Start PayGate on `tmp_path` (its data folder) with the tests' secret; `env` sets PAYGATE_* settings."""
    return _start(tmp_path, port=port, secret=TEST_SECRET, **env)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers (default data folder: this test's tmp_path); all are stopped at teardown."""
    started: list[Server] = []

    def start(data_dir: Path | None = None, **env: object) -> Server:
        server = start_server(data_dir or tmp_path, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(server_factory: Callable[..., Server]) -> Server:
    """One PayGate server with default settings on a fresh data folder."""
    return server_factory()
