"""Starting and stopping `python main.py` as a person would: clear refusals, a clean Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.bootstrap import build
from tests.conftest import make_settings
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
LONG = "s" * 40


def run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items()
             if not k.startswith("PAYGATE_") and k not in ("PYTEST_CURRENT_TEST", "PORT", "DATABASE_URL")}
    child.update({"PAYGATE_DATA_DIR": str(tmp_path), "PAYGATE_PORT": str(free_port()), **env})
    return subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=tmp_path, env=child, capture_output=True,
                          text=True, timeout=60)


def test_production_without_secrets_stops_with_one_clear_message(tmp_path: Path):
    result = run_main(tmp_path, PAYGATE_ENV="production", PAYGATE_DEMO_DATA="0")

    assert result.returncode == 2
    assert result.stderr.strip() == ("PayGate cannot start: PAYGATE_JWT_SECRET must be set in production "
                                     "(at least 32 bytes).")
    assert "Traceback" not in result.stdout + result.stderr


def test_production_with_a_demo_user_left_in_the_database_stops_with_one_clear_message(tmp_path: Path):
    c = build(make_settings(tmp_path))
    c.init_storage()  # a development start created the demo users
    c.db.dispose()

    result = run_main(tmp_path, PAYGATE_ENV="production", PAYGATE_DEMO_DATA="0", PAYGATE_JWT_SECRET=LONG,
                      PAYGATE_STORAGE_SECRET=LONG)

    assert result.returncode == 2
    assert "demo user(s) customer@example.com, admin@example.com exist" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_ctrl_c_stops_the_server_cleanly(tmp_path: Path):
    port = free_port()
    child = {k: v for k, v in os.environ.items()
             if not k.startswith("PAYGATE_") and k not in ("PYTEST_CURRENT_TEST", "PORT", "DATABASE_URL")}
    child.update({"PAYGATE_DATA_DIR": str(tmp_path), "PAYGATE_PORT": str(port), "PAYGATE_HOST": "127.0.0.1"})
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=tmp_path, env=child,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not come up")

        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()

    assert proc.returncode == 0, output
    assert "PayGate stopped" in output  # the shutdown hooks ran: jobs stopped, connections closed
    assert "Traceback" not in output
    assert "ERROR" not in output
