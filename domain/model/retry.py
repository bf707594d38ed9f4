"""Exponential backoff for retryable provider errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    factor: float = 2.0
    cap_seconds: float = 30.0
    max_retries: int = 3

    def delay(self, retry_number: int) -> timedelta:
        """Wait before retry number `retry_number` (1-based): 1 s, 2 s, 4 s, ... capped."""
        if retry_number < 1:
            raise ValueError("retry_number starts at 1")
        try:
            seconds = min(self.cap_seconds, self.base_seconds * self.factor ** (retry_number - 1))
        except OverflowError:  # a growth past any float is past the cap too
            seconds = self.cap_seconds
        return timedelta(seconds=seconds)

    def may_retry(self, retries_so_far: int) -> bool:
        return retries_so_far < self.max_retries
