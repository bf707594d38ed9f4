"""The Stripe adapter: PayGate's provider port over Stripe's PaymentMethods, PaymentIntents and Refunds,
the one table that says what each of Stripe's errors means to PayGate, and the check of Stripe's webhooks.

A card becomes a PaymentMethod (`pm_…`, a call), a charge is one PaymentIntent created and confirmed in
one call with PayGate's payment id as its idempotency key and in its metadata, a lookup finds that
PaymentIntent again by the metadata, and a refund is a Refund of the PaymentIntent. docs/providers.md
explains how to run against Stripe's test mode or localstripe, and where localstripe differs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx
import stripe

from domain.model.cards import CardInput
from domain.model.providers import (
    NOT_CHARGED,
    NOT_REFUNDED,
    CallKind,
    CallResult,
    CardToken,
    ChargeRequest,
    Outcome,
    RefundRequest,
)

PAYMENT_ID = "paygate_payment_id"  # metadata key: PayGate's payment id on PaymentIntents and Refunds
REFUND_ID = "paygate_refund_id"  # metadata key: PayGate's refund id on Refunds
REASON = "paygate_reason"  # metadata key: the refund's reason (localstripe refuses Stripe's own `reason`)


# --- what Stripe's errors mean ------------------------------------------------------------------------

class Rule(NamedTuple):
    outcome: Outcome
    code: str  # PayGate's code: payments and attempts show it, so it says no more than the customer may see
    message: str  # PayGate's own words: Stripe's messages are never passed on (one quotes part of the API key)


# How a request failed on the wire (APIConnectionError wraps the httpx exception that says it).
CONNECT_FAILED = "network:connect_failed"  # never reached Stripe: refused, no route, DNS, connect timeout
TIMED_OUT = "network:timed_out"  # sent, or being sent, and no answer in time
CONNECTION_LOST = "network:connection_lost"  # the connection broke after the request may have left

_D, _E, _U = Outcome.DECLINED, Outcome.ERROR, Outcome.UNKNOWN
_GENERIC_DECLINE = Rule(_D, "card_declined", "The card was declined.")
_NEEDS_3DS = Rule(_D, "authentication_required", "The card asks for 3-D Secure, which a server-side charge cannot do.")
_TRY_AGAIN = Rule(_E, "processing_error", "The provider could not process the card; try again.")

# THE error table. Looked up by Stripe's decline code, then its error code, then the error's class (the
# nearest in its MRO), then, for a connection error, by how the connection failed. DECLINED is for good
# (a retry sends the same request and gets the same answer), ERROR is retryable and means Stripe did not
# act on the request, UNKNOWN means Stripe may have acted: PayGate looks the outcome up before it acts
# again. A token call turns UNKNOWN into ERROR, and a lookup DECLINED into UNKNOWN (see `classify`).
ERRORS: dict[str | type[stripe.StripeError], Rule] = {
    # The card's answer.
    "card_declined": _GENERIC_DECLINE,
    "generic_decline": _GENERIC_DECLINE,
    # Stripe asks that these reasons be shown to the customer as a plain decline, not named.
    "lost_card": _GENERIC_DECLINE,
    "stolen_card": _GENERIC_DECLINE,
    "fraudulent": _GENERIC_DECLINE,
    "pickup_card": _GENERIC_DECLINE,
    "restricted_card": _GENERIC_DECLINE,
    "merchant_blacklist": _GENERIC_DECLINE,
    "security_violation": _GENERIC_DECLINE,
    "insufficient_funds": Rule(_D, "insufficient_funds", "The card has insufficient funds."),
    "card_velocity_exceeded": Rule(_D, "card_velocity_exceeded", "The card is over its limit."),
    "expired_card": Rule(_D, "expired_card", "The card has expired."),
    "incorrect_cvc": Rule(_D, "incorrect_cvc", "The card's security code is incorrect."),
    "invalid_cvc": Rule(_D, "invalid_cvc", "The card's security code is invalid."),
    "incorrect_number": Rule(_D, "incorrect_number", "The card number is incorrect."),
    "invalid_number": Rule(_D, "invalid_number", "The card number is invalid."),
    "invalid_expiry_month": Rule(_D, "invalid_expiry_month", "The card's expiry month is invalid."),
    "invalid_expiry_year": Rule(_D, "invalid_expiry_year", "The card's expiry year is invalid."),
    "incorrect_zip": Rule(_D, "incorrect_zip", "The card's postal code is incorrect."),
    "card_not_supported": Rule(_D, "card_not_supported", "The card does not support this payment."),
    "currency_not_supported": Rule(_D, "currency_not_supported", "The card does not support this currency."),
    "card_decline_rate_limit_exceeded": Rule(_D, "card_decline_rate_limit_exceeded",
                                             "The card was declined too often; try another card."),
    "authentication_required": _NEEDS_3DS,
    "payment_intent_authentication_failure": _NEEDS_3DS,
    # Declines that a later attempt may get past.
    "processing_error": _TRY_AGAIN,
    "try_again_later": _TRY_AGAIN,
    "issuer_not_available": Rule(_E, "issuer_not_available", "The card's bank could not be reached; try again."),
    "reenter_transaction": _TRY_AGAIN,
    # Requests Stripe refused for good (a retry would send the same request).
    "resource_missing": Rule(_D, "resource_missing", "Stripe does not know the card token or the charge."),
    "amount_too_small": Rule(_D, "amount_too_small", "The amount is below Stripe's minimum charge."),
    "amount_too_large": Rule(_D, "amount_too_large", "The amount is above what Stripe allows."),
    "charge_already_refunded": Rule(_D, "charge_already_refunded", "The charge is already refunded in full."),
    stripe.InvalidRequestError: Rule(_D, "invalid_request", "Stripe refused the request as invalid."),
    # Stripe holds another request with this idempotency key, running or done: what it did is a lookup away.
    "idempotency_key_in_use": Rule(_U, "request_in_flight", "Stripe is still working on this request."),
    stripe.IdempotencyError: Rule(_U, "idempotency_conflict", "Stripe holds an earlier request for this payment."),
    # Stripe did not act: its rate limiter and its key checks run before the request does.
    stripe.RateLimitError: Rule(_E, "provider_rate_limited", "Stripe is limiting PayGate's requests; try again."),
    "lock_timeout": Rule(_E, "provider_busy", "Stripe was busy with this object; try again."),
    # Not the card's fault, and not the customer's: an operator must fix the key. Retryable, so the circuit
    # opens and the next provider is tried, rather than a decline that would fail the payment at once.
    stripe.AuthenticationError: Rule(_E, "provider_auth_failed", "Stripe refused PayGate's API key."),
    stripe.PermissionError: Rule(_E, "provider_permission_denied", "PayGate's API key may not do this at Stripe."),
    # A 5xx (or 409): Stripe's docs ask that its result be treated as indeterminate (it may have run).
    stripe.APIError: Rule(_U, "provider_error", "Stripe answered with an error of its own; it may have acted."),
    CONNECT_FAILED: Rule(_E, "provider_unreachable", "Stripe could not be reached; nothing was sent."),
    TIMED_OUT: Rule(_U, "provider_timeout", "Stripe did not answer in time; the request may have gone through."),
    CONNECTION_LOST: Rule(_U, "connection_lost", "The connection to Stripe broke; the request may have gone through."),
    stripe.StripeError: Rule(_U, "provider_error", "Stripe's answer could not be understood."),
}

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_NO_ANSWER = (httpx.ReadTimeout, httpx.WriteTimeout)


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _network_failure(exc: stripe.APIConnectionError) -> str:
    """Which of the connection keys: httpx's exception is the SDK's `__cause__` (its own `should_retry`
    is True for every httpx error, so it cannot tell a refused connection from a lost answer)."""
    cause = exc.__cause__
    if isinstance(cause, _NEVER_SENT):
        return CONNECT_FAILED
    if isinstance(cause, _NO_ANSWER):
        return TIMED_OUT
    return CONNECTION_LOST  # a read or protocol error, or one we cannot place: it may have left


def rule_for_codes(*codes: object) -> Rule | None:
    """The rule of the first of Stripe's codes (decline code, error code) that the table names."""
    return next((ERRORS[code] for code in codes if isinstance(code, str) and code in ERRORS), None)


