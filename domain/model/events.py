"""Domain events: what happened, written to the outbox in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.clock import new_id


@dataclass(frozen=True)
class Event:
    type: str
    data: dict[str, Any]
    created_at: datetime
    # Who may see it on the event stream: the owning customer (admins see everything).
    customer_id: str | None = None
    aggregate_id: str | None = None
    id: str = field(default_factory=lambda: new_id("evt"))
    seq: int | None = None

    def public(self) -> dict[str, Any]:
        from domain.clock import iso

        return {"id": self.id, "type": self.type, "createdAt": iso(self.created_at), "data": self.data}
