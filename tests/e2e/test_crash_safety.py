"""Crash safety: a server killed with SIGKILL three times mid-drain loses no payment and charges none
twice, and every state change has its event.

These run real server processes. The PostgreSQL ones need PAYGATE_TEST_POSTGRES_URL (.ci/run sets it).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.e2e.conftest import Server, free_port, start_server
from tests.e2e.fleet import (
    CARDS,
    admin_headers,
    ledger,
    needs_postgres,
    submit,
    wait_until_terminal,
)
from tests.integration.pg import fresh_postgres_schema

pytestmark = pytest.mark.e2e



class EventCollector(threading.Thread):
    """A WebSocket client that reconnects (with ?after=<last event id>) whenever its server goes away."""

    def __init__(self, url: Callable[[], str], token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.ids: set[str] = set()
        self.last: str | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            ws_url = self.url().replace("http://", "ws://") + f"/api/ws?token={self.token}"
            if self.last:
                ws_url += f"&after={self.last}"
            try:
                with connect(ws_url, open_timeout=2) as ws:
                    while not self.stopping.is_set():
                        try:
                            event = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        self.ids.add(event["id"])
                        self.last = event["id"]
            except Exception:  # the server died or is restarting: try again
                time.sleep(0.2)

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)


@contextmanager
def crash_setup(kind: str, tmp_path: Path) -> Iterator[tuple[dict, Callable[..., Server], Server | None]]:
    """(env for every server, a way to start the victim, a bystander server or None)."""
    common = {"PAYGATE_LEASE_SECONDS": "2", "PAYGATE_RETRY_BASE_SECONDS": "0.2"}
    port = free_port()
    if kind == "sqlite":
        yield common, lambda **env: start_server(tmp_path / "victim", port=port, **common, **env), None
        return
    with fresh_postgres_schema() as db_url:
        common["PAYGATE_DATABASE_URL"] = db_url
        bystander = start_server(tmp_path / "bystander", **common)
        try:
            yield common, lambda **env: start_server(tmp_path / "victim", port=port, **common, **env), bystander
        finally:
            bystander.stop()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=needs_postgres)])
def test_sigkill_three_times_loses_nothing_and_charges_nothing_twice(kind: str, tmp_path: Path):
    rng = random.Random(7)
    with crash_setup(kind, tmp_path) as (_, start_victim, bystander):
        # The first death is injected right after a provider call, before the outcome is committed.
        victim = start_victim(PAYGATE_FAULT_CRASH_AFTER_CHARGES="5")
        stable = bystander or victim
        url = (lambda: stable.url) if bystander else (lambda: victim.url)
        headers = admin_headers(victim.url)
        collector = EventCollector(url, headers["Authorization"].split()[1])
        collector.start()
        time.sleep(0.5)
        with ThreadPoolExecutor(21) as pool:  # all in before the injected death (the 5th call, ~2 s in)
            ids = list(pool.map(lambda n: submit(victim.url, headers, CARDS[n % len(CARDS)], n), range(21)))

        assert victim.proc.wait(30) == -9, "the fault injection killed the process after a provider call"
        victim = start_victim()
        for _ in range(2):  # two more kills at random moments
            time.sleep(rng.uniform(0.3, 1.5))
            victim.kill()
            victim = start_victim()
        try:
            payments = wait_until_terminal(url, headers, set(ids), deadline=120)
            charges = ledger(url(), headers)
            per_payment = Counter(c["paymentId"] for c in charges)
            for pid in ids:
                expected = 1 if payments[pid]["status"] == "completed" else 0
                assert per_payment[pid] == expected, f"{pid} {payments[pid]['status']} has {per_payment[pid]} charges"
            assert_every_state_change_has_its_event(url(), headers, payments, ids)
            time.sleep(1.0)  # the last events reach the stream
            owed = {e["id"] for pid in ids for e in events_of(url(), headers, pid)}
            assert owed - collector.ids == set(), "every event reached the WebSocket client at least once"
        finally:
            collector.stop()
            victim.stop()


def events_of(url: str, headers: dict[str, str], payment_id: str) -> list[dict]:
    return httpx.get(f"{url}/api/payments/{payment_id}/events", headers=headers, timeout=10).json()["data"]


def assert_every_state_change_has_its_event(url: str, headers: dict[str, str], payments: dict, ids: list[str]) -> None:
    for pid in ids:
        payment = payments[pid]
        types = [e["type"].removeprefix("payment.") for e in events_of(url, headers, pid)]
        # An outcome that was not known (a lost answer, a death mid-call) says so with one more
        # `processing` event while the payment stays processing: collapse such runs.
        types = [t for i, t in enumerate(types) if not (t == "processing" and i and types[i - 1] == "processing")]
        assert types[0] == "created" and types[-1] == payment["status"], (pid, types)
        assert types.count("retry") == payment["retryCount"], (pid, types)
        # created → processing → (retry → processing)* → completed | failed, with nothing missing
        expected = ["created", "processing"] + ["retry", "processing"] * payment["retryCount"] + [payment["status"]]
        assert types == expected, (pid, types)
