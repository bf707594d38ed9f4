"""Sign-in: credential checks that do not reveal who has an account, and brute-force throttling."""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from domain.clock import Clock
from domain.errors import InvalidCredentials, RateLimited
from domain.users import User

if TYPE_CHECKING:
    from domain.ports import PasswordHasher, UnitOfWork


class LoginThrottle:
    """Counts failed sign-ins per key (an email, a client address) in a sliding window.

    Kept in memory per process: a restart forgets it, which errs towards letting people in.
    """

    def __init__(self, clock: Clock, max_failures: int = 10, window: timedelta = timedelta(minutes=15)) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def _sweep(self, now: datetime) -> None:
        """Forget keys whose failures have all left the window, so memory does not grow forever."""
        for key in [k for k, failures in self._failures.items() if not failures or failures[-1] <= now - self.window]:
            del self._failures[key]

    def check(self, *keys: str) -> None:
        """Raise RateLimited when any key has used up its failures in the window."""
        now = self.clock.now()
        with self._lock:
            if len(self._failures) > 10_000:
                self._sweep(now)
            for key in keys:
                failures = self._prune(key, now)
                if not failures:
                    del self._failures[key]
                    continue
                if len(failures) >= self.max_failures:
                    retry_after = failures[0] + self.window - now
                    raise RateLimited(retry_after_seconds=max(1, math.ceil(retry_after.total_seconds())))

    def record_failure(self, *keys: str) -> None:
        now = self.clock.now()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class AuthService:
    def __init__(self, uow: Callable[[], UnitOfWork], hasher: PasswordHasher, throttle: LoginThrottle) -> None:
        self.uow = uow
        self.hasher = hasher
        self.throttle = throttle

    def authenticate(self, email: str, password: str, client: str) -> User:
        email_key = f"email:{(email or '').strip().lower()}"
        client_key = f"client:{client}"
        self.throttle.check(email_key, client_key)
        with self.uow() as uow:
            user = uow.users.get_by_email((email or "").strip().lower())
        if user is None:
            # Spend the same hashing time as a real check, so timing does not reveal accounts.
            self.hasher.dummy_verify(password)
            ok = False
        else:
            ok = self.hasher.verify(password, user.password_hash) and user.active
        if not ok or user is None:
            self.throttle.record_failure(email_key, client_key)
            raise InvalidCredentials("invalid email or password")
        self.throttle.reset(email_key)
        return user