def rule_for(exc: stripe.StripeError) -> Rule:
    body = _error_body(exc)
    rule = rule_for_codes(body.get("decline_code"), body.get("code") or exc.code)
    if rule is not None:
        return rule
    if isinstance(exc, stripe.CardError):
        return _GENERIC_DECLINE  # a decline for a reason the table does not name: say no more than that
    if isinstance(exc, stripe.APIConnectionError):
        return ERRORS[_network_failure(exc)]
    return next(ERRORS[cls] for cls in type(exc).__mro__ if cls in ERRORS)


def classify(exc: stripe.StripeError, call: CallKind) -> CallResult:
    """What a Stripe error means for a call of this kind."""
    rule = rule_for(exc)
    outcome = rule.outcome
    if outcome is Outcome.UNKNOWN and call is CallKind.TOKENIZE:
        outcome = Outcome.ERROR  # a PaymentMethod made and lost moves no money: make another
    elif outcome is Outcome.DECLINED and call is CallKind.LOOKUP:
        outcome = Outcome.UNKNOWN  # a refused lookup says nothing of the charge: only NOT_CHARGED says none stands
    return CallResult(outcome, code=rule.code, message=rule.message)


# --- the adapter --------------------------------------------------------------------------------------

SEARCH_LIMIT = 10
RECENT_PAGES = 2  # after a search that found none: the newest 200 PaymentIntents, which it may not show yet
LISTED_PAGES = 10  # without search (localstripe): up to 1,000 PaymentIntents, in the server's order

