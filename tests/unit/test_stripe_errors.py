"""What Stripe's errors and webhooks mean to PayGate, judged without a network: the adapter's error table,
and the signature check of inbound webhooks on payloads signed here as Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
import pytest
import stripe

from app.stripe_provider import (
    ERRORS,
    PAYMENT_ID,
    REFUND_ID,
    RefundSeen,
    Rule,
    StripeProvider,
    classify,
    parse_webhook,
    rule_for,
)
from domain.model.providers import CallKind, Outcome

SECRET = "whsec_test_secret_for_paygate"


def card_error(code: str, decline_code: str | None = None,
               message: str = "Your card was declined.") -> stripe.CardError:
    error = {"type": "card_error", "code": code, "message": message}
    if decline_code:
        error["decline_code"] = decline_code
    return stripe.CardError(message, None, code, http_status=402, json_body={"error": error})


def connection_error(cause: Exception) -> stripe.APIConnectionError:
    try:
        try:
            raise cause
        except Exception as e:
            raise stripe.APIConnectionError("Unexpected error communicating with Stripe.") from e
    except stripe.APIConnectionError as wrapped:
        return wrapped


REQUEST = httpx.Request("POST", "https://api.stripe.com/v1/payment_intents")


# --- the card's answer -------------------------------------------------------------------------------

@pytest.mark.parametrize(("decline_code", "code"), [
    ("insufficient_funds", "insufficient_funds"),
    ("generic_decline", "card_declined"),
    ("do_not_honor", "card_declined"),  # a reason the table does not name
    (None, "card_declined"),
])
def test_a_declined_card_is_declined_with_its_decline_code_where_the_table_names_it(decline_code: str | None,
                                                                                     code: str) -> None:
    result = classify(card_error("card_declined", decline_code), CallKind.CHARGE)

    assert (result.outcome, result.code) == (Outcome.DECLINED, code)


@pytest.mark.parametrize("decline_code", ["lost_card", "stolen_card", "fraudulent", "pickup_card"])
def test_reasons_stripe_asks_to_keep_from_the_customer_are_a_plain_decline(decline_code: str) -> None:
    result = classify(card_error("card_declined", decline_code), CallKind.CHARGE)

    assert (result.outcome, result.code, result.message) == (Outcome.DECLINED, "card_declined",
                                                             "The card was declined.")


@pytest.mark.parametrize("code", ["expired_card", "incorrect_cvc", "invalid_cvc", "incorrect_number",
                                  "invalid_number", "invalid_expiry_month", "invalid_expiry_year",
                                  "insufficient_funds"])
def test_a_card_error_code_is_a_decline_under_the_same_code(code: str) -> None:
    result = classify(card_error(code), CallKind.CHARGE)

    assert (result.outcome, result.code) == (Outcome.DECLINED, code)


def test_a_card_error_code_the_table_does_not_know_is_a_plain_decline() -> None:
    result = classify(card_error("some_new_code"), CallKind.CHARGE)

    assert (result.outcome, result.code) == (Outcome.DECLINED, "card_declined")


@pytest.mark.parametrize(("code", "decline_code"), [("processing_error", None), ("card_declined", "try_again_later"),
                                                    ("card_declined", "issuer_not_available")])
def test_a_decline_that_a_later_attempt_may_pass_is_retryable(code: str, decline_code: str | None) -> None:
    result = classify(card_error(code, decline_code), CallKind.CHARGE)

    assert result.outcome is Outcome.ERROR


def test_localstripes_bad_expiry_year_a_400_with_a_code_is_declined_like_stripes_402() -> None:
    error = stripe.InvalidRequestError("Bad request", None, "invalid_expiry_year", http_status=400,
                                       json_body={"error": {"code": "invalid_expiry_year", "message": "Bad request"}})

    result = classify(error, CallKind.TOKENIZE)

    assert (result.outcome, result.code) == (Outcome.DECLINED, "invalid_expiry_year")


# --- Stripe's own state ------------------------------------------------------------------------------

def test_a_rate_limit_is_retryable_because_stripe_limits_before_it_acts() -> None:
    result = classify(stripe.RateLimitError("Too many requests", http_status=429), CallKind.CHARGE)

    assert (result.outcome, result.code) == (Outcome.ERROR, "provider_rate_limited")


@pytest.mark.parametrize(("kind", "outcome"), [(CallKind.CHARGE, Outcome.UNKNOWN), (CallKind.REFUND, Outcome.UNKNOWN),
                                               (CallKind.LOOKUP, Outcome.UNKNOWN), (CallKind.TOKENIZE, Outcome.ERROR)])
def test_a_5xx_may_have_acted_so_it_is_unknown_except_for_a_token(kind: CallKind, outcome: Outcome) -> None:
    result = classify(stripe.APIError("Something went wrong", http_status=500), kind)

    assert (result.outcome, result.code) == (outcome, "provider_error")


def test_a_bad_api_key_is_retryable_and_never_quoted() -> None:
    error = stripe.AuthenticationError("Invalid API Key provided: sk_test_****cret", http_status=401)

    result = classify(error, CallKind.CHARGE)

    assert (result.outcome, result.code) == (Outcome.ERROR, "provider_auth_failed")
    assert "sk_" not in (result.message or "")


def test_a_key_without_permission_is_retryable() -> None:
    result = classify(stripe.PermissionError("The provided key does not have access", http_status=403),
                      CallKind.REFUND)

    assert (result.outcome, result.code) == (Outcome.ERROR, "provider_permission_denied")


def test_an_invalid_request_is_declined_for_good_with_its_code_when_the_table_names_it() -> None:
    missing = stripe.InvalidRequestError("No such PaymentMethod", "payment_method", "resource_missing",
                                         http_status=404)
    bare = stripe.InvalidRequestError("Bad request", None, None, http_status=400)

    assert (classify(missing, CallKind.CHARGE).outcome, classify(missing, CallKind.CHARGE).code) == (
        Outcome.DECLINED, "resource_missing")
    assert (classify(bare, CallKind.CHARGE).outcome, classify(bare, CallKind.CHARGE).code) == (
        Outcome.DECLINED, "invalid_request")


def test_a_lookup_that_stripe_refuses_cannot_tell_rather_than_saying_nothing_was_charged() -> None:
    refused = stripe.InvalidRequestError("Unexpected parameter", None, None, http_status=400)

    result = classify(refused, CallKind.LOOKUP)

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "invalid_request")


def test_an_idempotency_conflict_is_unknown_so_the_earlier_request_is_looked_up() -> None:
    result = classify(stripe.IdempotencyError("Keys for idempotent requests can only be used with the same "
                                              "parameters", http_status=400), CallKind.CHARGE)

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "idempotency_conflict")


# --- the connection ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cause", "outcome", "code"), [
    (httpx.ConnectError("Connection refused", request=REQUEST), Outcome.ERROR, "provider_unreachable"),
    (httpx.ConnectTimeout("timed out", request=REQUEST), Outcome.ERROR, "provider_unreachable"),
    (httpx.ReadTimeout("timed out", request=REQUEST), Outcome.UNKNOWN, "provider_timeout"),
    (httpx.WriteTimeout("timed out", request=REQUEST), Outcome.UNKNOWN, "provider_timeout"),
    (httpx.RemoteProtocolError("Server disconnected", request=REQUEST), Outcome.UNKNOWN, "connection_lost"),
    (httpx.ReadError("Connection reset by peer", request=REQUEST), Outcome.UNKNOWN, "connection_lost"),
])
def test_a_connection_error_is_retryable_only_when_the_request_never_left(cause: Exception, outcome: Outcome,
                                                                          code: str) -> None:
    result = classify(connection_error(cause), CallKind.CHARGE)

    assert (result.outcome, result.code) == (outcome, code)


def test_a_connection_error_with_no_cause_to_read_is_unknown() -> None:
    result = classify(stripe.APIConnectionError("Network error"), CallKind.CHARGE)

    assert result.outcome is Outcome.UNKNOWN


# --- the table itself --------------------------------------------------------------------------------

def test_every_stripe_error_class_finds_a_rule() -> None:
    errors = [stripe.StripeError("x"), stripe.APIError("x"), stripe.APIConnectionError("x"),
              stripe.CardError("x", None, None), stripe.IdempotencyError("x"), stripe.InvalidRequestError("x", None),
              stripe.AuthenticationError("x"), stripe.PermissionError("x"), stripe.RateLimitError("x"),
              stripe.SignatureVerificationError("x", "header")]

    assert all(isinstance(rule_for(error), Rule) for error in errors)


def test_no_message_of_the_table_repeats_what_stripe_said() -> None:
    said = "Your card number 4242424242424242 with CVC 123 was refused for sk_live_abcdef"
    errors: list[stripe.StripeError] = [card_error("card_declined", "insufficient_funds", said),
                                        stripe.AuthenticationError(said, http_status=401),
                                        stripe.APIError(said, http_status=500),
                                        stripe.InvalidRequestError(said, None, None, http_status=400)]

    messages = [classify(error, CallKind.CHARGE).message or "" for error in errors]

    assert all(message in {rule.message for rule in ERRORS.values()} for message in messages)


def test_a_provider_refuses_stripe_debug_logging_which_would_print_card_numbers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_LOG", "debug")

    with pytest.raises(ValueError, match="STRIPE_LOG"):
        StripeProvider("sk_test_x")


def test_a_provider_keeps_the_sdk_logger_above_debug_and_its_key_out_of_its_repr() -> None:
    provider = StripeProvider("sk_test_do_not_show", "http://127.0.0.1:9")

    assert logging.getLogger("stripe").getEffectiveLevel() >= logging.INFO
    assert "sk_test" not in repr(provider)


# --- inbound webhooks --------------------------------------------------------------------------------

def signed(event: dict[str, Any], secret: str = SECRET, at: int | None = None) -> tuple[bytes, str]:
    """A body and its Stripe-Signature header, computed as Stripe computes them."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={mac}"


