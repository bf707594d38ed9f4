"""Several providers with fakes: circuit breakers, failover, unknown outcomes, cards held in memory,
per-provider buckets, client tokens and inbound provider events. No database, no real waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.model.errors import ValidationFailed
from domain.model.providers import CallKind, CallResult, CircuitState
from domain.model.retry import RetryPolicy
from domain.services.card_vault import CardVault
from domain.services.mock_provider import MockConfig
from domain.services.processor import CallKind as Kind
from domain.services.processor import PaymentProcessor, ProcessorConfig, Step, Verdict
from domain.services.provider_events import ProviderEvent, ProviderEvents, Settled
from tests.fakes import InstantSleep, run_sync
from tests.unit.fleet import CARD, OWNER, Fleet


# --- the circuit breaker ---------------------------------------------------------------------------
async def test_a_run_of_retryable_failures_opens_the_circuit_and_later_payments_wait_instead_of_failing():
    fleet = Fleet("mock", fail_max=3, reset_seconds=30.0)
    mock = fleet.route("mock")
    mock.provider.script = [CallResult.error("provider_unavailable", "down")] * 3
    pids = [fleet.submit() for _ in range(5)]

    await fleet.processor.drain()

    assert mock.circuit.state() is CircuitState.OPEN
    assert len(fleet.calls("charge")) == 3  # the circuit stopped the fourth call
    waiting = [fleet.uow.payment(pid) for pid in pids]
    failed_once = [p for p in waiting if p.retry_count == 1]
    stopped = [p for p in waiting if p.status == "retrying" and p.retry_count == 0]  # claimed, then refused
    untouched = [p for p in waiting if p.status == "pending"]
    assert len(failed_once) == 3 and {p.status for p in failed_once} == {"retrying"}
    assert len(stopped) + len(untouched) == 2 and untouched  # waiting without spending a retry
    assert all(fleet.uow.event_types(p.id) == ["payment.created"] for p in untouched)  # left where they are

    fleet.clock.advance(31)  # past the reset: the next call is a probe, and it succeeds
    await fleet.settle()

    assert [fleet.uow.payment(pid).status for pid in pids] == ["completed"] * 5
    assert mock.circuit.state() is CircuitState.CLOSED
    assert len(fleet.mock_ledger.charges) == 5


async def test_a_failed_half_open_probe_opens_the_circuit_again():
    fleet = Fleet("mock", fail_max=2, reset_seconds=10.0)
    mock = fleet.route("mock")
    mock.provider.script = [CallResult.error("provider_unavailable", "down")] * 3
    pid = fleet.submit()
    while mock.circuit.state() is not CircuitState.OPEN:  # two failed attempts, 1 s apart
        await fleet.processor.drain()
        fleet.clock.set(max(fleet.clock.now(), fleet.uow.payment(pid).next_attempt_at))
    assert len(fleet.calls("charge")) == 2

    fleet.clock.set(mock.circuit.opened_at + timedelta(seconds=10))
    assert mock.circuit.state() is CircuitState.HALF_OPEN
    await fleet.processor.drain()

    assert mock.circuit.state() is CircuitState.OPEN  # the probe failed
    assert len(fleet.calls("charge")) == 3
    assert mock.circuit.last_error()[0] == "provider_unavailable"
    assert fleet.uow.payment(pid).status == "retrying"


async def test_a_card_level_retryable_error_does_not_count_against_the_provider():
    fleet = Fleet("mock", fail_max=2)
    pids = [fleet.submit(card={**CARD, "number": "4000000000000119"}) for _ in range(3)]  # processing_error

    await fleet.settle()

    assert [fleet.uow.payment(pid).status for pid in pids] == ["failed"] * 3  # after their own retries
    assert fleet.route("mock").circuit.state() is CircuitState.CLOSED
    assert len(fleet.calls("charge")) == 12


async def test_a_payment_bound_to_an_open_provider_waits_until_its_circuit_lets_a_probe_through():
    fleet = Fleet("mock", "stripe", reset_seconds=30.0)
    fleet.route("stripe").circuit.opened_at = fleet.clock.now()
    pid = fleet.submit(card=None, paymentMethodToken="pm_card_visa")  # only Stripe can charge it

    await fleet.processor.drain()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.retry_count) == ("retrying", 0)
    assert payment.next_attempt_at == fleet.clock.now() + timedelta(seconds=30)
    assert fleet.calls() == []


# --- failover ---------------------------------------------------------------------------------------
async def test_while_the_primarys_circuit_is_open_a_payment_goes_to_the_fallback_with_its_own_tokens():
    fleet = Fleet("mock", "stripe")
    fleet.route("mock").circuit.opened_at = fleet.clock.now()
    pid = fleet.submit()

    await fleet.settle()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.provider) == ("completed", "stripe")
    assert payment.card_tokens["stripe"] == "pm_4242" and payment.card_tokens["mock"].startswith("tok_")
    assert fleet.calls() == [("tokenize", "stripe", None), ("charge", "stripe", pid)]
    assert [e[1] for e in fleet.log if e[0] == "token"] == ["stripe", "stripe"]  # none of the primary's
    assert fleet.mock_ledger.charges == {}
    assert fleet.vault.get(pid) is None  # the card left memory with the payment's end
    kinds = [(a.kind, a.provider, a.outcome) for a in fleet.uow.state.attempts]
    assert kinds == [("tokenize", "stripe", "approved"), ("charge", "stripe", "approved")]


async def test_after_a_retryable_failure_on_the_primary_the_next_attempt_goes_to_the_fallback():
    fleet = Fleet("mock", "stripe")
    fleet.route("mock").provider.script = [CallResult.error("processing_error", "try again")]
    pid = fleet.submit()

    await fleet.settle()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.provider, payment.retry_count) == ("completed", "stripe", 1)
    assert [c[:2] for c in fleet.calls()] == [("charge", "mock"), ("tokenize", "stripe"), ("charge", "stripe")]
    assert fleet.mock_ledger.charges == {}  # a payment never has charges at two providers
    assert list(fleet.route("stripe").provider.inner.ledger.charges) == [pid]


async def test_an_unknown_outcome_at_the_primary_is_looked_up_there_before_any_switch():
    fleet = Fleet("mock", "stripe")
    pid = fleet.submit(card={**CARD, "number": "4000000000000267"})  # charges, then drops the connection

    await fleet.settle()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.provider) == ("completed", "mock")
    assert [c[:2] for c in fleet.calls()] == [("charge", "mock"), ("lookup", "mock")]
    assert payment.transaction_id == fleet.mock_ledger.find(pid).transaction_id
    assert len(fleet.mock_ledger.charges) == 1


async def test_a_payment_to_look_up_waits_for_its_own_providers_circuit_not_the_fallback():
    fleet = Fleet("mock", "stripe")
    fleet.route("mock").provider.script = [ConnectionResetError("lost")]  # before charging: nothing stands
    pid = fleet.submit()
    await fleet.processor.drain()
    fleet.clock.set(fleet.uow.payment(pid).next_attempt_at)
    fleet.route("mock").circuit.opened_at = fleet.clock.now()

    claimed = fleet.processor._claim()
    plan = fleet.processor.plan(claimed)

    assert isinstance(plan, Verdict) and plan.action == "look_later"
    fleet.processor._apply_verdict(pid, plan)
    assert fleet.uow.payment(pid).needs_lookup
    assert fleet.calls("charge") == [("charge", "mock", pid)]  # nothing went to the fallback


async def test_the_plan_for_a_new_payment_is_the_primary_and_a_token_call_where_the_card_needs_one():
    fleet = Fleet("stripe", "mock")
    pid = fleet.submit()
    payment = fleet.processor._claim()

    plan = fleet.processor.plan(payment)

    assert plan == Step(Kind.TOKENIZE, fleet.route("stripe"))
    assert payment.id == pid and payment.lease_owner == OWNER


# --- cards held in memory ---------------------------------------------------------------------------
async def test_a_card_that_needs_a_token_call_is_held_in_memory_only_and_its_payment_for_this_process():
    fleet = Fleet("stripe")
    pid = fleet.submit()

    stored = fleet.uow.payment(pid)
    assert stored.card_tokens == {} and (stored.card_brand, stored.card_last4) == ("visa", "4242")
    assert stored.lease_owner == f"hold:{OWNER}"
    assert "4242424242424242" not in repr(fleet.uow.state)  # nothing stored holds the number
    other = fleet.processor_for("worker-2", CardVault(fleet.clock))
    assert await other.drain() == 0  # held for the process that has the card

    await fleet.settle()

    assert fleet.uow.payment(pid).status == "completed"
    assert fleet.vault.get(pid) is None


async def test_a_card_lost_with_its_process_fails_the_payment_as_card_unavailable_without_a_call():
    fleet = Fleet("stripe")
    pid = fleet.submit()
    fleet.clock.advance(31)  # the holder died: nobody renewed its hold
    rescuer = fleet.processor_for("worker-2", CardVault(fleet.clock))

    await rescuer.drain()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.failure_code) == ("failed", "card_unavailable")
    assert fleet.calls() == []


async def test_the_holder_renews_its_holds_so_a_long_queue_does_not_lose_them():
    fleet = Fleet("stripe")
    pid = fleet.submit()
    fleet.clock.advance(25)

    assert fleet.processor.hold_cards() == 1
    fleet.clock.advance(25)

    other = fleet.processor_for("worker-2", CardVault(fleet.clock))
    assert await other.drain() == 0
    assert fleet.uow.payment(pid).status == "pending"


# --- submissions with a provider's token ------------------------------------------------------------
def test_a_payment_method_token_goes_to_the_provider_that_issued_it():
    fleet = Fleet("mock", "stripe")
    pid = fleet.submit(card=None, paymentMethodToken="pm_card_visa")

    payment = fleet.uow.payment(pid)
    assert (payment.provider, payment.card_tokens) == ("stripe", {"stripe": "pm_card_visa"})
    assert fleet.vault.get(pid) is None


@pytest.mark.parametrize(("names", "fields", "field"), [
    (("mock",), {"card": None, "paymentMethodToken": "pm_card_visa"}, "paymentMethodToken"),
    (("mock", "stripe"), {"paymentMethodToken": "pm_card_visa"}, "paymentMethodToken"),
    (("stripe",), {"card": None}, "card"),
    (("mock",), {"card": None, "paymentMethodToken": "x\u0000y"}, "paymentMethodToken"),
])
def test_a_token_no_provider_issued_both_a_card_and_a_token_or_no_card_where_one_is_needed_is_refused(
        names, fields, field):
    fleet = Fleet(*names)

    with pytest.raises(ValidationFailed) as refused:
        fleet.submit(**fields)

    assert field in [d.field for d in refused.value.details]
    assert fleet.uow.payments() == []


async def test_a_token_payment_completes_and_shows_the_brand_and_last4_the_provider_reports():
    fleet = Fleet("stripe")
    pid = fleet.submit(card=None, paymentMethodToken="pm_card_visa")

    await fleet.settle()

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.card_brand, payment.card_last4) == ("completed", "visa", "4242")
    assert fleet.calls() == [("charge", "stripe", pid)]  # no tokenization: the client brought the token


# --- the mock's lost answers ------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["4000000000000267", "4000000000000275", "4000000000000259"])
async def test_a_charge_whose_answer_is_lost_ends_completed_with_exactly_one_charge(number: str):
    fleet = Fleet("mock")
    fleet.processor = PaymentProcessor(fleet.uow, fleet.routes, RetryPolicy(), fleet.clock,
                                       ProcessorConfig(owner=OWNER, call_timeout_seconds=0.01), vault=fleet.vault,
                                       sleep=InstantSleep(fleet.clock), run_sync=run_sync)
    inner = fleet.route("mock").provider.inner
    inner._sleep = _real_sleep
    inner.config = MockConfig(min_latency_ms=0, max_latency_ms=0, slow_answer_seconds=0.05)
    pid = fleet.submit(card={**CARD, "number": number})

    await fleet.settle()

    payment = fleet.uow.payment(pid)
    assert payment.status == "completed"
    assert list(fleet.mock_ledger.charges) == [pid]
    assert payment.transaction_id == fleet.mock_ledger.find(pid).transaction_id
    assert [a.kind for a in fleet.uow.state.attempts] == [CallKind.CHARGE, CallKind.LOOKUP]


async def _real_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


# --- inbound provider events ------------------------------------------------------------------------
async def _unknown_at_stripe(fleet: Fleet) -> str:
    fleet.route("stripe").provider.script = [TimeoutError()]
    pid = fleet.submit(card=None, paymentMethodToken="pm_card_visa")
    await fleet.processor.drain()
    assert fleet.uow.payment(pid).needs_lookup
    return pid


async def test_a_provider_event_settles_a_payment_whose_outcome_was_unknown_once():
    fleet = Fleet("stripe")
    pid = await _unknown_at_stripe(fleet)
    events = ProviderEvents(fleet.uow, fleet.clock)
    event = ProviderEvent("stripe", "evt_1", "payment_intent.succeeded", pid, "pi_1", True)

    assert events.receive(event) is Settled.COMPLETED
    assert events.receive(event) is Settled.DUPLICATE

    payment = fleet.uow.payment(pid)
    assert (payment.status, payment.transaction_id, payment.needs_lookup) == ("completed", "pi_1", False)
    assert fleet.uow.event_types(pid).count("payment.completed") == 1


async def test_a_late_or_foreign_provider_event_changes_nothing():
    fleet = Fleet("stripe")
    pid = fleet.submit(card=None, paymentMethodToken="pm_card_visa")
    await fleet.settle()  # completed normally: nothing unknown
    events = ProviderEvents(fleet.uow, fleet.clock)

    late = events.receive(ProviderEvent("stripe", "evt_2", "payment_intent.payment_failed", pid, "pi_x", False,
                                        "card_declined", "declined", permanent=True))
    foreign = events.receive(ProviderEvent("stripe", "evt_3", "payment_intent.succeeded", "pay_nope", "pi_y", True))
    other = events.receive(ProviderEvent("stripe", "evt_4", "customer.created", None, None, None))

    assert (late, foreign, other) == (Settled.IGNORED, Settled.IGNORED, Settled.IGNORED)
    assert fleet.uow.payment(pid).status == "completed"


async def test_a_failed_charge_event_fails_a_declined_unknown_payment_and_frees_a_retryable_one():
    fleet = Fleet("stripe")
    declined = await _unknown_at_stripe(fleet)
    retryable = await _unknown_at_stripe(fleet)
    events = ProviderEvents(fleet.uow, fleet.clock)

    assert events.receive(ProviderEvent("stripe", "evt_5", "payment_intent.payment_failed", declined, "pi_5", False,
                                        "card_declined", "declined", permanent=True)) is Settled.FAILED
    assert events.receive(ProviderEvent("stripe", "evt_6", "payment_intent.payment_failed", retryable, "pi_6",
                                        False, "processing_error", "try again")) is Settled.NOTHING_CHARGED

    assert (fleet.uow.payment(declined).status, fleet.uow.payment(declined).failure_code) == ("failed",
                                                                                           "card_declined")
    freed = fleet.uow.payment(retryable)
    assert (freed.status, freed.needs_lookup) == ("processing", False)