Obj = dict[str, Any]  # a Stripe object as plain data: an API answer (`to_dict()`) or a webhook's object


class _NoDebugRecords(logging.Filter):
    """Drops the SDK's DEBUG records (its "Post details" carry each request's form body) whatever level
    the logger is later given: a logging config, or a test, that sets every logger to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


def _keep_card_data_out_of_logs() -> None:
    """The SDK logs each request's form body at DEBUG, card number and CVC included when it makes a
    PaymentMethod: cap its logger at INFO, filter out its DEBUG records should its level be lowered
    again, and refuse STRIPE_LOG=debug, which prints to stderr."""
    if stripe.log == "debug" or os.environ.get("STRIPE_LOG") == "debug":
        raise ValueError("STRIPE_LOG=debug would print card numbers; unset it to use the Stripe provider")
    sdk_log = logging.getLogger("stripe")
    sdk_log.setLevel(max(sdk_log.level, logging.INFO))
    if not any(isinstance(f, _NoDebugRecords) for f in sdk_log.filters):
        sdk_log.addFilter(_NoDebugRecords())


class StripeProvider:
    """PayGate's provider port over Stripe's API (or a Stripe-compatible test server at `api_base`).

    Calls use the SDK's `*_async` methods over httpx rather than the sync client in `asyncio.to_thread`:
    a call waits on the event loop without holding a worker thread (the processor and storage share the
    default thread pool, and a Stripe that hangs would hold its threads), and the processor's
    `asyncio.wait_for` really cancels a call, where a thread would go on running. httpx's pooled
    connections belong to the event loop that opened them, so each loop gets its own client.

    The SDK does not retry (`max_network_retries=0`): the processor retries, and looks an outcome up
    first when a charge may have happened. `timeout_seconds` bounds each phase of a request (connect,
    write, read), as httpx counts timeouts.
    """

    name = "stripe"
    charges_without_card = False

    def __init__(self, api_key: str, api_base: str | None = None, timeout_seconds: float = 2.0) -> None:
        _keep_card_data_out_of_logs()
        self._api_key = api_key
        self._api_base = api_base
        self._timeout = httpx.Timeout(timeout_seconds)
        self._clients: dict[asyncio.AbstractEventLoop, tuple[stripe.StripeClient, stripe.HTTPXClient]] = {}
        # Stripe's own API, at the SDK's API version, takes no `payment_method_types` any more, and asks for a
        # return_url unless a PaymentIntent is kept to cards; localstripe knows only the old way of saying so.
        self._cards_only = api_base is None
        self._search_works = True  # until Stripe says otherwise (localstripe has no search)

    def __repr__(self) -> str:
        return f"StripeProvider(api_base={self._api_base!r})"  # never the key

    def _stripe(self) -> stripe.StripeClient:
        loop = asyncio.get_running_loop()
        for old in [old for old in self._clients if old.is_closed()]:
            del self._clients[old]  # its connections died with it
        if loop not in self._clients:
            http = stripe.HTTPXClient(timeout=self._timeout)
            client = stripe.StripeClient(self._api_key, max_network_retries=0, http_client=http,
                                         base_addresses={"api": self._api_base} if self._api_base else None)
            self._clients[loop] = (client, http)
        return self._clients[loop][0]

    async def open(self) -> None:
        """Build this event loop's client now (its SSL context and connection pool take some
        milliseconds), so the first call does not spend them between its token and Stripe."""
        self._stripe()

    async def aclose(self) -> None:
        """Close this event loop's connections (on shutdown; tests after each test)."""
        pair = self._clients.pop(asyncio.get_running_loop(), None)
        if pair is not None:
            await pair[1].close_async()  # type: ignore[no-untyped-call]

    def owns_token(self, token: str) -> bool:
        return token.startswith("pm_")

    def tokenize(self, card: CardInput) -> CardToken | None:
        return None  # a PaymentMethod is made by a call: create_token

    async def create_token(self, card: CardInput) -> CallResult:
        params: Any = {"type": "card", "card": {"number": card.number, "exp_month": card.exp_month,
                                                "exp_year": card.exp_year, "cvc": card.cvc}}
        try:
            method = (await self._stripe().v1.payment_methods.create_async(params)).to_dict()
        except stripe.StripeError as exc:
            return classify(exc, CallKind.TOKENIZE)
        brand, last4 = _card_of(method)
        return CallResult.ok(None, card_token=method["id"], card_brand=brand, card_last4=last4)

    async def charge(self, request: ChargeRequest) -> CallResult:
        if not request.card_token:
            return CallResult.declined("card_required", "Stripe charges cards only, and this payment has none.")
        params: Any = {"amount": request.amount, "currency": request.currency.lower(),
                       "payment_method": request.card_token, "confirm": True,
                       "metadata": {PAYMENT_ID: request.idempotency_key},
                       "expand": ["payment_method"]}  # the card's brand and last 4, in the same call
        if self._cards_only:
            params["allowed_payment_method_types"] = ["card"]
        try:
            intent = await self._stripe().v1.payment_intents.create_async(
                params, {"idempotency_key": request.idempotency_key})
        except stripe.StripeError as exc:
            return classify(exc, CallKind.CHARGE)
        return _charge_result(intent.to_dict())

    async def lookup(self, request: ChargeRequest) -> CallResult:
        try:
            intents = await self._intents_of(request.idempotency_key)
        except stripe.StripeError as exc:
            return classify(exc, CallKind.LOOKUP)
        return _standing(intents)

    async def _intents_of(self, payment_id: str) -> list[Obj]:
        """The PaymentIntents whose metadata names this payment.

        Stripe's search finds old ones, but is eventually consistent (usually within a minute): one made
        just before a timeout may be missing. So when search finds none, the newest are listed too, which
        is consistent. Where search answers InvalidRequestError (localstripe, which has no search, and
        accounts in India) this process lists instead, further back."""
        if self._search_works:
            query = f"metadata['{PAYMENT_ID}']:'{_quoted(payment_id)}'"
            try:
                found = await self._stripe().v1.payment_intents.search_async({"query": query, "limit": SEARCH_LIMIT})
            except stripe.InvalidRequestError:
                self._search_works = False
            else:
                if found.data:
                    return [intent.to_dict() for intent in found.data]
        return await self._listed(payment_id, RECENT_PAGES if self._search_works else LISTED_PAGES)

    async def _listed(self, payment_id: str, pages: int) -> list[Obj]:
        matches: list[Obj] = []
        params: Any = {"limit": 100}
        for _ in range(pages):
            page = await self._stripe().v1.payment_intents.list_async(params)
            intents = [intent.to_dict() for intent in page.data]
            matches += [intent for intent in intents if _metadata(intent).get(PAYMENT_ID) == payment_id]
            if not page.has_more or not intents:
                break
            params = {"limit": 100, "starting_after": intents[-1]["id"]}
        return matches

    async def refund(self, request: RefundRequest) -> CallResult:
        params: Any = {"payment_intent": request.transaction_id, "amount": request.amount,
                       "metadata": {REFUND_ID: request.idempotency_key, PAYMENT_ID: request.payment_id,
                                    REASON: request.reason}}
        try:
            refund = await self._stripe().v1.refunds.create_async(params, {"idempotency_key": request.idempotency_key})
        except stripe.StripeError as exc:
            return classify(exc, CallKind.REFUND)
        return _refund_result(refund.to_dict())

    async def lookup_refund(self, request: RefundRequest) -> CallResult:
        """What became of an earlier refund with this request's idempotency key (the refund id): the Refund
        of the PaymentIntent whose metadata names it, or DECLINED (NOT_REFUNDED) when there is none: the
        port's lookup_refund, which the refund drain asks before it calls refund() again."""
        try:
            page = await self._stripe().v1.refunds.list_async({"payment_intent": request.transaction_id, "limit": 100})
        except stripe.StripeError as exc:
            return classify(exc, CallKind.LOOKUP)
        mine = [r for r in (refund.to_dict() for refund in page.data)
                if _metadata(r).get(REFUND_ID) == request.idempotency_key]
        if not mine:
            return CallResult.declined(NOT_REFUNDED, "Stripe holds no refund for this refund id.")
        return _refund_result(mine[0])


