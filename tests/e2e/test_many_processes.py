"""Many processes, one gateway: several servers on one database, crashes, and the global limit.

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

from bench.payments import parse_time, window_violations
from bench.providers import recording_proxy
from tests.conftest import postgres_url
from tests.e2e.conftest import Server, free_port, start_server
from tests.integration.localstripe import SKIP_REASON as LOCALSTRIPE_SKIP
from tests.integration.localstripe import TEST_KEY as LOCALSTRIPE_KEY
from tests.integration.localstripe import localstripe_importable, running_localstripe
from tests.integration.pg import SKIP_REASON, fresh_postgres_schema

pytestmark = pytest.mark.e2e
needs_postgres = pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)

ADMIN = {"email": "admin@example.com", "password": "admin123"}
TERMINAL = {"completed", "failed"}
CARDS = ["4242424242424242", "5555555555554444", "4000000000000341", "4000000000000002", "4000000000000259",
         "4000000000000119", None]


def admin_headers(url: str) -> dict[str, str]:
    r = httpx.post(f"{url}/api/auth/login", json=ADMIN, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def submit(url: str, headers: dict[str, str], number: str | None, n: int) -> str:
    body: dict = {"amount": 1000 + n, "currency": "USD", "description": f"fleet {n}", "idempotencyKey": f"fleet-{n}"}
    if number:
        body["card"] = {"number": number, "expMonth": 12, "expYear": 2030, "cvc": "123"}
    for _ in range(50):  # a server being restarted refuses connections for a moment
        try:
            r = httpx.post(f"{url}/api/payments", json=body, headers=headers, timeout=10)
            assert r.status_code in (200, 202), r.text
            return r.json()["id"]
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"could not submit payment {n}")


def all_payments(url: str, headers: dict[str, str]) -> dict[str, dict]:
    payments, cursor = {}, None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{url}/api/payments", params=params, headers=headers, timeout=10).json()
        payments.update({p["id"]: p for p in page["data"]})
        cursor = page["nextCursor"]
        if not cursor:
            return payments


def wait_until_terminal(url: Callable[[], str], headers: dict[str, str], ids: set[str], deadline: float) -> dict:
    end = time.monotonic() + deadline
    while True:
        try:
            payments = all_payments(url(), headers)
            if all(payments[i]["status"] in TERMINAL for i in ids):
                return payments
        except httpx.TransportError:
            pass
        if time.monotonic() > end:
            stuck = Counter(payments[i]["status"] for i in ids)
            pytest.fail(f"not every payment finished within {deadline:.0f} s: {dict(stuck)}")
        time.sleep(0.5)


def ledger(url: str, headers: dict[str, str]) -> list[dict]:
    return httpx.get(f"{url}/api/providers/mock/charges", params={"limit": 1000}, headers=headers,
                     timeout=10).json()["data"]


def assert_the_global_limit_held(charges: list[dict]) -> None:
    times = sorted(parse_time(c["chargedAt"]) for c in charges)
    worst, violating = window_violations(times)
    assert violating == 0, f"{violating} windows held more than 2 + 2·t charges (worst excess {worst:.3f})"


@needs_postgres
def test_three_processes_on_one_postgres_database_act_as_one_gateway(tmp_path: Path):
    with fresh_postgres_schema() as db_url:
        servers = [start_server(tmp_path / f"p{i}", PAYGATE_DATABASE_URL=db_url) for i in range(3)]
        try:
            headers = admin_headers(servers[0].url)

            with ThreadPoolExecutor(12) as pool:
                ids = list(pool.map(lambda n: submit(servers[n % 3].url, headers, "4242424242424242", n),
                                    range(60)))

            payments = wait_until_terminal(lambda: servers[1].url, headers, set(ids), deadline=150)
            assert Counter(payments[i]["status"] for i in ids) == {"completed": 60}
            charges = ledger(servers[2].url, headers)
            assert Counter(c["paymentId"] for c in charges) == Counter(set(ids)), "exactly one charge per payment"
            assert_the_global_limit_held(charges)
        finally:
            for s in servers:
                s.stop()


@needs_postgres
@pytest.mark.skipif(not localstripe_importable(), reason=LOCALSTRIPE_SKIP)
def test_three_processes_keep_each_providers_own_limit_and_one_providers_calls_spare_the_others(tmp_path: Path):
    """mock and Stripe (localstripe behind a recording proxy) on three processes: every provider's calls
    stay within 2 + 2·t in every window at that provider, and together they exceed it, which they could
    not if one bucket were shared."""
    with running_localstripe() as localstripe, recording_proxy(localstripe) as (proxy, arrivals), \
            fresh_postgres_schema() as db_url:
        env = {"PAYGATE_DATABASE_URL": db_url, "PAYGATE_PROVIDERS": "mock,stripe", "PAYGATE_STRIPE_API_BASE": proxy,
               "PAYGATE_STRIPE_API_KEY": LOCALSTRIPE_KEY}
        servers = [start_server(tmp_path / f"p{i}", **env) for i in range(3)]
        try:
            headers = admin_headers(servers[0].url)

            def pay(n: int) -> str:  # even: a card (the mock, the primary); odd: a Stripe token (Stripe only)
                body: dict = {"amount": 500 + n, "currency": "USD", "idempotencyKey": f"two-{n}"}
                if n % 2:
                    body["paymentMethodToken"] = "pm_card_visa"
                else:
                    body["card"] = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
                r = httpx.post(f"{servers[n % 3].url}/api/payments", json=body, headers=headers, timeout=10)
                assert r.status_code == 202, r.text
                return r.json()["id"]

            with ThreadPoolExecutor(12) as pool:
                ids = list(pool.map(pay, range(60)))

            payments = wait_until_terminal(lambda: servers[1].url, headers, set(ids), deadline=120)
            assert Counter((payments[i]["status"], payments[i]["provider"]) for i in ids) == {
                ("completed", "mock"): 30, ("completed", "stripe"): 30}
            mock_times = [parse_time(c["chargedAt"]) for c in ledger(servers[2].url, headers)]
            stripe_times = [a.at for a in arrivals if a.method == "POST" and a.path == "/v1/payment_intents"]
            assert (len(mock_times), len(stripe_times)) == (30, 30)
            for name, times in (("mock", mock_times), ("stripe", stripe_times)):
                worst, violating = window_violations(sorted(times))
                assert violating == 0, f"{name}: {violating} windows over 2 + 2·t (worst excess {worst:.3f})"
            _, together = window_violations(sorted(mock_times + stripe_times))
            assert together > 0, "the providers' calls never exceeded one bucket's limit together"
        finally:
            for s in servers:
                s.stop()


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
