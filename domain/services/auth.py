"""Sign-in: credential checks that do not reveal who has an account, and brute-force throttling."""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.model.errors import InvalidCredentials, RateLimited
from domain.model.users import User
from domain.ports import FailureStore, PasswordHasher, UnitOfWorkFactory


class MemoryFailureStore:
    def __init__(self) -> None:
        self._times: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def failures(self, key: str, since: datetime) -> list[datetime]:
        with self._lock:
            return [t for t in self._times.get(key, ()) if t > since]

    def add(self, keys: tuple[str, ...], at: datetime) -> None:
        with self._lock:
            for key in keys:
                self._times[key].append(at)

    def clear(self, key: str) -> None:
        with self._lock:
            self._times.pop(key, None)

    def discard(self, key: str, at: datetime) -> None:
        with self._lock:
            times = self._times.get(key)
            if times is not None and at in times:
                times.remove(at)

    def prune(self, before: datetime) -> None:
        with self._lock:
            for key in list(self._times):
                times = self._times[key]
                while times and times[0] <= before:
                    times.popleft()
                if not times:
                    del self._times[key]

    def __len__(self) -> int:
        return len(self._times)


class LoginThrottle:
    """Counts failed sign-ins per key (an email, a client address) in a sliding window.

    With the database store every process of the gateway counts the same failures; the memory
    store is for one process (and unit tests), and forgets on restart.
    """

    def __init__(self, clock: Clock, max_failures: int = 10, window: timedelta = timedelta(minutes=15),
                 store: FailureStore | None = None) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.store: FailureStore = store if store is not None else MemoryFailureStore()

    def check(self, *keys: str) -> None:
        """Raise RateLimited when any key has used up its failures in the window."""
        now = self.clock.now()
        for key in keys:
            times = self.store.failures(key, now - self.window)
            if len(times) >= self.max_failures:
                # Allowed again when enough of them have left the window to be under the limit.
                frees_at = times[len(times) - self.max_failures] + self.window
                raise RateLimited(retry_after_seconds=max(1, math.ceil((frees_at - now).total_seconds())))

    def begin(self, key: str) -> datetime:
        """Count an attempt as a failure before its password is checked, and return when; RateLimited
        when that goes past the limit. Counting first means parallel guesses cannot all pass a check
        made before any of them was recorded: at most `max_failures` of them get to a password check.
        """
        self.check(key)
        now = self.clock.now()
        self.store.add((key,), now)
        if len(self.store.failures(key, now - self.window)) > self.max_failures:
            self.store.discard(key, now)  # a refused attempt does not extend the lock-out
            self.check(key)
            raise RateLimited(retry_after_seconds=1)
        return now

    def cancel(self, key: str, at: datetime) -> None:
        """The attempt begun at `at` was no failure after all."""
        self.store.discard(key, at)

    def record_failure(self, *keys: str) -> None:
        now = self.clock.now()
        self.store.add(keys, now)
        self.store.prune(now - self.window)

    def reset(self, key: str) -> None:
        self.store.clear(key)


class AuthService:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, throttle: LoginThrottle,
                 client_throttle: LoginThrottle | None = None) -> None:
        self.uow = uow
        self.hasher = hasher
        self.throttle = throttle  # per (email, client)
        self.client_throttle = client_throttle or throttle  # per client, usually with a higher limit

    def authenticate(self, email: str, password: str, client: str) -> User:
        """The user, or InvalidCredentials; RateLimited for a client that guessed wrong too often.

        Failures count per (email, client) and per client, never per email alone: a stranger's
        wrong guesses must not lock the owner of an account out of it.
        """
        email = (email or "").strip().lower()
        pair_key = f"pair:{email}|{client}"
        client_key = f"client:{client}"
        pair_at = self.throttle.begin(pair_key)
        try:
            client_at = self.client_throttle.begin(client_key)
        except RateLimited:
            self.throttle.cancel(pair_key, pair_at)
            raise
        with self.uow() as uow:
            user = uow.users.get_by_email(email)
        if user is None:
            # Spend the same hashing time as a real check, so timing does not reveal accounts.
            self.hasher.dummy_verify(password)
            ok = False
        else:
            ok = self.hasher.verify(password, user.password_hash) and user.active
        if not ok or user is None:
            self.throttle.store.prune(pair_at - self.throttle.window)  # the failures counted ahead stay
            raise InvalidCredentials("invalid email or password")
        self.throttle.reset(pair_key)
        self.client_throttle.cancel(client_key, client_at)
        return user
