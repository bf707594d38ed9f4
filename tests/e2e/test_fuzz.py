"""Schema-driven fuzzing of the served app: Schemathesis, every check and every phase, against a real
server process on a fresh data folder, as a customer with a second customer as its peer for
`object_level_authorization`. A short run with a fixed seed; `make fuzz` runs a long one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Server
from tests.e2e.fuzz import run_against

pytestmark = pytest.mark.e2e

EXAMPLES = 20
SEED = 7
BUDGET_SECONDS = 90


def test_schemathesis_finds_no_failure_with_every_check_and_every_phase(server: Server, tmp_path: Path) -> None:
    work_dir = tmp_path / "fuzz"
    work_dir.mkdir()

    result = run_against(server, work_dir, max_examples=EXAMPLES, seed=SEED, timeout=BUDGET_SECONDS)

    output = result.stdout
    assert result.returncode == 0, output[-12000:]
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅  {phase}" in output, output[-12000:]
    assert "object_level_authorization` will not run" not in output
    assert "Operations:       " in output and re.search(r"\b0 selected", output) is None
