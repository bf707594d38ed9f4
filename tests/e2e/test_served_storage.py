"""Money and storage against the process that `make run` starts: one cart one order, a database that
cannot be written, and three processes starting at once on one PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bench.server import postgres_schema
from tests.conftest import postgres_url
from tests.e2e.conftest import Server, bearer, start_server
from tests.integration.pg import SKIP_REASON

pytestmark = pytest.mark.e2e


def wait_for(check, timeout: float = 20.0, every: float = 0.2):  # noqa: ANN001, ANN201 - a polled predicate
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


# --- one cart, one order ------------------------------------------------------------------
def test_twenty_concurrent_checkouts_of_one_cart_give_one_order_one_charge_and_one_reservation(server: Server):
    with httpx.Client(base_url=server.url) as client:
        customer = bearer(client, "customer@example.com", "password123")
        admin = bearer(client, "admin@example.com", "admin123")
        stock_before = client.get("/api/products/prod_001").json()["stock"]
        assert client.put("/api/cart/items/prod_001", headers=customer, json={"quantity": 2}).status_code == 200
    start = threading.Barrier(20)

    def check_out(_: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=30) as own:
            start.wait(timeout=30)
            return own.post("/api/orders", headers=customer, json={"description": "one cart"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(check_out, range(20)))

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 19}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"cart_changed"}
    with httpx.Client(base_url=server.url) as client:
        orders = client.get("/api/orders", headers=customer).json()["data"]
        assert len(orders) == 1
        assert client.get("/api/products/prod_001").json()["stock"] == stock_before - 2
        payment_id = orders[0]["paymentId"]
        done = wait_for(lambda: client.get(f"/api/payments/{payment_id}", headers=customer).json()["status"]
                        in ("completed", "failed"))
        assert done
        all_charges = client.get("/api/providers/mock/charges", headers=admin).json()["data"]
        assert [c["paymentId"] for c in all_charges] == [payment_id]


# --- a database that cannot be written ----------------------------------------------------
needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None,
                                reason="mounting a tiny tmpfs needs root and mount(8)")


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> None:
    """Write until the file system is full."""
    with open(folder / "filler", "wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())


def health(client: httpx.Client) -> httpx.Response:
    return client.get("/health")


@needs_root
def test_health_fails_with_503_when_the_disk_is_full(tmp_path: Path):
    with tiny_tmpfs(tmp_path / "disk", "24m") as disk:
        server = start_server(disk / "data")
        try:
            with httpx.Client(base_url=server.url) as client:
                customer = bearer(client, "customer@example.com", "password123")
                assert health(client).status_code == 200

                fill(disk)
                payment = client.post("/api/payments", headers=customer, json={"amount": 100, "currency": "USD"})
                unhealthy = wait_for(lambda: health(client).status_code == 503, timeout=10)
                body = health(client).json()
        finally:
            server.kill()

    assert payment.status_code >= 500
    assert unhealthy, body
    assert body["status"] == "degraded"
    assert body["checks"]["database"] != "ok"


@contextlib.contextmanager
def immutable(files: list[Path]) -> Iterator[None]:
    """Root ignores file modes; the immutable attribute refuses even root's writes on open files."""
    present = [str(f) for f in files if f.exists()]
    subprocess.run(["chattr", "+i", *present], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *present], check=False)


@needs_root
@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr(1)")
def test_health_fails_with_503_when_the_database_file_is_read_only(tmp_path: Path):
    server = start_server(tmp_path / "data")
    db = tmp_path / "data" / "paygate.db"
    try:
        with httpx.Client(base_url=server.url) as client:
            customer = bearer(client, "customer@example.com", "password123")
            assert health(client).status_code == 200

            with immutable([db, db.with_name("paygate.db-wal")]):
                payment = client.post("/api/payments", headers=customer, json={"amount": 100, "currency": "USD"})
                unhealthy = wait_for(lambda: health(client).status_code == 503, timeout=10)
                body = health(client).json()
            recovered = wait_for(lambda: health(client).status_code == 200, timeout=10)
    finally:
        server.kill()

    assert payment.status_code >= 500
    assert unhealthy, body
    assert body["checks"]["database"] in ("read_only", "unwritable")
    assert recovered  # the check is live: writable again, healthy again


def test_health_reports_the_drain_jobs_last_tick(server: Server):
    with httpx.Client(base_url=server.url) as client:
        body = wait_for(lambda: (b := health(client).json()).get("drainLastTickAt") and b)

    assert body["checks"]["drain"] == "ok"
    assert body["drainLastTickAt"].endswith("Z")


# --- three processes start at once --------------------------------------------------------
@pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)
def test_three_processes_starting_at_once_on_an_empty_postgresql_database_all_come_up(tmp_path: Path):
    with postgres_schema(postgres_url()) as url:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(start_server, tmp_path / f"p{i}", PAYGATE_DATABASE_URL=url) for i in range(3)]
            servers, errors = [], []
            for f in futures:
                try:
                    servers.append(f.result())
                except RuntimeError as e:
                    errors.append(str(e))
        try:
            assert errors == []
            with httpx.Client() as client:
                users = [client.get(f"{s.url}/api/users",
                                    headers=bearer(httpx.Client(base_url=s.url), "admin@example.com", "admin123"))
                         .json()["data"] for s in servers]
                products = [len(client.get(f"{s.url}/api/products").json()["data"]) for s in servers]
        finally:
            for s in servers:
                s.stop()

    assert [sorted(u["email"] for u in found) for found in users] == [["admin@example.com",
                                                                       "customer@example.com"]] * 3
    assert len(set(products)) == 1 and products[0] >= 12
