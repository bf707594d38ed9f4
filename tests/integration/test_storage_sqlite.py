"""Storage against real databases: SQLite, and PostgreSQL when PAYGATE_TEST_POSTGRES_URL is set.

Each PostgreSQL test gets a schema of its own (dropped afterwards), so tests never see each other's rows.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import install_api
from app.bootstrap import build
from domain.clock import FakeClock
from domain.model.errors import DuplicateKey
from domain.model.idempotency import IdempotencyRecord
from domain.model.payments import Payment
from domain.model.providers import LedgerCharge
from domain.model.rate_limit import BucketConfig
from domain.model.users import User
from storage.db import Database
from storage.ledger import SqlMockLedger
from storage.limiter import DbRateLimiter
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import login, make_settings

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


# --- fixtures -----------------------------------------------------------------------------
@pytest.fixture
def uow(db: Database) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(db)


def make_user(email: str = "ada@example.com", at: datetime = T0) -> User:
    return User(id=f"usr_{secrets.token_hex(6)}", email=email, name="Ada", role="customer",
                password_hash="$argon2id$v=19$fake", active=True, created_at=at, updated_at=at)


def make_payment(at: datetime = T0, status: str = "pending", **fields: Any) -> Payment:
    return Payment(id=f"pay_{secrets.token_hex(8)}", customer_id="usr_1", amount=1234, currency="EUR",
                   description="test", payment_method="credit_card", status=status, created_at=at,
                   updated_at=at, **fields)


def add_payments(uow: SqlUnitOfWorkFactory, payments: list[Payment]) -> None:
    with uow() as tx:
        for payment in payments:
            tx.payments.add(payment)
        tx.commit()


def claim(uow: SqlUnitOfWorkFactory, owner: str, now: datetime, lease_seconds: float = 30) -> Payment | None:
    with uow() as tx:
        lease_until = now + timedelta(seconds=lease_seconds)
        payment = tx.payments.claim_due(now=now, owner=owner, lease_until=lease_until)
        tx.commit()
        return payment


# --- round trips --------------------------------------------------------------------------
def test_a_user_survives_a_round_trip_with_aware_utc_times(uow: SqlUnitOfWorkFactory) -> None:
    user = make_user()
    with uow() as tx:
        tx.users.add(user)
        tx.commit()

    with uow(read_only=True) as tx:
        by_id, by_email = tx.users.get(user.id), tx.users.get_by_email(user.email)

    assert by_id == user
    assert by_email == user
    assert by_id.created_at.utcoffset() == timedelta(0)


def test_a_payment_survives_a_round_trip_with_aware_utc_times(uow: SqlUnitOfWorkFactory) -> None:
    payment = make_payment(card_brand="visa", card_last4="4242", card_tokens={"mock": "tok_x"}, idempotency_key="k",
                           next_attempt_at=T0 + timedelta(seconds=1), completed_at=None,
                           lease_owner="w1", lease_expires_at=T0 + timedelta(seconds=30), retry_count=1)

    add_payments(uow, [payment])
    with uow(read_only=True) as tx:
        stored = tx.payments.get(payment.id)

    assert stored == payment
    for when in (stored.created_at, stored.updated_at, stored.next_attempt_at, stored.lease_expires_at):
        assert when.tzinfo is not None and when.utcoffset() == timedelta(0)


def test_a_time_given_in_another_zone_comes_back_as_the_same_instant_in_utc(
        uow: SqlUnitOfWorkFactory) -> None:
    tokyo = T0.astimezone(timezone(timedelta(hours=9)))
    payment = make_payment(at=tokyo)

    add_payments(uow, [payment])
    with uow(read_only=True) as tx:
        stored = tx.payments.get(payment.id)

    assert stored.created_at == T0
    assert stored.created_at.utcoffset() == timedelta(0)


def test_an_update_changes_the_stored_payment(uow: SqlUnitOfWorkFactory) -> None:
    payment = make_payment()
    add_payments(uow, [payment])
    payment.status, payment.transaction_id = "completed", "txn_1"
    payment.completed_at = T0 + timedelta(seconds=2)

    with uow() as tx:
        tx.payments.update(payment)
        tx.commit()

    with uow(read_only=True) as tx:
        assert tx.payments.get(payment.id) == payment


def test_nothing_is_stored_without_a_commit(uow: SqlUnitOfWorkFactory) -> None:
    user = make_user()

    with uow() as tx:
        tx.users.add(user)

    with uow(read_only=True) as tx:
        assert tx.users.get(user.id) is None


def test_adding_an_idempotency_key_twice_raises_duplicate_key(uow: SqlUnitOfWorkFactory) -> None:
    record = IdempotencyRecord("usr_1", "key-1", "f" * 64, "payment", "pay_1", T0)
    with uow() as tx:
        tx.idempotency.add(record)
        tx.commit()

    with uow() as tx, pytest.raises(DuplicateKey):
        tx.idempotency.add(IdempotencyRecord("usr_1", "key-1", "e" * 64, "payment", "pay_2", T0))

    with uow(read_only=True) as tx:
        assert tx.idempotency.get("usr_1", "key-1") == record


def test_the_same_idempotency_key_of_another_user_is_not_a_duplicate(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as tx:
        tx.idempotency.add(IdempotencyRecord("usr_1", "key-1", "f" * 64, "payment", "pay_1", T0))
        tx.idempotency.add(IdempotencyRecord("usr_2", "key-1", "f" * 64, "payment", "pay_2", T0))
        tx.commit()

    with uow(read_only=True) as tx:
        assert tx.idempotency.get("usr_2", "key-1").resource_id == "pay_2"


# --- claims and leases --------------------------------------------------------------------
def test_concurrent_workers_claim_every_payment_exactly_once(uow: SqlUnitOfWorkFactory) -> None:
    payments = [make_payment(at=T0 + timedelta(milliseconds=i)) for i in range(20)]
    add_payments(uow, payments)
    now = T0 + timedelta(seconds=5)
    start = threading.Barrier(4)

    def worker(owner: str) -> list[str]:
        start.wait()
        claimed = []
        while (payment := claim(uow, owner, now)) is not None:
            assert payment.lease_owner == owner
            claimed.append(payment.id)
        return claimed

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(worker, [f"worker-{i}" for i in range(4)]))

    counts = Counter(pid for claimed in results for pid in claimed)
    assert set(counts) == {p.id for p in payments}
    assert set(counts.values()) == {1}


def test_a_live_lease_keeps_the_payment_from_another_owner(uow: SqlUnitOfWorkFactory) -> None:
    payment = make_payment()
    add_payments(uow, [payment])
    claim(uow, "worker-a", T0, lease_seconds=30)

    stolen = claim(uow, "worker-b", T0 + timedelta(seconds=29))

    assert stolen is None


def test_an_expired_lease_is_claimed_by_another_owner(uow: SqlUnitOfWorkFactory) -> None:
    payment = make_payment()
    add_payments(uow, [payment])
    claim(uow, "worker-a", T0, lease_seconds=30)

    reclaimed = claim(uow, "worker-b", T0 + timedelta(seconds=31))

    assert reclaimed is not None and reclaimed.id == payment.id
    assert reclaimed.lease_owner == "worker-b"


def test_a_processing_payment_whose_process_died_is_claimed_again(uow: SqlUnitOfWorkFactory) -> None:
    payment = make_payment(status="processing", lease_owner="dead",
                           lease_expires_at=T0 + timedelta(seconds=30))
    add_payments(uow, [payment])

    live = claim(uow, "worker-b", T0 + timedelta(seconds=1))
    expired = claim(uow, "worker-b", T0 + timedelta(minutes=1))

    assert live is None
    assert expired is not None and expired.id == payment.id


def test_a_retrying_payment_is_claimed_only_when_its_time_has_come(uow: SqlUnitOfWorkFactory) -> None:
    payment = make_payment(status="retrying", next_attempt_at=T0 + timedelta(seconds=2))
    add_payments(uow, [payment])

    early, due = claim(uow, "w", T0 + timedelta(seconds=1)), claim(uow, "w", T0 + timedelta(seconds=2))

    assert early is None
    assert due is not None and due.id == payment.id


def test_terminal_payments_are_never_claimed(uow: SqlUnitOfWorkFactory) -> None:
    add_payments(uow, [make_payment(status="completed"), make_payment(status="failed")])

    claimed = claim(uow, "w", T0 + timedelta(hours=1))

    assert claimed is None


# --- the database rate limiter ------------------------------------------------------------
BUCKET = BucketConfig(capacity=2, refill_per_second=2.0)


def grants(limiter: DbRateLimiter, tries: int) -> int:
    return sum(limiter.try_acquire().granted for _ in range(tries))


def test_the_db_limiter_grants_exactly_its_capacity_at_once_then_refills_exactly(db: Database) -> None:
    clock = FakeClock(T0)
    limiter = DbRateLimiter(db, BUCKET, clock)

    burst = grants(limiter, 5)
    clock.advance(0.25)
    quarter = grants(limiter, 5)
    clock.advance(0.25)
    half = grants(limiter, 5)
    clock.advance(60)
    after_a_minute = grants(limiter, 5)

    assert (burst, quarter, half, after_a_minute) == (2, 0, 1, 2)


def test_a_denied_grant_says_how_long_to_wait(db: Database) -> None:
    clock = FakeClock(T0)
    limiter = DbRateLimiter(db, BUCKET, clock)
    grants(limiter, 2)

    denied = limiter.try_acquire()

    assert not denied.granted
    assert denied.wait_seconds == pytest.approx(0.5)


def test_two_limiters_on_one_database_share_the_bucket(open_db: Callable[[], Database], db: Database) -> None:
    clock = FakeClock(T0)
    first, second = DbRateLimiter(db, BUCKET, clock), DbRateLimiter(open_db(), BUCKET, clock)

    taken = [first.try_acquire().granted, second.try_acquire().granted,
             first.try_acquire().granted, second.try_acquire().granted]
    clock.advance(0.5)
    after_refill = [second.try_acquire().granted, first.try_acquire().granted]

    assert taken == [True, True, False, False]
    assert after_refill == [True, False]
    assert first.available() == second.available() == 0


def test_concurrent_limiters_never_grant_more_than_the_bucket_holds(open_db: Callable[[], Database],
                                                                    db: Database) -> None:
    clock = FakeClock(T0)
    others = [DbRateLimiter(open_db(), BUCKET, clock) for _ in range(3)]
    limiters = [DbRateLimiter(db, BUCKET, clock), *others]
    start = threading.Barrier(4)

    def take_many(limiter: DbRateLimiter) -> int:
        start.wait()
        return grants(limiter, 10)

    with ThreadPoolExecutor(max_workers=4) as pool:
        granted = sum(pool.map(take_many, limiters))

    assert granted == 2


# --- the mock provider's ledger -----------------------------------------------------------
def test_the_ledger_records_one_charge_per_key_under_concurrent_records(db: Database) -> None:
    ledger = SqlMockLedger(db)
    keys = [f"pay_{i}" for i in range(5)]
    calls = [(key, n) for key in keys for n in range(2)]
    start = threading.Barrier(len(calls))

    def record(call: tuple[str, int]) -> LedgerCharge:
        key, n = call
        start.wait()
        return ledger.record(LedgerCharge(key, 500, "USD", f"txn_{key}_{n}", T0))

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(record, calls))

    for key in keys:
        stored = ledger.list(key, 10)
        answers = {r.transaction_id for r in results if r.payment_id == key}
        assert len(stored) == 1
        assert answers == {stored[0].transaction_id}
    assert len(ledger.list(None, 100)) == len(keys)


def test_the_ledger_keeps_the_first_charge_when_recorded_again(db: Database) -> None:
    ledger = SqlMockLedger(db)
    first = ledger.record(LedgerCharge("pay_1", 500, "USD", "txn_first", T0))

    second = ledger.record(LedgerCharge("pay_1", 500, "USD", "txn_second", T0 + timedelta(seconds=1)))

    assert second.transaction_id == first.transaction_id == "txn_first"
    assert ledger.find("pay_1").charged_at == T0


# --- restart ------------------------------------------------------------------------------
def serve(data_dir: Path, url: str) -> tuple[TestClient, Callable[[], None]]:
    """A fresh container and API on the database at `url`, as a new server process would build them."""
    container = build(make_settings(data_dir, database_url=url))
    container.init_storage()
    app = FastAPI()
    install_api(app, container)
    return TestClient(app, raise_server_exceptions=False), container.db.dispose


def pay_with_key(client: TestClient, body: dict) -> httpx.Response:
    headers = {**login(client, "customer@example.com", "password123"), "Idempotency-Key": "survives"}
    return client.post("/api/payments", headers=headers, json=body)


def test_an_idempotency_key_replays_the_same_payment_after_a_restart(tmp_path: Path, db_url: str) -> None:
    body = {"amount": 777, "currency": "GBP", "description": "restart",
            "card": {"number": "5555555555554444", "expMonth": 1, "expYear": 2031, "cvc": "321"}}
    before, stop = serve(tmp_path, db_url)
    with before:
        first = pay_with_key(before, body)
    stop()
    after, stop_again = serve(tmp_path, db_url)

    with after:
        replay = pay_with_key(after, body)
        changed = pay_with_key(after, {**body, "amount": 778})
    stop_again()

    assert first.status_code == 202
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