def event_of(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_1", "object": "event", "type": kind, "data": {"object": obj}}


SUCCEEDED = event_of("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent", "status": "succeeded",
                                                  "metadata": {PAYMENT_ID: "pay_1"}})


def test_a_signed_payment_intent_succeeded_names_the_payment_and_its_payment_intent() -> None:
    event = parse_webhook(*signed(SUCCEEDED), SECRET)

    assert (event.id, event.type, event.payment_id, event.transaction_id) == (
        "evt_1", "payment_intent.succeeded", "pay_1", "pi_1")
    assert (event.refund_ids, event.failure_code, event.permanent) == ((), None, False)


def test_a_payment_failed_carries_paygates_code_for_the_decline() -> None:
    obj = {"id": "pi_2", "object": "payment_intent", "status": "requires_payment_method",
           "metadata": {PAYMENT_ID: "pay_2"},
           "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds",
                                  "message": "Your card has insufficient funds."}}

    event = parse_webhook(*signed(event_of("payment_intent.payment_failed", obj)), SECRET)

    assert (event.payment_id, event.failure_code, event.failure_message, event.permanent) == (
        "pay_2", "insufficient_funds", "The card has insufficient funds.", True)


def test_a_payment_failed_that_a_retry_may_cure_is_not_permanent() -> None:
    obj = {"id": "pi_5", "object": "payment_intent", "metadata": {PAYMENT_ID: "pay_5"},
           "last_payment_error": {"code": "processing_error", "message": "An error occurred while processing."}}

    event = parse_webhook(*signed(event_of("payment_intent.payment_failed", obj)), SECRET)

    assert (event.failure_code, event.permanent) == ("processing_error", False)


