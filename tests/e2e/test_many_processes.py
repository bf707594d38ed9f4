"""Many processes, one gateway: several servers on one database and the global limit (crashes: test_crash_safety.py).

These run real server processes. The PostgreSQL ones need PAYGATE_TEST_POSTGRES_URL (.ci/run sets it).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bench.payments import parse_time, window_violations
from bench.providers import recording_proxy
from tests.e2e.conftest import start_server
from tests.e2e.fleet import (
    admin_headers,
    assert_the_global_limit_held,
    ledger,
    needs_postgres,
    submit,
    wait_until_terminal,
)
from tests.integration.localstripe import SKIP_REASON as LOCALSTRIPE_SKIP
from tests.integration.localstripe import TEST_KEY as LOCALSTRIPE_KEY
from tests.integration.localstripe import localstripe_importable, running_localstripe
from tests.integration.pg import fresh_postgres_schema

pytestmark = pytest.mark.e2e



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
