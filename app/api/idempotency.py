"""What idempotent creation endpoints share: the key header, and the created-or-replayed answer."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from app.api.errors import responses
from app.api.fields import IdempotencyKeyHeader  # noqa: F401  (one definition, with its limits)


def created_or_replayed(body: dict[str, Any], replayed: bool, created_status: int) -> JSONResponse:
    """`created_status` for a new resource; 200 with `Idempotent-Replayed: true` for a replay."""
    if replayed:
        return JSONResponse(body, status_code=200, headers={"Idempotent-Replayed": "true"})
    return JSONResponse(body, status_code=created_status)


def replay_responses(model: type, *errors: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "A replay of an earlier request with the same key and body", "model": model},
            **responses(*errors)}