def _quoted(value: str) -> str:
    """A value inside a single-quoted string of Stripe's search query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _metadata(obj: Any) -> Obj:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _card_of(method: Any) -> tuple[str | None, str | None]:
    """Brand and last 4 of a PaymentMethod (None, None for a bare id, which was not expanded)."""
    card = method.get("card") if isinstance(method, dict) else None
    if not isinstance(card, dict):
        return None, None
    return card.get("brand"), card.get("last4")


def _id_of(value: Any) -> str | None:
    """An id that Stripe gives either bare or as an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _charge_result(intent: Obj) -> CallResult:
    status = intent.get("status")
    if status == "succeeded":
        brand, last4 = _card_of(intent.get("payment_method"))
        return CallResult.ok(intent["id"], card_token=_id_of(intent.get("payment_method")), card_brand=brand,
                             card_last4=last4)
    if status == "requires_action":  # 3-D Secure, which only the customer's browser can do
        return CallResult.declined(_NEEDS_3DS.code, _NEEDS_3DS.message)
    if status in ("requires_payment_method", "canceled"):
        rule = _payment_failure(intent)
        return CallResult(rule.outcome, code=rule.code, message=rule.message)
    # processing (not for cards, but possible), or a state this adapter does not ask for: a lookup or the
    # webhook will tell
    return CallResult(Outcome.UNKNOWN, transaction_id=intent.get("id"), code="provider_processing",
                      message="Stripe has not finished this charge.")


