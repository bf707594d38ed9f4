"""Schemathesis hooks for fuzzing PayGate (loaded through SCHEMATHESIS_HOOKS by tests/e2e/fuzz.py).

They supply what a JSON Schema cannot say, and nothing more:
- `format: payment-card` numbers pass the Luhn check (CardInput.parse refuses any that does not);
- `format: payment-cursor` and `format: delivery-cursor` values are cursors such as the API returns
  (it refuses any other);
- `paymentMethodToken` is left out: a token is good only when a configured provider issued it (the
  mock issues none to clients), which no schema can say; the API tests cover the 422 it gets;
- an idempotency key is used for one request body only, and a request that carries the key both in
  its body and in the Idempotency-Key header carries the same key twice, as API.md asks of clients
  (a reused key is a 422 by contract, which no schema can rule out for generated data).
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

KEY_HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # left alone when invalid: negative cases keep their mutation
_serial = itertools.count(1)


def luhn_complete(partial: str) -> str:
    """`partial` with the check digit appended that makes the whole pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these digits are doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return partial + str((10 - total % 10) % 10)


card_numbers = st.integers(min_value=11, max_value=18).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)).map(luhn_complete)
schemathesis.openapi.format("payment-card", card_numbers)


def cursor_of(created: datetime, payment_id: str) -> str:
    """What domain.payment_service.encode_cursor makes of a payment's creation time and id."""
    return base64.urlsafe_b64encode(f"{created.isoformat()}|{payment_id}".encode()).decode().rstrip("=")


cursors = st.builds(cursor_of, st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                                            timezones=st.just(UTC)),
                    st.from_regex(r"pay_[0-9a-f]{24}", fullmatch=True))
schemathesis.openapi.format("payment-cursor", cursors)
delivery_cursors = st.builds(cursor_of, st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                                                     timezones=st.just(UTC)),
                             st.from_regex(r"whd_[0-9a-f]{24}", fullmatch=True))
schemathesis.openapi.format("delivery-cursor", delivery_cursors)


def _fresh(key: Any) -> Any:
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        return f"{key[:240]}-{next(_serial)}"  # still at most 255 characters
    return key


def _valid(key: Any) -> bool:
    return isinstance(key, str) and VALID_KEY.fullmatch(key) is not None


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Fresh keys at every send: a case that is sent again, or a key drawn from an earlier response, is new."""
    if isinstance(case.body, dict):
        case.body.pop("paymentMethodToken", None)
    body = case.body if isinstance(case.body, dict) and "idempotencyKey" in case.body else None
    # Schemathesis keeps headers in a case-insensitive mapping, not a dict.
    headers = case.headers if isinstance(case.headers, MutableMapping) and KEY_HEADER in case.headers else None
    body_key = body["idempotencyKey"] if body is not None else None
    header_key = headers[KEY_HEADER] if headers is not None else None
    if body is not None:
        body["idempotencyKey"] = _fresh(body_key)
    if headers is not None:
        both_valid = _valid(body_key) and _valid(header_key)
        headers[KEY_HEADER] = body["idempotencyKey"] if both_valid and body is not None else _fresh(header_key)
