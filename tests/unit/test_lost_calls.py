"""Calls whose answer is lost, that a lookup then finds made nothing: they are failed tries.

A provider that keeps losing answers (timeouts, dropped connections) while charging nothing must not
hold a payment or a refund in an endless loop of calls and lookups: each lost call spends a retry,
and the payment or refund fails once they are spent. The retry of a payment stays at the provider
that lost the call for a while, because the lost call could still land there late; a call there under
the same idempotency key is safe, a charge at another provider would be a second charge.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.providers import LedgerCharge, LedgerRefund
from domain.model.retry import RetryPolicy
from tests.unit.fleet import Fleet
from tests.unit.test_refunds import Refunds

TICK = timedelta(microseconds=1)
LOST = ConnectionResetError("the connection dropped before the provider charged")
MAX_RETRIES = RetryPolicy().max_retries


def kinds(fleet: Fleet) -> list[tuple[str, str]]:
    return [(kind, provider) for kind, provider, _ in fleet.calls()]


async def test_a_provider_that_keeps_losing_answers_fails_the_payment_once_its_retries_are_spent():
    fleet = Fleet("mock")
    fleet.route("mock").provider.script = [LOST] * 50  # every charge is lost, and none charged

    pid = fleet.submit()
    await fleet.settle()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.retry_count, payment.failure_code) == ("failed", MAX_RETRIES, "connection_lost")
    assert not payment.needs_lookup
    # each lost charge was looked up before the next one, and there were 1 + MAX_RETRIES of them; the
    # last was looked up once more when it could no longer land, before the payment was failed
    assert kinds(fleet) == [("charge", "mock"), ("lookup", "mock")] * (1 + MAX_RETRIES) + [("lookup", "mock")]
    assert fleet.mock_ledger.charges == {}
    assert fleet.uow.event_types(pid).count("payment.retry") == MAX_RETRIES
    assert fleet.uow.event_types(pid)[-1] == "payment.failed"


async def test_a_lost_call_found_uncharged_is_retried_after_the_backoff_and_can_still_complete():
    fleet = Fleet("mock")
    fleet.route("mock").provider.script = [LOST]

    pid = fleet.submit()
    await fleet.processor.drain()  # the charge is lost
    fleet.clock.set(fleet.uow.payment(pid).next_attempt_at + TICK)  # its lease has run out
    await fleet.processor.drain()  # the lookup finds nothing
    retrying = fleet.uow.payment(pid)
    looked_up_at = fleet.clock.now()
    await fleet.settle()

    assert (retrying.status, retrying.retry_count, retrying.failure_code) == ("retrying", 1, "connection_lost")
    assert retrying.next_attempt_at == looked_up_at + RetryPolicy().delay(1)
    assert fleet.uow.payment(pid).status == "completed"
    assert kinds(fleet) == [("charge", "mock"), ("lookup", "mock"), ("charge", "mock")]
    assert len(fleet.mock_ledger.charges) == 1


async def test_the_retry_after_a_lost_call_stays_at_that_provider_instead_of_failing_over():
    fleet = Fleet("mock", "stripe")
    fleet.route("mock").provider.script = [LOST]

    pid = fleet.submit()
    await fleet.settle()

    assert (fleet.uow.payment(pid).status, fleet.uow.payment(pid).provider) == ("completed", "mock")
    assert kinds(fleet) == [("charge", "mock"), ("lookup", "mock"), ("charge", "mock")]


async def test_while_it_stays_and_its_providers_circuit_is_open_it_waits_then_fails_over_once_the_stay_is_over():
    fleet = Fleet("mock", "stripe", reset_seconds=600)  # the primary's circuit stays open past the stay
    fleet.route("mock").provider.script = [LOST]
    config = fleet.processor.config
    may_land_for = timedelta(seconds=config.call_timeout_seconds + config.stay_after_lost_call_seconds)

    pid = fleet.submit()
    await fleet.processor.drain()  # the charge is lost
    fleet.clock.set(fleet.uow.payment(pid).next_attempt_at + TICK)  # its lease has run out
    await fleet.processor.drain()  # the lookup finds nothing: a retry, staying at mock
    [charge] = [a for a in fleet.uow.state.attempts if a.kind == "charge"]
    stay_until = charge.started_at + may_land_for
    fleet.route("mock").circuit.opened_at = fleet.clock.now()  # and the primary goes down
    fleet.clock.set(fleet.uow.payment(pid).next_attempt_at + TICK)  # its lease has run out
    await fleet.processor.drain()
    waiting = fleet.uow.payment(pid)

    assert (waiting.status, waiting.next_attempt_at) == ("retrying", stay_until)
    assert fleet.calls("charge") == [("charge", "mock", pid)]  # nothing went to the fallback meanwhile

    await fleet.settle()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.provider) == ("completed", "stripe")
    assert [c[:2] for c in fleet.calls("charge")] == [("charge", "mock"), ("charge", "stripe")]
    assert fleet.mock_ledger.charges == {}  # one charge in all, at the fallback
    assert fleet.route("stripe").provider.inner.ledger.find(pid) is not None


async def test_a_refund_whose_answers_keep_getting_lost_fails_once_its_retries_are_spent():
    rig = Refunds()
    pid = await rig.paid()
    rig.fleet.route("mock").provider.refund_script = [LOST] * 50  # every refund call lost, none made

    rid = rig.refund(pid)
    await rig.settle()

    refund = rig.stored(rid)
    assert (refund.status, refund.retry_count, refund.failure_code) == ("failed", MAX_RETRIES, "provider_answer_lost")
    calls = [e[0] for e in rig.fleet.log if e[0] in ("refund", "lookup_refund")]
    assert calls == ["refund", "lookup_refund"] * (1 + MAX_RETRIES) + ["lookup_refund"]  # the last, once more
    assert rig.ledger() == []
    assert rig.fleet.uow.payment(pid).refunded_amount == 0


async def test_a_charge_that_lands_after_the_payment_failed_is_reported_for_an_operator_and_changes_nothing(caplog):
    from domain.services.provider_events import ProviderEvent, ProviderEvents, Settled

    fleet = Fleet("mock")
    fleet.route("mock").provider.script = [LOST] * 50
    pid = fleet.submit()
    await fleet.settle()  # failed after its retries, each lost call found uncharged
    events_before = fleet.uow.event_types(pid)

    with caplog.at_level("ERROR", logger="paygate.provider_events"):
        outcome = ProviderEvents(fleet.uow, fleet.clock).receive(ProviderEvent(
            "mock", "evt_late", "payment_intent.succeeded", pid, "tx_late", True))

    assert outcome is Settled.CHARGED_AFTER_FAILURE
    assert fleet.uow.payment(pid).status == "failed"
    assert fleet.uow.event_types(pid) == events_before
    assert [r.getMessage() for r in caplog.records if r.name == "paygate.provider_events"] == [
        f"a charge stands at mock for failed payment {pid} (tx_late): refund it at the provider"]


async def until_the_last_lookup(fleet: Fleet, pid: str) -> None:
    """Drain until the payment's retries are spent and it waits for its last lookup."""
    for _ in range(40):
        payment = fleet.uow.payment(pid)
        if payment.retry_count == MAX_RETRIES and payment.needs_lookup and payment.lease_owner is None \
                and payment.next_attempt_at == payment.stay_until:
            return
        await fleet.processor.drain()
        payment = fleet.uow.payment(pid)
        fleet.clock.set(max(fleet.clock.now(), (payment.next_attempt_at or fleet.clock.now()) + TICK))
    raise AssertionError("the payment never came to its last lookup")


