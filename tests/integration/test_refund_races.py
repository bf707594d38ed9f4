"""Refunds under concurrency, on SQLite and PostgreSQL: twenty partial refunds of one payment at once
never add up to more than the payment, ten requests with one key create one refund, and ten requests
to refund a payment that is not completed are all refused and write nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from domain.clock import SystemClock
from domain.model.errors import Conflict, DomainError, IdempotencyKeyInUse, PaymentNotRefundable
from domain.services.refunds import RefundService
from storage.db import Database
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import make_payment, make_user


def completed_payment(db: Database, amount: int = 2500, status: str = "completed") -> tuple[str, object]:
    uow = SqlUnitOfWorkFactory(db)
    admin = make_user(role="admin", email="root@example.com", user_id="usr_admin")
    with uow() as tx:
        tx.users.add(admin)
        payment = make_payment(payment_id="pay_r", status=status,
                               transaction_id="txn_1" if status == "completed" else None)
        payment.amount = amount
        tx.payments.add(payment)
        tx.commit()
    return "pay_r", admin


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
        return "created"
    except DomainError as e:
        return e.code


def test_twenty_concurrent_partial_refunds_never_exceed_the_payment(db: Database, open_db) -> None:
    payment_id, admin = completed_payment(db, amount=2500)
    services = [RefundService(SqlUnitOfWorkFactory(open_db()), SystemClock()) for _ in range(20)]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda s: outcome(lambda: s.create(admin, payment_id, {"amount": 300})), services))

    with SqlUnitOfWorkFactory(db)(read_only=True) as tx:
        refunds = tx.refunds.for_payment(payment_id)
        total = tx.refunds.committed_total(payment_id)
    assert Counter(results) == {"created": 8, "refund_exceeds_payment": 12}
    assert (len(refunds), total) == (8, 2400)


def test_ten_requests_with_one_key_create_one_refund(db: Database, open_db) -> None:
    payment_id, admin = completed_payment(db)
    services = [RefundService(SqlUnitOfWorkFactory(open_db()), SystemClock()) for _ in range(10)]
    body = {"amount": 100, "idempotencyKey": "refund-once"}

    def send(service: RefundService) -> str:
        try:
            refund, replayed = service.create(admin, payment_id, dict(body))
            return f"{refund.id}:{replayed}"
        except IdempotencyKeyInUse:
            return "in_use"

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(send, services))

    with SqlUnitOfWorkFactory(db)(read_only=True) as tx:
        refunds = tx.refunds.for_payment(payment_id)
    assert len(refunds) == 1
    created = [r for r in results if r.endswith(":False")]
    assert len(created) == 1
    assert all(r in ("in_use", f"{refunds[0].id}:True", f"{refunds[0].id}:False") for r in results)


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_ten_concurrent_refunds_of_a_payment_that_is_not_completed_are_all_refused_and_write_nothing(
        db: Database, open_db, status: str) -> None:
    payment_id, admin = completed_payment(db, status=status)
    services = [RefundService(SqlUnitOfWorkFactory(open_db()), SystemClock()) for _ in range(10)]
    start = Barrier(10)

    def send(n: int) -> type[Exception] | str:
        start.wait(timeout=30)
        try:  # half of them with a key of their own: a refused request keeps no key either
            key = {"idempotencyKey": f"k-{n}"} if n % 2 else {}
            services[n].create(admin, payment_id, {"amount": 100 + n, **key})
            return "created"
        except DomainError as e:
            return type(e)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(send, range(10)))

    assert results == [PaymentNotRefundable] * 10
    assert issubclass(PaymentNotRefundable, Conflict) and PaymentNotRefundable.code == "payment_not_refundable"  # 409
    with SqlUnitOfWorkFactory(db)(read_only=True) as tx:
        assert tx.refunds.for_payment(payment_id) == []
        assert tx.refunds.committed_total(payment_id) == 0
        assert [e.type for e in tx.outbox.for_aggregate(payment_id) if e.type.startswith("refund.")] == []
        kept_keys = [n for n in range(1, 10, 2) if tx.idempotency.get(admin.id, f"k-{n}") is not None]
        payment = tx.payments.get(payment_id)
    assert kept_keys == []
    assert (payment.status, payment.refunded_amount) == (status, 0)
