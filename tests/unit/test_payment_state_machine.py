"""The payment's state machine: legal moves, refused moves, retries with backoff, and events."""

from datetime import timedelta

import pytest

from domain.model.errors import IllegalTransition
from domain.model.payments import TERMINAL, TRANSITIONS, Payment
from domain.model.retry import RetryPolicy
from tests.fakes import T0, make_payment

STATES = sorted(TRANSITIONS)
POLICY = RetryPolicy()
LATER = T0 + timedelta(seconds=5)


def move(payment: Payment, to: str, now=LATER) -> None:
    """Ask the payment to go to `to` through the method that does that move."""
    if to == "processing":
        payment.start_processing(now)
    elif to == "completed":
        payment.complete("txn_1", now)
    elif to == "failed":
        payment.fail("card_declined", "declined", now)
    elif to == "retrying":
        payment.record_failure("processing_error", "try again", True, POLICY, now)
    else:
        raise AssertionError(f"no method moves a payment to {to}")


def test_the_state_machine_is_the_documented_one():
    assert {
        "pending": {"processing"},
        "processing": {"completed", "failed", "retrying"},
        "retrying": {"processing"},
        "completed": set(),
        "failed": set(),
    } == TRANSITIONS
    assert {"completed", "failed"} == TERMINAL


LEGAL = [(a, b) for a in STATES for b in sorted(TRANSITIONS[a])]
# Every pair of states (self-loops included) that is not legal. Nothing moves a payment back to
# `pending`: there is no method for it, so it is not a target here.
ILLEGAL = [(a, b) for a in STATES for b in STATES if b != "pending" and b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("start", "to"), LEGAL)
def test_every_legal_transition_moves_the_payment_and_stamps_the_time(start, to):
    payment = make_payment(status=start)

    move(payment, to)

    assert payment.status == to
    assert payment.updated_at == LATER


@pytest.mark.parametrize(("start", "to"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(start, to):
    payment = make_payment(status=start, retry_count=1)
    before = (payment.status, payment.updated_at, payment.retry_count, payment.attempts,
              payment.transaction_id)

    with pytest.raises(IllegalTransition):
        move(payment, to)

    assert (payment.status, payment.updated_at, payment.retry_count, payment.attempts,
            payment.transaction_id) == before
    assert payment.events == []


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_a_terminal_payment_never_changes_again(terminal):
    payment = make_payment(status=terminal)

    for to in STATES:
        if to == "pending":
            continue
        with pytest.raises(IllegalTransition):
            move(payment, to)

    assert payment.status == terminal
    assert payment.terminal


def test_a_permanent_failure_on_a_terminal_payment_is_refused_too():
    payment = make_payment(status="completed")

    with pytest.raises(IllegalTransition):
        payment.record_failure("card_declined", "declined", False, POLICY, LATER)

    assert payment.status == "completed"


def test_starting_to_process_counts_the_attempt_and_clears_the_next_attempt_time():
    payment = make_payment(status="retrying", next_attempt_at=T0)

    payment.start_processing(LATER)

    assert payment.attempts == 1
    assert payment.next_attempt_at is None


def test_a_retryable_error_schedules_the_next_attempt_after_one_then_two_then_four_seconds():
    payment = make_payment(status="pending")
    now = T0
    waits = []

    for _ in range(3):
        payment.start_processing(now)
        payment.record_failure("processing_error", "try again", True, POLICY, now)
        assert payment.status == "retrying"
        waits.append(payment.next_attempt_at - now)
        now = payment.next_attempt_at

    assert waits == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    assert payment.retry_count == 3
    assert (payment.failure_code, payment.failure_message) == ("processing_error", "try again")


def test_after_three_retries_a_retryable_error_fails_the_payment():
    payment = make_payment(status="processing", retry_count=3)

    payment.record_failure("processing_error", "try again", True, POLICY, LATER)

    assert payment.status == "failed"
    assert payment.retry_count == 3
    assert payment.failure_code == "processing_error"
    assert [e.type for e in payment.events] == ["payment.failed"]


def test_a_permanent_error_fails_at_once_without_a_retry():
    payment = make_payment(status="processing")

    payment.record_failure("card_declined", "The card was declined.", False, POLICY, LATER)

    assert payment.status == "failed"
    assert payment.retry_count == 0
    assert payment.next_attempt_at is None
    assert (payment.failure_code, payment.failure_message) == ("card_declined", "The card was declined.")


def test_completing_records_the_transaction_clears_an_earlier_failure_and_releases_the_lease():
    payment = make_payment(status="processing", failure_code="processing_error", failure_message="x",
                           lease_owner="worker-1", lease_expires_at=LATER)

    payment.complete("txn_42", LATER)

    assert payment.transaction_id == "txn_42"
    assert payment.completed_at == LATER
    assert (payment.failure_code, payment.failure_message) == (None, None)
    assert (payment.lease_owner, payment.lease_expires_at) == (None, None)


@pytest.mark.parametrize("outcome", ["failed", "retrying"])
def test_a_failure_releases_the_lease(outcome):
    payment = make_payment(status="processing", lease_owner="worker-1", lease_expires_at=LATER)

    move(payment, outcome)

    assert (payment.lease_owner, payment.lease_expires_at) == (None, None)


def test_each_transition_emits_one_event_of_the_right_type_with_the_new_state():
    payment = make_payment(status="pending", customer_id="usr_alice")

    payment.record_created(T0)
    payment.start_processing(T0)
    payment.record_failure("processing_error", "try again", True, POLICY, T0)
    payment.start_processing(T0 + timedelta(seconds=1))
    payment.complete("txn_1", T0 + timedelta(seconds=1))

    assert [e.type for e in payment.events] == [
        "payment.created", "payment.processing", "payment.retry", "payment.processing", "payment.completed"]
    assert [e.data["status"] for e in payment.events] == [
        "pending", "processing", "retrying", "processing", "completed"]
    assert {(e.aggregate_id, e.customer_id) for e in payment.events} == {(payment.id, "usr_alice")}
    assert len({e.id for e in payment.events}) == 5
    assert payment.events[2].data["nextAttemptAt"] == "2026-01-01T00:00:01.000Z"


def test_a_refused_transition_emits_no_event():
    payment = make_payment(status="pending")

    with pytest.raises(IllegalTransition):
        payment.complete("txn_1", LATER)

    assert payment.events == []


def test_the_public_view_shows_only_brand_and_last4_of_the_card_and_never_the_token():
    payment = make_payment(status="pending", card_brand="visa", card_last4="4242",
                           card_tokens={"mock": "tok_secret_1"})

    shown = payment.public()

    assert shown["card"] == {"brand": "visa", "last4": "4242"}
    assert "tok_secret_1" not in repr(shown)
    assert shown["createdAt"].endswith("Z")
