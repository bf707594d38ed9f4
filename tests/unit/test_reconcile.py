"""The reconciliation job (PaymentProcessor.reconcile, run by app/scheduler.py): a payment left
`processing` with its outcome unknown by a process that died mid-call is found once its lease runs
out, and settled by a lookup at its provider, never by a second charge. Fakes and a fake clock."""

from __future__ import annotations

from domain.model.providers import CallKind, CallResult
from domain.model.retry import RetryPolicy
from domain.model.statuses import PaymentStatus
from domain.services.processor import PaymentProcessor, ProcessorConfig
from tests.fakes import InstantSleep, run_sync
from tests.unit.fleet import OWNER, Fleet

DEAD = "worker-dead"
LEASE = 30.0


class Died(Exception):
    """The process stops right after the provider call returned, before it stored the answer."""


async def _left_unknown_by_a_dead_process(fleet: Fleet) -> str:
    """A payment whose charge call went out from a process that then died: `processing`, needs_lookup,
    leased by the dead process until its lease runs out."""

    def die(payment) -> None:
        raise Died(payment.id)

    dead = PaymentProcessor(fleet.uow, fleet.routes, RetryPolicy(), fleet.clock,
                            ProcessorConfig(owner=DEAD, lease_seconds=LEASE), vault=fleet.vault,
                            sleep=InstantSleep(fleet.clock), run_sync=run_sync, after_charge=die)
    pid = fleet.submit()
    await dead.drain()
    left = fleet.uow.payment(pid)
    assert (left.status, left.needs_lookup, left.lease_owner) == (PaymentStatus.PROCESSING, True, DEAD)
    return pid


async def test_reconcile_leaves_an_unknown_payment_alone_while_its_lease_runs():
    fleet = Fleet("mock")
    pid = await _left_unknown_by_a_dead_process(fleet)

    assert await fleet.processor.reconcile() == 0

    assert fleet.uow.payment(pid).lease_owner == DEAD
    assert fleet.calls() == [("charge", "mock", pid)]


async def test_reconcile_completes_a_payment_whose_charge_stands_by_a_lookup_without_charging_again():
    fleet = Fleet("mock")
    pid = await _left_unknown_by_a_dead_process(fleet)
    charge = fleet.mock_ledger.find(pid)
    assert charge is not None  # the mock charged before the process died
    fleet.clock.advance(LEASE + 1)  # the dead process's lease runs out

    assert await fleet.processor.reconcile() == 1

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.needs_lookup, payment.lease_owner) == ("completed", False, None)
    assert payment.transaction_id == charge.transaction_id
    assert fleet.calls() == [("charge", "mock", pid), ("lookup", "mock", pid)]
    assert list(fleet.mock_ledger.charges) == [pid]  # one charge, not two
    assert [a.kind for a in fleet.uow.state.attempts] == [CallKind.CHARGE, CallKind.LOOKUP]
    assert fleet.uow.event_types(pid).count("payment.completed") == 1


async def test_reconcile_looks_up_first_where_no_charge_stands_and_the_payment_is_then_charged_once():
    fleet = Fleet("mock")
    fleet.route("mock").provider.script = [CallResult.error("provider_unavailable", "down")]  # nothing charged
    pid = await _left_unknown_by_a_dead_process(fleet)
    assert fleet.mock_ledger.find(pid) is None
    fleet.clock.advance(LEASE + 1)

    assert await fleet.processor.reconcile() == 1

    assert fleet.calls()[:2] == [("charge", "mock", pid), ("lookup", "mock", pid)]
    assert not fleet.uow.payment(pid).needs_lookup  # the lookup said no charge stands
    await fleet.settle()
    payment = fleet.uow.payment(pid)
    assert payment.status == "completed"
    assert [c[0] for c in fleet.calls()] == ["charge", "lookup", "charge"]
    assert list(fleet.mock_ledger.charges) == [pid]
    assert payment.transaction_id == fleet.mock_ledger.find(pid).transaction_id


async def test_reconcile_takes_only_unknown_outcomes_and_leaves_the_queue_to_the_drain():
    fleet = Fleet("mock")
    unknown = await _left_unknown_by_a_dead_process(fleet)
    queued = fleet.submit()
    fleet.clock.advance(LEASE + 1)

    assert await fleet.processor.reconcile() == 1

    assert fleet.uow.payment(unknown).status == "completed"
    assert fleet.uow.payment(queued).status == "pending"  # not a lookup: the drain's, not reconcile's
    assert [c for c in fleet.calls() if c[2] == queued] == []
    assert fleet.uow.payment(unknown).lease_owner != OWNER
