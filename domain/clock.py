"""Time and identity: an injectable clock (and the sleep and thread hand-off that go with it), and
opaque prefixed ids."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

Sleep = Callable[[float], Awaitable[None]]
"""asyncio.sleep, or a fake that advances a FakeClock instead of waiting."""
RunSync = Callable[..., Awaitable[Any]]
"""asyncio.to_thread, or a fake that runs the function at once on the caller's thread."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = when


def new_id(prefix: str) -> str:
    """An opaque id such as ``pay_3f9c...``; 96 random bits, URL-safe."""
    return f"{prefix}_{secrets.token_hex(12)}"


def utc(dt: datetime) -> datetime:
    """Treat a naive datetime as UTC; convert an aware one to UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso(dt: datetime | None, precise: bool = False) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix; milliseconds, or microseconds when `precise`."""
    if dt is None:
        return None
    return utc(dt).isoformat(timespec="microseconds" if precise else "milliseconds").replace("+00:00", "Z")
