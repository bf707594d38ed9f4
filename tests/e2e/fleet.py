"""What the many-process journeys share: an admin's bearer token, submitting payments to a server that may be
restarting, reading every payment and the mock's ledger, waiting for payments to finish, and the limit's check."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from bench.payments import parse_time, window_violations
from tests.conftest import postgres_url
from tests.integration.pg import SKIP_REASON

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
