"""Settings: one object read from the environment (prefix PAYGATE_, a .env file honoured)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.net import Network, parse_networks

MIN_SECRET_BYTES = 32
PROVIDERS = ("mock",)  # the adapters app/providers.py can build
PLACEHOLDERS = {"changeme", "change-me", "secret", "please-change-me"}


class ConfigError(Exception):
    """The settings cannot start the app; the message says why and what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYGATE_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    env: str = "development"
    host: str = "0.0.0.0"
    port: int = Field(3001, validation_alias=AliasChoices("PAYGATE_PORT", "PORT"))
    data_dir: Path = Path("data")
    database_url: str | None = Field(None, validation_alias=AliasChoices("PAYGATE_DATABASE_URL", "DATABASE_URL"))
    demo_data: bool = True
    reload: bool = False

    jwt_secret: str | None = None
    storage_secret: str | None = None
    jwt_ttl_seconds: int = 3600
    cors_origins: list[str] = []

    login_max_failures: int = 10  # per (email, client)
    login_max_client_failures: int = 30  # per client, whatever the emails
    login_window_seconds: int = 900
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: str = ""

    # The payment engine.
    rate_limit_capacity: int = 2
    rate_limit_per_second: float = 2.0
    rate_limit_safety_margin: float = 0.2
    rate_limit_strategy: str = "database"  # or "memory" (one process only)
    retry_base_seconds: float = 1.0
    retry_cap_seconds: float = 30.0
    retry_max: int = 3
    provider: str = "mock"
    provider_timeout_seconds: float = 2.0
    lease_seconds: float = 30.0
    drain_interval_seconds: float = 0.5
    outbox_poll_seconds: float = 0.1
    mock_failure_rate: float = 0.0
    mock_min_latency_ms: int = 50
    mock_max_latency_ms: int = 150
    mock_slow_answer_seconds: float = 3.0
    # Tests only: die (SIGKILL) right after this many provider calls, before the outcome is committed.
    fault_crash_after_charges: int = 0

    @property
    def production(self) -> bool:
        return self.env.lower() in {"production", "prod"}

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url[len("postgres://"):]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            return url
        return f"sqlite:///{(self.data_dir / 'paygate.db').resolve()}"

    @cached_property
    def trusted_proxy_networks(self) -> list[Network]:
        return parse_networks(self.trusted_proxies)

    def check(self) -> None:
        """Refuse settings that must not reach production."""
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as e:
            raise ConfigError(f"PAYGATE_TRUSTED_PROXIES: {e}.") from None
        if self.provider not in PROVIDERS:
            raise ConfigError(f"PAYGATE_PROVIDER={self.provider!r} is unknown; available: {', '.join(PROVIDERS)}.")
        if self.rate_limit_strategy not in ("database", "memory"):
            raise ConfigError("PAYGATE_RATE_LIMIT_STRATEGY must be 'database' or 'memory'.")
        if not self.production:
            return
        if self.demo_data:
            raise ConfigError("PAYGATE_DEMO_DATA must be 0 in production: the demo accounts' passwords are public.")
        for name in ("jwt_secret", "storage_secret"):
            value = getattr(self, name)
            env_name = f"PAYGATE_{name.upper()}"
            if not value:
                raise ConfigError(f"{env_name} must be set in production (at least {MIN_SECRET_BYTES} bytes).")
            if value.lower() in PLACEHOLDERS or len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"{env_name} is a placeholder or shorter than {MIN_SECRET_BYTES} bytes.")


def load_or_create_secret(settings: Settings, name: str) -> str:
    """The secret from settings, or one generated on first start and kept in the data folder."""
    value = getattr(settings, name)
    if value:
        return value
    path = settings.data_dir / f".{name}"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        # 'x' fails if another process wrote it first; then theirs is the one everybody uses.
        with open(path, "x", encoding="utf-8", opener=lambda p, f: os.open(p, f, 0o600)) as fh:
            fh.write(secret)
        return secret
    except FileExistsError:
        return path.read_text().strip()
