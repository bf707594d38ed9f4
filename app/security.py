"""Passwords (passlib/libpass with argon2) and access tokens (PyJWT, HS256)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import jwt
from passlib.context import CryptContext

from domain.clock import Clock
from domain.model.events import Event
from domain.model.users import User

ALGORITHM = "HS256"


class Argon2Hasher:
    def __init__(self) -> None:
        # argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 30 ms here.
        # Stronger settings multiply the cost of every sign-in; raise them with the hardware.
        self._context = CryptContext(schemes=["argon2"], deprecated="auto", argon2__type="ID",
                                     argon2__memory_cost=19_456, argon2__time_cost=2, argon2__parallelism=1)
        self._dummy = self._context.hash("a password nobody has, for timing")

    def hash(self, password: str) -> str:
        hashed: str = self._context.hash(password)  # passlib has no type hints
        return hashed

    def verify(self, password: str, hashed: str) -> bool:
        try:
            ok: bool = self._context.verify(password, hashed)  # passlib has no type hints
            return ok
        except (ValueError, TypeError):
            return False

    def dummy_verify(self, password: str) -> None:
        self._context.verify(password, self._dummy)


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: str
    version: int = 0
    expires_at: float = 0.0  # Unix time

    def admits(self, user: User | None) -> bool:
        """Whether the token still speaks for `user` (see `still_valid`). The role is the user's
        current one, never the token's."""
        return still_valid(user, self.version)


def still_valid(user: User | None, version: int) -> bool:
    """Whether credentials issued at token version `version` (a JWT, a browser session) still speak
    for `user`: it exists, is active, and its password was not changed since."""
    return user is not None and user.active and user.token_version == version


class TokenService:
    def __init__(self, secret: str, clock: Clock, ttl_seconds: int = 3600) -> None:
        self._secret = secret
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def issue(self, user: User) -> str:
        now = self.clock.now()
        claims = {"sub": user.id, "role": user.role, "ver": user.token_version, "iat": now,
                  "exp": now + timedelta(seconds=self.ttl_seconds)}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM],
                                options={"require": ["exp", "sub"]})
        except jwt.PyJWTError:
            raise InvalidToken("invalid or expired token") from None
        if not isinstance(claims.get("sub"), str):
            raise InvalidToken("invalid token subject")
        version = claims.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidToken("invalid token version")
        return TokenClaims(claims["sub"], str(claims.get("role", "")), version, float(claims["exp"]))


class UserCache:
    """Users by id for a moment, so an API call need not read its caller from the database.

    An entry lives `ttl_seconds` at most; changes to a user are dropped from it at once in this
    process (UserService reports them to `forget`) and within one outbox poll in every other process
    (user.* events). A deactivated account is refused within that time, never later.
    """

    def __init__(self, ttl_seconds: float = 2.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, User]] = {}

    def get(self, user_id: str) -> User | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, user: User) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[user.id] = (time.monotonic() + self.ttl_seconds, user)

    def forget(self, user_id: str) -> None:
        self._entries.pop(user_id, None)

    def on_event(self, event: Event) -> None:
        if event.type.startswith("user.") and event.aggregate_id:
            self.forget(event.aggregate_id)
