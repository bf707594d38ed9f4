"""Submissions under the per-customer limit (app/customer_limits.py), as HTTP: 429 with the headers.

The 429 and the successful answer both carry `RateLimit-Policy` and `RateLimit`; the 429 also
`Retry-After`, in whole seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.responses import JSONResponse

from app.api.errors import error_response
from app.api.idempotency import created_or_replayed
from app.bootstrap import Container
from app.customer_limits import SubmissionRateLimited, key_of, rate_limit_headers, within_limit
from domain.model.users import User

__all__ = ["key_of", "limited"]
T = TypeVar("T")


def limited(c: Container, user: User, key: str | None, submit: Callable[[], tuple[T, bool]],
            public: Callable[[T], dict[str, Any]], created_status: int) -> JSONResponse:
    """`submit` if the user may submit now: `created_status` (or a replay's 200) with the limit's
    headers; else 429 rate_limited, and nothing was stored."""
    try:
        resource, replayed, decision = within_limit(c, user.id, key, submit)
    except SubmissionRateLimited as refused:
        return error_response(429, refused.code, refused.message, headers=refused.headers)
    response = created_or_replayed(public(resource), replayed, created_status)
    response.headers.update(rate_limit_headers(decision))
    return response
