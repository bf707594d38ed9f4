"""Start a PayGate server as a subprocess on a free localhost port, and stop it again.

Standalone on purpose (no pytest code): the benchmark runs outside the test suite, and the
end-to-end tests (tests/e2e/conftest.py) start their servers with this same code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Never inherited: they would change what the server does (NiceGUI's test modes, another database).
SCRUBBED = ("PYTEST_CURRENT_TEST", "NICEGUI_USER_SIMULATION", "NICEGUI_STORAGE_PATH", "DATABASE_URL", "PORT")
SECRET = "bench-secret-" + "b" * 40


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running server process: `.url`, `.stop()` (graceful), `.kill()` (SIGKILL), `.log_tail()`."""

    def __init__(self, proc: subprocess.Popen, port: int, data_dir: Path, log_path: Path) -> None:
        self.proc = proc
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)  # its own session: the server and any helper it forked

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it is not gone within `timeout`."""
        self._signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def kill(self) -> int | None:
        self._signal(signal.SIGKILL)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            return None


def start_server(data_dir: Path, *, port: int | None = None, startup_timeout: float = 30.0,
                 secret: str = SECRET, **env: object) -> Server:
    """A PayGate process on a SQLite file in `data_dir` (or PAYGATE_DATABASE_URL), waited for until
    GET /health is 200; `env` adds or overrides PAYGATE_* settings. Inherited PAYGATE_* variables are
    dropped, so the host's settings never leak in."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.startswith("PAYGATE_")}
    port = port or free_port()
    base.update({
        "PAYGATE_HOST": "127.0.0.1", "PAYGATE_PORT": str(port), "PAYGATE_DATA_DIR": str(data_dir),
        "PAYGATE_JWT_SECRET": secret, "PAYGATE_STORAGE_SECRET": secret, "PAYGATE_DEMO_DATA": "1",
        "PYTHONUNBUFFERED": "1",
        # Storms submit thousands of payments from one user: the per-customer limit (5/s by default) is
        # raised out of their way, still checked on every submit; its own tests pass their limits in `env`.
        "PAYGATE_CUSTOMER_RATE_PER_SECOND": "100000", "PAYGATE_CUSTOMER_BURST": "100000",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    })
    base.update({k: str(v) for k, v in env.items()})
    log_path = data_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        # cwd is the data folder, so no .env file of the checkout is read.
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=data_dir, env=base,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc, port, data_dir, log_path)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(server.url + "/health", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"the server did not answer /health within {startup_timeout:.0f} s:\n"
                       f"{server.log_tail()}")


@contextlib.contextmanager
def postgres_schema(base_url: str, timezone: str | None = None):  # noqa: ANN201 - a context manager of str
    """A URL of `base_url` whose search_path is a new, empty schema, dropped afterwards.

    `timezone` sets the session time zone (tests use a non-UTC one to catch times stored without it).
    """
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = f"-csearch_path={schema}" + (f" -ctimezone={timezone}" if timezone else "")
    try:
        yield make_url(base_url).update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
