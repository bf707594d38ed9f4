"""The mock provider with a fake ledger, a fake clock and an instant sleep: every API.md test card."""

import random

import pytest

from domain.clock import FakeClock
from domain.model.cards import CardInput
from domain.model.providers import ChargeRequest
from domain.services.mock_provider import MockConfig, MockProvider
from tests.fakes import T0, FakeLedger, InstantSleep, run_sync


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def sleep(clock) -> InstantSleep:
    return InstantSleep(clock)


def make_provider(ledger, clock, sleep, **config) -> MockProvider:
    config = {"min_latency_ms": 0, "max_latency_ms": 0, **config}
    return MockProvider(ledger, clock, MockConfig(**config), rng=random.Random(7), sleep=sleep,
                        run_sync=run_sync)


@pytest.fixture
def provider(ledger, clock, sleep) -> MockProvider:
    return make_provider(ledger, clock, sleep)


def card(number: str) -> CardInput:
    return CardInput.parse({"number": number, "expMonth": 12, "expYear": 2030, "cvc": "123"}, T0)


def request(provider: MockProvider, number: str | None, payment_id: str = "pay_1") -> ChargeRequest:
    token = provider.tokenize(card(number)).token if number else None
    return ChargeRequest(payment_id, 2500, "USD", token, "credit_card")


@pytest.mark.parametrize("number", ["4242424242424242", "5555555555554444", "4111111111111111"])
async def test_an_approving_card_is_charged_once_in_the_ledger(provider, ledger, clock, number):
    result = await provider.charge(request(provider, number))

    assert result.approved
    assert result.transaction_id.startswith("txn_")
    charge = ledger.find("pay_1")
    assert (charge.amount, charge.currency, charge.transaction_id) == (2500, "USD", result.transaction_id)
    assert charge.charged_at == clock.now()


@pytest.mark.parametrize(("number", "code"), [
    ("4000000000000002", "card_declined"),
    ("4000000000009995", "insufficient_funds"),
    ("4000000000000069", "expired_card"),
])
async def test_a_permanently_failing_card_is_not_retryable_and_charges_nothing(
        provider, ledger, number, code):
    first = await provider.charge(request(provider, number))
    second = await provider.charge(request(provider, number))

    assert (first.approved, first.code, first.retryable) == (False, code, False)
    assert first.message
    assert second.code == code
    assert ledger.charges == {}


async def test_the_0119_card_fails_with_a_retryable_processing_error_on_every_attempt(provider, ledger):
    req = request(provider, "4000000000000119")

    results = [await provider.charge(req) for _ in range(6)]

    assert {(r.approved, r.code, r.retryable) for r in results} == {(False, "processing_error", True)}
    assert ledger.charges == {}


async def test_the_0341_card_fails_twice_then_approves(provider, ledger):
    req = request(provider, "4000000000000341")

    results = [await provider.charge(req) for _ in range(3)]

    assert [(r.approved, r.code) for r in results] == [
        (False, "processing_error"), (False, "processing_error"), (True, None)]
    assert results[0].retryable and results[1].retryable
    assert list(ledger.charges) == ["pay_1"]


async def test_the_0341_card_counts_attempts_per_payment(provider):
    first = await provider.charge(request(provider, "4000000000000341", "pay_a"))
    other = await provider.charge(request(provider, "4000000000000341", "pay_b"))

    assert not first.approved
    assert not other.approved  # pay_a's failure does not use up pay_b's


async def test_the_0259_card_charges_and_then_answers_after_the_slow_answer_time(ledger, clock, sleep):
    provider = make_provider(ledger, clock, sleep, slow_answer_seconds=3.0)
    received_at = clock.now()

    result = await provider.charge(request(provider, "4000000000000259"))

    assert result.approved
    assert sleep.delays == [3.0]
    assert ledger.find("pay_1").charged_at == received_at  # charged on receipt, before the late answer


async def test_the_0259_card_answers_the_retry_at_once_with_the_same_charge(ledger, clock, sleep):
    provider = make_provider(ledger, clock, sleep, slow_answer_seconds=3.0)
    req = request(provider, "4000000000000259")
    first = await provider.charge(req)

    again = await provider.charge(req)

    assert again.transaction_id == first.transaction_id
    assert sleep.delays == [3.0]  # the second answer was not slow
    assert len(ledger.charges) == 1


async def test_a_repeated_charge_with_the_same_key_returns_the_same_transaction_and_charges_once(
        provider, ledger):
    req = request(provider, "4242424242424242")

    results = [await provider.charge(req) for _ in range(3)]

    assert len({r.transaction_id for r in results}) == 1
    assert all(r.approved for r in results)
    assert len(ledger.list(None, 100)) == 1


async def test_different_payments_get_different_charges(provider, ledger):
    a = await provider.charge(request(provider, "4242424242424242", "pay_a"))
    b = await provider.charge(request(provider, "4242424242424242", "pay_b"))

    assert a.transaction_id != b.transaction_id
    assert {c.payment_id for c in ledger.list(None, 100)} == {"pay_a", "pay_b"}


async def test_a_charge_without_a_card_is_approved(provider, ledger):
    result = await provider.charge(request(provider, None))

    assert result.approved
    assert ledger.find("pay_1") is not None


async def test_a_failure_rate_of_one_answers_provider_unavailable_retryable(ledger, clock, sleep):
    provider = make_provider(ledger, clock, sleep, failure_rate=1.0)

    results = [await provider.charge(request(provider, "4242424242424242", f"pay_{i}")) for i in range(5)]

    assert {(r.approved, r.code, r.retryable) for r in results} == {(False, "provider_unavailable", True)}
    assert ledger.charges == {}


async def test_a_failure_rate_does_not_undo_a_charge_already_made(ledger, clock, sleep):
    req = request(make_provider(ledger, clock, sleep), "4242424242424242")
    first = await make_provider(ledger, clock, sleep).charge(req)

    replay = await make_provider(ledger, clock, sleep, failure_rate=1.0).charge(req)

    assert replay.approved and replay.transaction_id == first.transaction_id


async def test_the_simulated_latency_stays_within_the_configured_bounds(ledger, clock, sleep):
    provider = make_provider(ledger, clock, sleep, min_latency_ms=50, max_latency_ms=150)

    for i in range(20):
        await provider.charge(request(provider, "4242424242424242", f"pay_{i}"))

    assert len(sleep.delays) == 20
    assert all(0.05 <= d <= 0.15 for d in sleep.delays)


def test_tokenizing_keeps_only_brand_and_last4_and_a_token_without_the_number(provider):
    token = provider.tokenize(card("5555555555554444"))

    assert (token.brand, token.last4) == ("mastercard", "4444")
    assert token.token.startswith("tok_")
    pan = "5555555555554444"
    assert not any(pan[i:i + 8] in token.token for i in range(len(pan) - 7))  # not even a part of it


def test_two_tokens_of_the_same_card_differ(provider):
    first = provider.tokenize(card("4242424242424242"))

    second = provider.tokenize(card("4242424242424242"))

    assert first.token != second.token


@pytest.mark.parametrize("token", [None, "", "not-a-token", "tok_approve_abc"])
def test_a_missing_or_foreign_token_is_treated_as_an_approving_card(token):
    assert MockProvider.scenario_of(token) == "approve"
