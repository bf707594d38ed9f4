"""End-to-end fixtures: a real PayGate server process on a fresh SQLite data folder.

`start_server(data_dir, **env)` is generic: browser fixtures and API journeys can both use it.
Each server runs `main.py` in its own session on a free localhost port, with the settings given
as environment variables (PAYGATE_*); it is stopped with SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
# Not inherited by the server: pytest's and NiceGUI's test markers make NiceGUI skip serving;
# the others would point it at another database or port.
SCRUBBED = ("PYTEST_CURRENT_TEST", "NICEGUI_USER_SIMULATION", "DATABASE_URL", "PORT")
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running server process: `.url`, `.stop()` (graceful), `.kill()` (SIGKILL), `.log()`."""

    def __init__(self, proc: subprocess.Popen, port: int, data_dir: Path, log_path: Path) -> None:
        self.proc = proc
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def log(self, chars: int = 6000) -> str:
        """The tail of the server's stdout and stderr."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _signal(self, sig: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)  # the server leads its own session

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM and wait; SIGKILL when it is not gone within `timeout`."""
        self._signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int | None:
        self._signal(signal.SIGKILL)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None


def start_server(tmp_path: Path, port: int | None = None, **env: object) -> Server:
    """Start PayGate on `tmp_path` (its data folder, SQLite) and wait until GET /health is 200.

    `env` sets environment variables for the server, e.g. PAYGATE_RETRY_BASE_SECONDS="0.2".
    Inherited PAYGATE_* variables are dropped so the host's settings never leak in.
    """
    data_dir = Path(tmp_path)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.startswith("PAYGATE_")}
    child_env.update({
        "PAYGATE_HOST": "127.0.0.1", "PAYGATE_PORT": str(port), "PAYGATE_DATA_DIR": str(data_dir),
        "PAYGATE_JWT_SECRET": TEST_SECRET, "PAYGATE_STORAGE_SECRET": TEST_SECRET, "PAYGATE_DEMO_DATA": "1",
        "NICEGUI_STORAGE_PATH": str(data_dir / ".nicegui"), "PYTHONUNBUFFERED": "1",
    })
    child_env.update({k: str(v) for k, v in env.items()})
    log_path = data_dir / f"server-{port}.log"
    with open(log_path, "wb") as out:
        # cwd is the data folder, so a .env file in the checkout is not read.
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=data_dir, env=child_env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc, port, data_dir, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not server.running:
            raise RuntimeError(f"PayGate exited with {proc.returncode} during start:\n{server.log()}")
        try:
            if httpx.get(server.url + "/health", timeout=2.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"PayGate did not answer /health within {STARTUP_TIMEOUT:.0f} s:\n{server.log()}")


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
