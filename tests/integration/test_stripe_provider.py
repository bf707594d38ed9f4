"""The Stripe adapter end to end: against a real localstripe process, and against small local servers
for what localstripe cannot show (Stripe's decline codes, its 5xx and 429, search, a dropped connection,
a server that never answers, a closed port)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.stripe_provider import PAYMENT_ID, REFUND_ID, RefundSeen, StripeProvider, parse_webhook
from domain.model.cards import CardInput
from domain.model.providers import NOT_CHARGED, NOT_REFUNDED, CallResult, ChargeRequest, Outcome, RefundRequest
from tests.integration.localstripe import DROP, TEST_KEY, closed_port, configure_webhook, silent_server, stub_server

VISA = "4242424242424242"
LOCALSTRIPE_DECLINE = "4000000000000341"  # localstripe declines this one when it is charged: card_declined
NEEDS_3DS = "4000002500003155"  # localstripe asks for 3-D Secure (requires_action)

# The SDK hands httpx its form bodies as `data=`, which httpx 0.28 deprecates; nothing this code can change.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")


def card(number: str, exp_year: int = 2030) -> CardInput:
    return CardInput(number=number, exp_month=12, exp_year=exp_year, cvc="123")


def payment_id() -> str:
    return f"pay_{uuid.uuid4().hex[:20]}"


def charge_request(token: str | None, key: str | None = None, amount: int = 1500) -> ChargeRequest:
    return ChargeRequest(idempotency_key=key or payment_id(), amount=amount, currency="USD", card_token=token,
                         payment_method="credit_card")


@pytest.fixture
async def provider(localstripe_url: str) -> AsyncIterator[StripeProvider]:
    adapter = StripeProvider(TEST_KEY, localstripe_url, timeout_seconds=2.0)
    yield adapter
    await adapter.aclose()


async def token_for(provider: StripeProvider, number: str) -> str:
    made = await provider.create_token(card(number))
    assert made.approved and made.card_token, made
    return made.card_token


async def charged(provider: StripeProvider, number: str = VISA) -> tuple[ChargeRequest, CallResult]:
    request = charge_request(await token_for(provider, number))
    return request, await provider.charge(request)


# --- localstripe ------------------------------------------------------------------------------------

async def test_a_test_card_becomes_a_payment_method_and_its_charge_is_approved_with_the_payment_intent(
        provider: StripeProvider) -> None:
    made = await provider.create_token(card(VISA))

    request = charge_request(made.card_token)
    result = await provider.charge(request)

    assert (made.outcome, made.card_brand, made.card_last4) == (Outcome.APPROVED, "visa", "4242")
    assert made.card_token is not None and provider.owns_token(made.card_token)
    assert result.outcome is Outcome.APPROVED
    assert result.transaction_id is not None and result.transaction_id.startswith("pi_")
    assert (result.card_token, result.card_brand, result.card_last4) == (made.card_token, "visa", "4242")


@pytest.mark.parametrize(("number", "code"), [(LOCALSTRIPE_DECLINE, "card_declined"),
                                              (NEEDS_3DS, "authentication_required")])
async def test_localstripes_decline_cards_are_declined_with_their_code(provider: StripeProvider, number: str,
                                                                       code: str) -> None:
    _, result = await charged(provider, number)

    assert (result.outcome, result.code) == (Outcome.DECLINED, code)
    assert result.transaction_id is None


@pytest.mark.parametrize(("token", "outcome"), [("pm_card_visa", Outcome.APPROVED),
                                               ("pm_card_chargeCustomerFail", Outcome.DECLINED)])
async def test_a_client_token_goes_to_stripe_as_it_is(provider: StripeProvider, token: str,
                                                      outcome: Outcome) -> None:
    result = await provider.charge(charge_request(token))

    assert provider.owns_token(token)
    assert result.outcome is outcome


async def test_a_card_stripe_will_not_take_is_declined_when_it_is_tokenized(provider: StripeProvider) -> None:
    result = await provider.create_token(card(VISA, exp_year=2018))  # localstripe: years before 2019

    assert (result.outcome, result.code, result.card_token) == (Outcome.DECLINED, "invalid_expiry_year", None)


async def test_a_lookup_after_a_charge_finds_the_same_payment_intent(provider: StripeProvider) -> None:
    request, result = await charged(provider)

    found = await provider.lookup(request)

    assert (found.outcome, found.transaction_id) == (Outcome.APPROVED, result.transaction_id)


async def test_a_payment_never_charged_is_not_charged(provider: StripeProvider) -> None:
    await charged(provider)  # another payment's charge is there, and is not this one

    found = await provider.lookup(charge_request("pm_unused"))

    assert (found.outcome, found.code) == (Outcome.DECLINED, NOT_CHARGED)


async def test_a_declined_charge_is_not_charged_on_lookup(provider: StripeProvider) -> None:
    request, result = await charged(provider, LOCALSTRIPE_DECLINE)

    found = await provider.lookup(request)

    assert result.outcome is Outcome.DECLINED
    assert (found.outcome, found.code) == (Outcome.DECLINED, NOT_CHARGED)


async def test_a_refund_is_approved_with_a_refund_id_and_found_again_by_its_own_id(provider: StripeProvider) -> None:
    request, result = await charged(provider)
    assert result.transaction_id is not None
    refund = RefundRequest(idempotency_key=f"re_{uuid.uuid4().hex[:16]}", payment_id=request.idempotency_key,
                           transaction_id=result.transaction_id, amount=500, currency="USD")

    refunded = await provider.refund(refund)
    found = await provider.lookup_refund(refund)
    other = await provider.lookup_refund(RefundRequest("re_other", request.idempotency_key, result.transaction_id,
                                                       500, "USD"))

    assert refunded.outcome is Outcome.APPROVED
    assert refunded.transaction_id is not None and refunded.transaction_id.startswith("re_")
    assert (found.outcome, found.transaction_id) == (Outcome.APPROVED, refunded.transaction_id)
    assert (other.outcome, other.code) == (Outcome.DECLINED, NOT_REFUNDED)


async def test_a_refund_of_a_charge_stripe_does_not_know_is_declined(provider: StripeProvider) -> None:
    result = await provider.refund(RefundRequest("re_x", "pay_x", "pi_doesnotexist", 500, "USD"))

    assert result.outcome is Outcome.DECLINED


async def test_localstripe_posts_a_signed_payment_intent_succeeded_that_parse_webhook_verifies(
        provider: StripeProvider, localstripe_url: str) -> None:
    secret = "whsec_paygate_test"
    with stub_server() as receiver:
        configure_webhook(localstripe_url, "paygate-test", f"{receiver.url}/hook", secret,
                          ["payment_intent.succeeded"])
        try:
            request, result = await charged(provider)
            post = receiver.wait_for(lambda r: request.idempotency_key.encode() in r.body, timeout=10)
        finally:
            configure_webhook(localstripe_url, "paygate-test", f"{receiver.url}/hook", secret, [])  # no more

    assert post is not None, "localstripe sent no payment_intent.succeeded for the charge"
    event = parse_webhook(post.body, post.headers["stripe-signature"], secret)
    assert (event.type, event.payment_id, event.transaction_id) == (
        "payment_intent.succeeded", request.idempotency_key, result.transaction_id)
    assert event.id.startswith("evt_")
    with pytest.raises(ValueError, match="does not match"):
        parse_webhook(post.body, post.headers["stripe-signature"], "whsec_someone_else")


def _signed(event: dict[str, Any], secret: str) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    t = int(time.time())
    return body, f"t={t},v1={hmac.new(secret.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


def test_a_charge_refunded_event_names_its_refunds_only_where_the_charge_lists_them() -> None:
    secret = "whsec_paygate_test"
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "metadata": {PAYMENT_ID: "pay_1"},
              "amount_refunded": 500}
    listed = {**charge, "refunds": {"object": "list", "data": [
        {"id": "re_1", "object": "refund", "status": "succeeded", "metadata": {REFUND_ID: "rf_1"}}]}}
    refund = {"id": "re_2", "object": "refund", "status": "failed", "payment_intent": "pi_1",
              "failure_reason": "expired_or_canceled_card", "metadata": {REFUND_ID: "rf_2", PAYMENT_ID: "pay_1"}}

    current = parse_webhook(*_signed({"id": "evt_1", "object": "event", "type": "charge.refunded",
                                      "data": {"object": charge}}, secret), secret)  # API 2022-11-15 and later
    older = parse_webhook(*_signed({"id": "evt_2", "object": "event", "type": "charge.refunded",
                                    "data": {"object": listed}}, secret), secret)
    updated = parse_webhook(*_signed({"id": "evt_3", "object": "event", "type": "refund.updated",
                                      "data": {"object": refund}}, secret), secret)

    assert (current.type, current.payment_id, current.transaction_id, current.refund_ids) == (
        "charge.refunded", "pay_1", "pi_1", ())
    assert older.refund_ids == (RefundSeen("re_1", "rf_1", "succeeded"),)
    assert (updated.payment_id, updated.refund_ids) == ("pay_1", (RefundSeen("re_2", "rf_2", "failed"),))
    assert (updated.failure_code, updated.permanent) == ("expired_or_canceled_card", True)


# --- the network failing --------------------------------------------------------------------------

async def test_a_refused_connection_is_a_retryable_error_for_every_call() -> None:
    with closed_port() as url:
        adapter = StripeProvider(TEST_KEY, url)
        results = [await adapter.create_token(card(VISA)), await adapter.charge(charge_request("pm_x")),
                   await adapter.lookup(charge_request("pm_x"))]
        await adapter.aclose()

    assert {(r.outcome, r.code) for r in results} == {(Outcome.ERROR, "provider_unreachable")}


async def test_a_server_that_never_answers_leaves_a_charge_unknown_within_about_the_timeout() -> None:
    with silent_server() as url:
        adapter = StripeProvider(TEST_KEY, url, timeout_seconds=0.5)
        started = time.monotonic()
        charge = await adapter.charge(charge_request("pm_x"))
        elapsed = time.monotonic() - started
        token = await adapter.create_token(card(VISA))
        await adapter.aclose()

    assert (charge.outcome, charge.code) == (Outcome.UNKNOWN, "provider_timeout")
    assert 0.4 <= elapsed < 1.5
    assert (token.outcome, token.code) == (Outcome.ERROR, "provider_timeout")  # a lost token moves no money


async def test_a_connection_dropped_after_the_request_leaves_a_charge_unknown() -> None:
    with stub_server({("POST", "/v1/payment_intents"): DROP}) as stub:
        adapter = StripeProvider(TEST_KEY, stub.url)
        result = await adapter.charge(charge_request("pm_x"))
        await adapter.aclose()

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "connection_lost")


# --- Stripe's own answers, which localstripe does not give ----------------------------------------

def card_error(code: str, decline_code: str | None = None) -> tuple[int, Any]:
    error = {"type": "card_error", "code": code, "message": "Your card was declined.", "decline_code": decline_code}
    return 402, {"error": {k: v for k, v in error.items() if v is not None}}


def intent(pi_id: str, key: str, status: str = "succeeded") -> dict[str, Any]:
    return {"id": pi_id, "object": "payment_intent", "status": status, "created": 1_700_000_000,
            "amount": 1500, "currency": "usd", "metadata": {PAYMENT_ID: key}}


def listing(*items: dict[str, Any], kind: str = "list") -> dict[str, Any]:
    return {"object": kind, "data": list(items), "has_more": False, "url": "/v1/payment_intents"}


async def answer_to_charge(status: int, body: Any) -> CallResult:
    with stub_server({("POST", "/v1/payment_intents"): (status, body)}) as stub:
        adapter = StripeProvider(TEST_KEY, stub.url)
        result = await adapter.charge(charge_request("pm_x"))
        await adapter.aclose()
    return result


@pytest.mark.parametrize(("answer", "outcome", "code"), [
    (card_error("card_declined", "insufficient_funds"), Outcome.DECLINED, "insufficient_funds"),
    (card_error("card_declined", "lost_card"), Outcome.DECLINED, "card_declined"),
    (card_error("expired_card"), Outcome.DECLINED, "expired_card"),
    (card_error("incorrect_cvc"), Outcome.DECLINED, "incorrect_cvc"),
    (card_error("processing_error"), Outcome.ERROR, "processing_error"),
    ((429, {"error": {"type": "invalid_request_error", "code": "rate_limit"}}), Outcome.ERROR,
     "provider_rate_limited"),
    ((500, {"error": {"type": "api_error", "message": "Something went wrong"}}), Outcome.UNKNOWN, "provider_error"),
    ((401, {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {TEST_KEY}"}}),
     Outcome.ERROR, "provider_auth_failed"),
])
async def test_stripes_answers_to_a_charge_map_through_the_error_table(answer: tuple[int, Any], outcome: Outcome,
                                                                        code: str) -> None:
    result = await answer_to_charge(*answer)

    assert (result.outcome, result.code) == (outcome, code)
    assert TEST_KEY not in (result.message or "") and "sk_" not in (result.message or "")


async def test_a_charge_sends_the_payment_id_as_idempotency_key_and_metadata() -> None:
    with stub_server({("POST", "/v1/payment_intents"): (200, intent("pi_1", "pay_abc"))}) as stub:
        adapter = StripeProvider(TEST_KEY, stub.url)
        result = await adapter.charge(charge_request("pm_card", key="pay_abc", amount=1234))
        await adapter.aclose()

    sent = stub.received[0]
    assert (result.outcome, result.transaction_id) == (Outcome.APPROVED, "pi_1")
    assert sent.headers["idempotency-key"] == "pay_abc"
    assert {k: v[0] for k, v in sent.form.items()}.items() >= {
        "amount": "1234", "currency": "usd", "payment_method": "pm_card", "confirm": "true",
        f"metadata[{PAYMENT_ID}]": "pay_abc"}.items()


async def test_a_lookup_uses_stripes_search_where_there_is_one() -> None:
    answers = {("GET", "/v1/payment_intents/search"): (200, listing(intent("pi_found", "pay_s"),
                                                                    kind="search_result"))}
    with stub_server(answers) as stub:
        adapter = StripeProvider(TEST_KEY, stub.url)
        result = await adapter.lookup(charge_request("pm_x", key="pay_s"))
        await adapter.aclose()

    assert (result.outcome, result.transaction_id) == (Outcome.APPROVED, "pi_found")
    assert stub.received[0].query["query"] == [f"metadata['{PAYMENT_ID}']:'pay_s'"]


async def test_a_lookup_lists_the_newest_when_search_has_not_caught_up() -> None:
    answers = {("GET", "/v1/payment_intents/search"): (200, listing(kind="search_result")),
               ("GET", "/v1/payment_intents"): (200, listing(intent("pi_other", "pay_o"), intent("pi_new", "pay_n")))}
    with stub_server(answers) as stub:
        adapter = StripeProvider(TEST_KEY, stub.url)
        result = await adapter.lookup(charge_request("pm_x", key="pay_n"))
        await adapter.aclose()

    assert (result.outcome, result.transaction_id) == (Outcome.APPROVED, "pi_new")
    assert [r.path for r in stub.received] == ["/v1/payment_intents/search", "/v1/payment_intents"]


async def test_a_lookup_that_finds_a_charge_still_processing_cannot_tell() -> None:
    answers = {("GET", "/v1/payment_intents/search"): (200, listing(intent("pi_p", "pay_p", "processing"),
                                                                    kind="search_result"))}
    with stub_server(answers) as stub:
        adapter = StripeProvider(TEST_KEY, stub.url)
        result = await adapter.lookup(charge_request("pm_x", key="pay_p"))
        await adapter.aclose()

    assert result.outcome is Outcome.UNKNOWN


async def test_a_card_never_reaches_a_message_when_stripe_refuses_the_key() -> None:
    answers = {("POST", "/v1/payment_methods"): (401, {"error": {"type": "invalid_request_error",
                                                                 "message": "Invalid API Key provided: sk_x"}})}
    with stub_server(answers) as stub:
        adapter = StripeProvider(TEST_KEY, stub.url)
        result = await adapter.create_token(card(VISA))
        await adapter.aclose()

    assert (result.outcome, result.code) == (Outcome.ERROR, "provider_auth_failed")
    assert VISA not in repr(result) and "123" not in (result.message or "") and TEST_KEY not in repr(adapter)
    assert stub.received[0].form["card[number]"] == [VISA]  # it went to Stripe, and only there
