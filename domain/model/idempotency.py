"""The record that ties an idempotency key to the request it first served and what it created."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str  # the calling user's id
    key: str
    fingerprint: str
    resource_type: str
    resource_id: str
    created_at: datetime