def _payment_failure(intent: Obj) -> Rule:
    error = intent.get("last_payment_error")
    error = error if isinstance(error, dict) else {}
    return rule_for_codes(error.get("decline_code"), error.get("code")) or _GENERIC_DECLINE


def _standing(intents: list[Obj]) -> CallResult:
    """A lookup's answer from the PaymentIntents found for one payment (one, normally)."""
    succeeded = [intent for intent in intents if intent.get("status") == "succeeded"]
    if succeeded:
        return CallResult.ok(min(succeeded, key=lambda intent: intent.get("created") or 0)["id"])
    if any(intent.get("status") in ("processing", "requires_capture") for intent in intents):
        return CallResult.not_known("provider_processing", "Stripe has not finished this charge.")
    return CallResult.declined(NOT_CHARGED, "Stripe holds no successful charge for this payment.")


def _refund_result(refund: Obj) -> CallResult:
    status = refund.get("status")
    if status == "succeeded":
        return CallResult.ok(refund["id"])
    if status in ("failed", "canceled"):
        return CallResult.declined("refund_failed", "Stripe could not refund the charge.")
    # pending or requires_action: Stripe has the refund, not yet its outcome (a refund.* webhook settles it)
    return CallResult(Outcome.UNKNOWN, transaction_id=refund.get("id"), code="refund_pending",
                      message="Stripe has not finished this refund.")


# --- inbound webhooks ---------------------------------------------------------------------------------

