"""The health check's write probe: one write at a time, and a write that hangs is reported."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from app.api.system import WriteCheck
from domain.clock import SystemClock


class HangingDb:
    """A database whose heartbeat write blocks until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.writes = 0

    def heartbeat(self, owner: str, now: object) -> None:
        self.writes += 1
        self.entered.set()
        self.release.wait(10)


def test_probes_during_a_write_answer_at_once_and_a_hung_write_is_reported_unresponsive():
    db = HangingDb()
    container = SimpleNamespace(db=db, owner="me", clock=SystemClock())
    check = WriteCheck(min_interval=0.0)
    check.stuck_after = 0.0
    writer = threading.Thread(target=check, args=(container,))
    writer.start()
    db.entered.wait(5)

    answers = [check(container) for _ in range(3)]  # none of these waits for the hung write

    db.release.set()
    writer.join(5)
    assert answers == ["unresponsive"] * 3
    assert db.writes == 1
