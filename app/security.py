"""Passwords (passlib/libpass with argon2) and access tokens (PyJWT, HS256)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt
from passlib.context import CryptContext

from domain.clock import Clock

ALGORITHM = "HS256"


class Argon2Hasher:
    def __init__(self) -> None:
        # argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 30 ms here.
        # Stronger settings multiply the cost of every sign-in; raise them with the hardware.
        self._context = CryptContext(schemes=["argon2"], deprecated="auto", argon2__type="ID",
                                     argon2__memory_cost=19_456, argon2__time_cost=2, argon2__parallelism=1)
        self._dummy = self._context.hash("a password nobody has, for timing")

    def hash(self, password: str) -> str:
        return self._context.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        try:
            return self._context.verify(password, hashed)
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


class TokenService:
    def __init__(self, secret: str, clock: Clock, ttl_seconds: int = 3600) -> None:
        self._secret = secret
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: str, role: str) -> str:
        now = self.clock.now()
        claims = {"sub": user_id, "role": role, "iat": now, "exp": now + timedelta(seconds=self.ttl_seconds)}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM],
                                options={"require": ["exp", "sub"]})
        except jwt.PyJWTError:
            raise InvalidToken("invalid or expired token") from None
        if not isinstance(claims.get("sub"), str):
            raise InvalidToken("invalid token subject")
        return TokenClaims(claims["sub"], str(claims.get("role", "")))