class RefundSeen(NamedTuple):
    """A Refund named by an event: Stripe's id, PayGate's refund id from its metadata, Stripe's status."""

    id: str
    paygate_refund_id: str | None
    status: str | None


@dataclass(frozen=True)
class StripeWebhookEvent:
    id: str  # evt_…
    type: str  # payment_intent.succeeded, payment_intent.payment_failed, charge.refunded, refund.updated, …
    payment_id: str | None  # PayGate's payment id, from the metadata of the object (or its PaymentIntent, refunds)
    transaction_id: str | None  # the PaymentIntent (pi_…)
    refund_ids: tuple[RefundSeen, ...]  # refund.* events, and charge.refunded when the charge lists them
    failure_code: str | None  # a failed payment: PayGate's code, by the error table; a failed refund: its reason
    failure_message: str | None
    permanent: bool = False  # the failure is for good (a decline, by the error table), not one a retry may cure


def parse_webhook(payload: bytes, signature_header: str, secret: str,
                  tolerance_seconds: int = 300) -> StripeWebhookEvent:
    """Verify a webhook's `Stripe-Signature` with the SDK and read the event. ValueError, in a few words
    and without the secret, for a missing, bad or old signature or a body that is not an event."""
    if not secret:
        raise ValueError("no Stripe webhook secret is configured")
    if not signature_header:
        raise ValueError("the Stripe-Signature header is missing")
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, tolerance_seconds)
    except UnicodeDecodeError:
        raise ValueError("the webhook body is not UTF-8") from None
    except stripe.SignatureVerificationError:
        raise ValueError(_why_refused(payload, signature_header, secret, tolerance_seconds)) from None
    try:
        data = json.loads(payload)
        obj = data["data"]["object"]
        if data.get("object") != "event" or not isinstance(obj, dict):
            raise TypeError
        return _event(str(data["id"]), str(data["type"]), obj)
    except (ValueError, LookupError, TypeError, AttributeError):
        raise ValueError("the webhook body is not a Stripe event") from None


def _why_refused(payload: bytes, header: str, secret: str, tolerance_seconds: int) -> str:
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, None)  # the signature alone
    except stripe.SignatureVerificationError:
        return "the Stripe-Signature does not match the body"
    return f"the Stripe-Signature is older than {tolerance_seconds} seconds"


def _event(event_id: str, kind: str, obj: Obj) -> StripeWebhookEvent:
    failure: Rule | None = None
    refunds: list[Obj] = []
    intent: Any = None
    if obj.get("object") == "payment_intent":
        intent = obj
        if kind == "payment_intent.payment_failed":
            failure = _payment_failure(obj)
    elif obj.get("object") == "charge":
        intent = obj.get("payment_intent")
        # Absent from API version 2022-11-15 on: refund.updated events carry each refund's outcome, and a
        # charge.refunded naming none makes the payment's refunds in doubt due for a lookup now
        # (domain/services/provider_events.py).
        listed = obj.get("refunds")
        data = listed.get("data") if isinstance(listed, dict) else None
        refunds = [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []
    elif obj.get("object") == "refund":
        intent = obj.get("payment_intent")
        refunds = [obj]
        if obj.get("status") in ("failed", "canceled"):
            reason = obj.get("failure_reason")
            failure = Rule(Outcome.DECLINED, reason if isinstance(reason, str) else "refund_failed",
                           "Stripe could not refund the charge.")
    # the object's own metadata first, then its PaymentIntent's (if expanded), then its refunds'
    named = (_metadata(source).get(PAYMENT_ID) for source in [obj, intent, *refunds])
    payment_id = next((p for p in named if isinstance(p, str) and p), None)
    return StripeWebhookEvent(event_id, kind, payment_id, _id_of(intent), tuple(_refund_seen(r) for r in refunds),
                              failure.code if failure else None, failure.message if failure else None,
                              permanent=failure is not None and failure.outcome is Outcome.DECLINED)


def _refund_seen(refund: Obj) -> RefundSeen:
    mine, status = _metadata(refund).get(REFUND_ID), refund.get("status")
    return RefundSeen(str(refund["id"]), mine if isinstance(mine, str) else None,
                      status if isinstance(status, str) else None)
