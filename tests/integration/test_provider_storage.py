"""What providers keep in the database, on SQLite and PostgreSQL: circuit breakers shared by every
process, one token bucket per provider, attempt rows, holds, unknown outcomes, and inbound events
stored once even when the same event arrives ten times at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from domain.clock import FakeClock, SystemClock
from domain.model.payments import hold_name
from domain.model.providers import Attempt, CallKind, CallResult, CircuitState, Outcome
from domain.model.rate_limit import BucketConfig
from domain.services.provider_events import ProviderEvent, ProviderEvents, Settled
from storage.circuits import SharedCircuit
from storage.db import Database
from storage.limiter import DbRateLimiter
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes import T0, make_payment

FAIL = CallResult.error("provider_unavailable", "the provider is down")
OK = CallResult.ok("txn_1")


def fail(circuit: SharedCircuit, times: int) -> None:
    for _ in range(times):
        ticket = circuit.begin()
        assert ticket is not None
        circuit.end(ticket, FAIL)


# --- circuit breakers ---------------------------------------------------------------------------
def test_a_circuit_opened_by_one_process_is_open_for_every_process(db: Database, open_db) -> None:
    here = SharedCircuit(db, "mock", fail_max=3, reset_seconds=30)
    there = SharedCircuit(open_db(), "mock", fail_max=3, reset_seconds=30)

    fail(here, 2)
    fail(there, 1)  # the run of failures counts across processes

    assert here.state() is CircuitState.OPEN and there.state() is CircuitState.OPEN
    assert here.begin() is None and there.begin() is None
    code, message, at = there.last_error()
    assert (code, message) == ("provider_unavailable", "the provider is down")
    assert abs((datetime.now(UTC) - at).total_seconds()) < 60


def test_a_success_resets_the_run_so_scattered_failures_never_open_it(db: Database) -> None:
    circuit = SharedCircuit(db, "mock", fail_max=3, reset_seconds=30)
    for _ in range(4):
        fail(circuit, 2)
        ticket = circuit.begin()
        circuit.end(ticket, OK)
    declined = circuit.begin()
    circuit.end(declined, CallResult.declined("card_declined", "no"))  # a decline is a healthy answer

    assert circuit.state() is CircuitState.CLOSED
    assert circuit.view().failures == 0


def test_after_its_timeout_one_probe_closes_the_circuit_for_everyone(db: Database, open_db) -> None:
    here = SharedCircuit(db, "mock", fail_max=2, reset_seconds=30)
    there = SharedCircuit(open_db(), "mock", fail_max=2, reset_seconds=30)
    fail(here, 2)
    here.storage.opened_at = datetime.now(UTC) - timedelta(seconds=31)  # the timeout has passed

    assert there.state() is CircuitState.HALF_OPEN
    probe = there.begin()
    assert probe is not None
    there.end(probe, OK)

    assert here.state() is CircuitState.CLOSED and here.begin() is not None


def test_a_failed_probe_opens_the_circuit_again_for_another_timeout(db: Database) -> None:
    circuit = SharedCircuit(db, "stripe", fail_max=2, reset_seconds=30)
    fail(circuit, 2)
    circuit.storage.opened_at = datetime.now(UTC) - timedelta(seconds=31)

    probe = circuit.begin()
    circuit.end(probe, CallResult.not_known("provider_timeout", "no answer"))

    assert circuit.state() is CircuitState.OPEN
    assert circuit.last_error()[0] == "provider_timeout"


def test_each_provider_has_its_own_circuit(db: Database) -> None:
    mock, stripe = SharedCircuit(db, "mock", fail_max=1), SharedCircuit(db, "stripe", fail_max=1)
    fail(mock, 1)
    assert (mock.state(), stripe.state()) == (CircuitState.OPEN, CircuitState.CLOSED)


# --- one bucket per provider ---------------------------------------------------------------------
def test_each_provider_has_its_own_bucket_shared_by_every_process(db: Database, open_db) -> None:
    clock = FakeClock(datetime.now(UTC))
    mock_here = DbRateLimiter(db, BucketConfig(), clock, name="mock")
    mock_there = DbRateLimiter(open_db(), BucketConfig(), clock, name="mock")
    stripe = DbRateLimiter(db, BucketConfig(), clock, name="stripe")

    assert [mock_here.try_acquire().granted, mock_there.try_acquire().granted, mock_here.try_acquire().granted] \
        == [True, True, False]
    assert [stripe.try_acquire().granted for _ in range(3)] == [True, True, False]  # not the mock's tokens


# --- rows ----------------------------------------------------------------------------------------
def test_attempt_rows_keep_every_call_in_order_and_a_charge_in_flight_has_no_outcome(db: Database) -> None:
    uow = SqlUnitOfWorkFactory(db)
    with uow() as tx:
        tx.payments.add(make_payment(payment_id="pay_a", status="processing"))
        charge = tx.attempts.add(Attempt("pay_a", 1, CallKind.CHARGE, "mock", T0))
        tx.attempts.add(Attempt("pay_a", 2, CallKind.LOOKUP, "mock", T0 + timedelta(seconds=2), 12,
                                Outcome.APPROVED, None, "txn_1"))
        tx.commit()
    with uow(read_only=True) as tx:
        in_flight = tx.attempts.for_payment("pay_a")[0]
        assert (in_flight.outcome, in_flight.public()["outcome"]) == (None, "unknown")
        assert tx.attempts.next_number("pay_a") == 3
        assert [a.kind for a in tx.attempts.recent(T0, 10)] == ["lookup"]  # finished ones only
    with uow() as tx:
        tx.attempts.finish(Attempt("pay_a", 1, CallKind.CHARGE, "mock", T0, 2001, Outcome.UNKNOWN,
                                   "provider_timeout", None, id=charge.id))
        tx.commit()
    with uow(read_only=True) as tx:
        rows = tx.attempts.for_payment("pay_a")
    assert [(a.number, a.kind, a.outcome, a.latency_ms) for a in rows] == [
        (1, "charge", "unknown", 2001), (2, "lookup", "approved", 12)]
    assert rows[0].started_at == T0


def test_tokens_per_provider_the_lookup_mark_and_the_stay_survive_a_round_trip(db: Database) -> None:
    uow = SqlUnitOfWorkFactory(db)
    payment = make_payment(payment_id="pay_t", status="processing", needs_lookup=True,
                           card_tokens={"mock": "tok_approve_1", "stripe": "pm_1"},
                           stay_until=T0 + timedelta(seconds=60))
    with uow() as tx:
        tx.payments.add(payment)
        tx.commit()
    with uow(read_only=True) as tx:
        stored = tx.payments.get("pay_t")
    assert (stored.card_tokens, stored.needs_lookup) == ({"mock": "tok_approve_1", "stripe": "pm_1"}, True)
    assert stored.stay_until == T0 + timedelta(seconds=60)  # aware UTC, as stored


def test_a_payment_held_for_a_process_is_claimed_only_by_it_and_only_when_due(db: Database) -> None:
    uow = SqlUnitOfWorkFactory(db)
    held = make_payment(payment_id="pay_h", lease_owner=hold_name("p1"), lease_expires_at=T0 + timedelta(seconds=30))
    later = make_payment(payment_id="pay_l", status="processing", needs_lookup=True, lease_owner=hold_name("p1"),
                         lease_expires_at=T0 + timedelta(seconds=40), next_attempt_at=T0 + timedelta(seconds=5))
    with uow() as tx:
        tx.payments.add(held)
        tx.payments.add(later)
        tx.commit()

    def claim(owner: str, now: datetime, unknown_only: bool = False) -> str | None:
        with uow() as tx:
            payment = tx.payments.claim_due(now=now, owner=owner, lease_until=now + timedelta(seconds=30),
                                            unknown_only=unknown_only)
            tx.commit()
            return payment.id if payment else None

    assert claim("p2", T0) is None  # someone else's hold
    assert claim("p1", T0, unknown_only=True) is None  # its lookup is not due yet
    assert claim("p1", T0) == "pay_h"
    assert claim("p1", T0 + timedelta(seconds=5), unknown_only=True) == "pay_l"


# --- inbound provider events ---------------------------------------------------------------------
def test_the_same_provider_event_ten_times_at_once_settles_the_payment_once(db: Database, open_db) -> None:
    uow = SqlUnitOfWorkFactory(db)
    with uow() as tx:
        tx.payments.add(make_payment(payment_id="pay_u", status="processing", needs_lookup=True, provider="stripe"))
        tx.commit()
    receivers = [ProviderEvents(SqlUnitOfWorkFactory(open_db()), SystemClock()) for _ in range(10)]
    event = ProviderEvent("stripe", "evt_same", "payment_intent.succeeded", "pay_u", "pi_1", True)

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(lambda r: r.receive(event), receivers))

    assert sorted(outcomes) == sorted([Settled.COMPLETED] + [Settled.DUPLICATE] * 9)
    with uow(read_only=True) as tx:
        payment = tx.payments.get("pay_u")
        events = [e.type for e in tx.outbox.for_aggregate("pay_u")]
        assert tx.provider_events.seen("stripe", "evt_same")
    assert (payment.status, payment.transaction_id) == ("completed", "pi_1")
    assert events.count("payment.completed") == 1