def test_a_charge_refunded_lists_its_refunds_with_paygates_refund_ids() -> None:
    obj = {"id": "ch_1", "object": "charge", "payment_intent": "pi_3", "metadata": {},
           "refunds": {"object": "list", "data": [
               {"id": "re_s1", "object": "refund", "status": "succeeded",
                "metadata": {REFUND_ID: "re_paygate_1", PAYMENT_ID: "pay_3"}},
               {"id": "re_s2", "object": "refund", "status": "pending", "metadata": {}}]}}

    event = parse_webhook(*signed(event_of("charge.refunded", obj)), SECRET)

    assert (event.payment_id, event.transaction_id) == ("pay_3", "pi_3")
    assert event.refund_ids == (RefundSeen("re_s1", "re_paygate_1", "succeeded"), RefundSeen("re_s2", None, "pending"))


def test_a_failed_refund_event_names_the_refund_and_its_reason() -> None:
    obj = {"id": "re_s3", "object": "refund", "status": "failed", "payment_intent": "pi_4",
           "failure_reason": "expired_or_canceled_card", "metadata": {REFUND_ID: "re_p3", PAYMENT_ID: "pay_4"}}

    event = parse_webhook(*signed(event_of("refund.updated", obj)), SECRET)

    assert (event.payment_id, event.transaction_id, event.failure_code) == ("pay_4", "pi_4", "expired_or_canceled_card")
    assert event.refund_ids == (RefundSeen("re_s3", "re_p3", "failed"),)


def test_a_body_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match") as raised:
        parse_webhook(*signed(SUCCEEDED, secret="whsec_someone_else"), SECRET)

    assert SECRET not in str(raised.value) and "whsec" not in str(raised.value)


def test_an_old_signature_is_refused_even_when_it_matches() -> None:
    with pytest.raises(ValueError, match="older than 300 seconds"):
        parse_webhook(*signed(SUCCEEDED, at=int(time.time()) - 301), SECRET)


def test_a_tampered_body_is_refused() -> None:
    payload, header = signed(SUCCEEDED)

    with pytest.raises(ValueError, match="does not match"):
        parse_webhook(payload.replace(b"pay_1", b"pay_9"), header, SECRET)


@pytest.mark.parametrize("header", ["", "garbage", "t=notanumber,v1=abc", "t=123"])
def test_a_missing_or_garbled_header_is_refused(header: str) -> None:
    with pytest.raises(ValueError):
        parse_webhook(json.dumps(SUCCEEDED).encode(), header, SECRET)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", json.dumps({"id": "evt_1", "object": "event"}).encode(),
                                  json.dumps({"object": "list", "data": {"object": {}}}).encode()])
def test_a_signed_body_that_is_not_an_event_is_refused(body: bytes) -> None:
    timestamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()

    with pytest.raises(ValueError, match="not a Stripe event"):
        parse_webhook(body, f"t={timestamp},v1={mac}", SECRET)


def test_without_a_secret_nothing_is_accepted() -> None:
    with pytest.raises(ValueError, match="no Stripe webhook secret"):
        parse_webhook(*signed(SUCCEEDED), "")
