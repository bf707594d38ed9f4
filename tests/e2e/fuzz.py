"""Schema-driven fuzzing of a real PayGate process with Schemathesis: every check, every phase.

`make fuzz` runs it with many examples; tests/e2e/test_fuzz.py runs a short one with a fixed seed:

    python -m tests.e2e.fuzz --max-examples 200 --seed 7

The server is started as `make run` starts it (main.py, on a fresh data folder). Schemathesis acts
as a customer; a second customer is its peer for the `object_level_authorization` check (one
customer must never get the other's payments or orders), set up as Schemathesis 4 asks: both in a
Web Fuzzing Commons auth file, and `peers` under `[auth.wfc]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.server import ROOT, SCRUBBED, Server, start_server

HOOKS = "tests.e2e.fuzz_hooks"
PEER = {"email": "peer@example.com", "password": "peer-password-1", "name": "Peer Customer", "role": "customer"}
# Orders name products by id, and an unknown (or inactive) product is a 422 by contract (API.md,
# Orders): no schema can say which ids exist, so for that operation only a 422 is not a failure of
# positive_data_acceptance. The defaults are Schemathesis's own.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
CONFIG = """\
[auth.wfc]
path = {wfc}
user = "customer"
peers = ["customer", "peer"]

[[operations]]
include-name = "POST /api/orders"
checks.positive_data_acceptance.expected-statuses = {order_statuses}
"""


def login(url: str, email: str, password: str) -> str:
    response = httpx.post(f"{url}/api/auth/login", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["token"]


def write_config(url: str, work_dir: Path) -> Path:
    """The customer's and the peer's tokens in a WFC auth file, and the Schemathesis config naming it."""
    admin = login(url, "admin@example.com", "admin123")
    created = httpx.post(f"{url}/api/users", json=PEER, headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    if created.status_code != 409:  # 409: made by an earlier run on this data folder
        created.raise_for_status()
    users = {"customer": login(url, "customer@example.com", "password123"),
             "peer": login(url, PEER["email"], PEER["password"])}
    wfc = work_dir / "wfc-auth.json"
    wfc.write_text(json.dumps({"auth": [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
        for name, token in users.items()]}))
    config = work_dir / "schemathesis.toml"
    config.write_text(CONFIG.format(wfc=json.dumps(str(wfc)), order_statuses=json.dumps([*POSITIVE_STATUSES, "422"])))
    return config


def command(url: str, config: Path, work_dir: Path, max_examples: int, seed: int) -> list[str]:
    return [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{url}/openapi.json",
            "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(max_examples), "--seed", str(seed), "--workers", "1",
            "--generation-database", "none", "--no-color",
            "--report", "junit", "--report-junit-path", str(work_dir / "schemathesis-junit.xml")]


def run_against(server: Server, work_dir: Path, *, max_examples: int, seed: int,
                timeout: float) -> subprocess.CompletedProcess[str]:
    """Run Schemathesis against a running server; its output is in the result's stdout."""
    config = write_config(server.url, work_dir)
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update({"SCHEMATHESIS_HOOKS": HOOKS,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    return subprocess.run(command(server.url, config, work_dir, max_examples, seed), cwd=work_dir, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=200, help="test cases per operation (default 200)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before the run is stopped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paygate-fuzz-") as tmp:
        server = start_server(Path(tmp) / "data")
        try:
            result = run_against(server, Path(tmp), max_examples=args.max_examples, seed=args.seed,
                                 timeout=args.timeout)
        finally:
            server.stop()
        print(result.stdout)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