async def test_a_last_lost_charge_that_lands_late_is_found_by_the_last_lookup_and_the_payment_completes():
    fleet = Fleet("mock")
    fleet.route("mock").provider.script = [LOST] * 50
    pid = fleet.submit()
    await until_the_last_lookup(fleet, pid)
    waiting = fleet.uow.payment(pid)
    # the last lost call lands at the provider after its lookup, but before it can no longer land
    fleet.mock_ledger.record(LedgerCharge(pid, 2500, "USD", "tx_landed_late", fleet.clock.now()))

    await fleet.settle()

    assert (waiting.status, waiting.needs_lookup) == ("processing", True)  # not failed while it may land
    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.transaction_id) == ("completed", "tx_landed_late")
    assert len(fleet.mock_ledger.charges) == 1 and kinds(fleet)[-1] == ("lookup", "mock")


async def test_a_lost_call_keeps_its_own_code_when_a_circuit_opened_before_its_lookup():
    fleet = Fleet("mock", "stripe", reset_seconds=10)  # (with every circuit open, nothing is claimed)
    fleet.route("mock").provider.script = [LOST]
    pid = fleet.submit()
    await fleet.processor.drain()  # the charge is lost
    fleet.route("mock").circuit.opened_at = fleet.clock.now()
    fleet.clock.set(fleet.uow.payment(pid).next_attempt_at + TICK)
    await fleet.processor.drain()  # the lookup waits for the circuit
    waiting = fleet.uow.payment(pid)
    fleet.clock.set(fleet.uow.payment(pid).next_attempt_at + TICK)
    await fleet.processor.drain()  # the probe is the lookup: it finds nothing

    assert (waiting.status, waiting.failure_code) == ("processing", "provider_unavailable")
    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.retry_count, payment.failure_code) == ("retrying", 1, "connection_lost")


async def test_a_last_lost_refund_that_lands_late_is_found_by_the_last_lookup_and_the_refund_succeeds():
    rig = Refunds()
    pid = await rig.paid()
    rig.fleet.route("mock").provider.refund_script = [LOST] * 50
    rid = rig.refund(pid)
    for _ in range(40):  # until its retries are spent and it waits for its last lookup
        refund = rig.stored(rid)
        if refund.retry_count == MAX_RETRIES and refund.needs_lookup and refund.next_attempt_at == refund.stay_until:
            break
        await rig.drain.drain()
        clock = rig.fleet.clock
        clock.set(max(clock.now(), (rig.stored(rid).next_attempt_at or clock.now()) + TICK))
    waiting = rig.stored(rid)
    # the last lost refund call lands at the provider after its lookup
    landed = LedgerRefund(pid, rid, 2500, "USD", "rf_landed_late", rig.fleet.clock.now())
    rig.fleet.mock_ledger.record_refund(rid, landed)

    await rig.settle()

    assert (waiting.status, waiting.retry_count, waiting.needs_lookup) == ("pending", MAX_RETRIES, True)
    assert (rig.stored(rid).status, rig.stored(rid).transaction_id) == ("succeeded", "rf_landed_late")
    assert rig.fleet.uow.payment(pid).refunded_amount == 2500 and len(rig.ledger()) == 1
