"""The fakes behave like the real storage where the tests rely on it."""

from datetime import timedelta

import pytest

from domain.model.errors import DuplicateKey
from domain.model.events import Event
from domain.model.idempotency import IdempotencyRecord
from domain.model.payments import PageCursor
from domain.model.providers import LedgerCharge
from tests.fakes import T0, FakeLedger, FakeUnitOfWorkFactory, make_payment


def record(scope: str = "usr_1", key: str = "k") -> IdempotencyRecord:
    return IdempotencyRecord(scope, key, "fp", "payment", "pay_1", T0)


def test_committed_changes_are_visible_to_the_next_transaction():
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.payments.add(make_payment())
        uow.commit()

    with factory() as uow:
        assert uow.payments.get("pay_1") is not None


def test_leaving_the_block_without_a_commit_discards_the_changes():
    factory = FakeUnitOfWorkFactory()

    with factory() as uow:
        uow.payments.add(make_payment())
        uow.outbox.add(Event("payment.created", {}, T0))

    assert factory.payments() == [] and factory.events() == []


def test_an_exception_inside_the_block_discards_the_changes_even_after_an_earlier_commit():
    factory = FakeUnitOfWorkFactory()

    with pytest.raises(RuntimeError), factory() as uow:
        uow.payments.add(make_payment(payment_id="pay_a"))
        uow.commit()
        uow.payments.add(make_payment(payment_id="pay_b"))
        raise RuntimeError

    assert [p.id for p in factory.payments()] == ["pay_a"]


def test_a_changed_copy_is_not_stored_until_updated():
    factory = FakeUnitOfWorkFactory()
    factory.put_payment(make_payment())

    with factory() as uow:
        uow.payments.get("pay_1").status = "failed"
        uow.commit()

    assert factory.payment("pay_1").status == "pending"


def test_a_duplicate_idempotency_key_raises_duplicate_key_at_once_or_at_a_racing_commit():
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.idempotency.add(record())
        with pytest.raises(DuplicateKey):
            uow.idempotency.add(record())
        uow.idempotency.add(record(scope="usr_2"))

    first, second = factory(), factory()
    with first, second:
        first.idempotency.add(record())
        second.idempotency.add(record())
        first.commit()
        with pytest.raises(DuplicateKey):
            second.commit()

    assert list(factory.state.idempotency) == [("usr_1", "k")]


def test_the_outbox_assigns_increasing_sequence_numbers_across_commits():
    factory = FakeUnitOfWorkFactory()
    for i in range(3):
        with factory() as uow:
            uow.outbox.add(Event("user.created", {"i": i}, T0))
            uow.commit()

    with factory() as uow:
        assert [e.seq for e in uow.outbox.after(0, 10)] == [1, 2, 3]
        assert [e.data["i"] for e in uow.outbox.after(1, 10)] == [1, 2]
        assert uow.outbox.last_seq() == 3


def test_claim_due_leases_due_payments_oldest_first_and_skips_live_leases():
    factory = FakeUnitOfWorkFactory()
    factory.put_payment(make_payment(payment_id="pay_new", at=T0 + timedelta(seconds=1)))
    factory.put_payment(make_payment(payment_id="pay_old"))
    factory.put_payment(make_payment(payment_id="pay_later", status="retrying",
                                     next_attempt_at=T0 + timedelta(seconds=9)))

    with factory() as uow:
        claimed = [uow.payments.claim_due(now=T0, owner="w", lease_until=T0 + timedelta(seconds=30))
                   for _ in range(3)]
        uow.commit()

    assert [p.id if p else None for p in claimed] == ["pay_old", "pay_new", None]
    assert factory.payment("pay_old").lease_owner == "w"


def test_list_pages_newest_first_after_a_cursor():
    factory = FakeUnitOfWorkFactory()
    for i in range(4):
        factory.put_payment(make_payment(payment_id=f"pay_{i}", at=T0 + timedelta(seconds=i)))

    with factory() as uow:
        page = uow.payments.list(customer_id=None, status=None, limit=2,
                                 after=PageCursor(T0 + timedelta(seconds=3), "pay_3"))

    assert [p.id for p in page] == ["pay_2", "pay_1"]


def test_the_ledger_keeps_the_first_charge_for_a_key():
    ledger = FakeLedger()
    first = LedgerCharge("pay_1", 100, "USD", "txn_a", T0)

    ledger.record(first)

    kept = ledger.record(LedgerCharge("pay_1", 100, "USD", "txn_b", T0))

    assert kept == first
    assert ledger.list("pay_1", 10) == [first]
