"""Settings: one object read from the environment (prefix PAYGATE_, a .env file honoured)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.net import Network, parse_networks
from domain.model.webhooks import RetrySchedule

MIN_SECRET_BYTES = 32
PLACEHOLDERS = {"changeme", "change-me", "secret", "please-change-me"}


class ConfigError(Exception):
    """The settings cannot start the app; the message says why and what to do."""


Env = Literal["development", "production"]
ProviderName = Literal["mock", "stripe"]  # the adapters app/providers.py can build
LimiterStrategy = Literal["database", "memory"]  # "memory" is for one process only
LogFormat = Literal["text", "json"]  # app/logs.py
Positive = Annotated[float, Field(gt=0)]


class Settings(BaseSettings):
    """Every setting, from PAYGATE_* variables (and a .env file). Checked once, when it is built: a
    value of the wrong type or range, or one that production refuses, raises ConfigError."""

    model_config = SettingsConfigDict(env_prefix="PAYGATE_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    env: Env = "development"
    host: str = "0.0.0.0"
    port: int = Field(3001, ge=1, le=65535, validation_alias=AliasChoices("PAYGATE_PORT", "PORT"))
    data_dir: Path = Path("data")
    database_url: str | None = Field(None, validation_alias=AliasChoices("PAYGATE_DATABASE_URL", "DATABASE_URL"))
    demo_data: bool = True
    reload: bool = False

    jwt_secret: str | None = None
    storage_secret: str | None = None
    jwt_ttl_seconds: int = Field(3600, ge=1)
    cors_origins: list[str] = []

    login_max_failures: int = Field(10, ge=1)  # per (email, client)
    login_max_client_failures: int = Field(30, ge=1)  # per client, whatever the emails
    login_window_seconds: int = Field(900, ge=1)
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: str = ""

    # The payment engine.
    rate_limit_capacity: int = Field(2, ge=1)
    rate_limit_per_second: Positive = 2.0
    # Tokens held back from each grant: jitter between a grant and the provider's receipt of the call
    # up to margin / rate seconds (250 ms) cannot make calls arrive faster than the limit.
    rate_limit_safety_margin: float = Field(0.5, ge=0, lt=1)
    rate_limit_strategy: LimiterStrategy = "database"
    retry_base_seconds: Positive = 1.0
    retry_cap_seconds: Positive = 30.0
    retry_max: int = Field(3, ge=0)
    # Providers in routing order, comma-separated: the first is the primary, the next the fallback.
    providers: str = "mock"
    provider_timeout_seconds: Positive = 2.0
    circuit_fail_max: int = Field(5, ge=1)  # retryable failures in a row that open a provider's circuit
    circuit_reset_seconds: Positive = 30.0  # how long an open circuit stays open before a probe
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None  # default: Stripe's own; tests point it at localstripe
    stripe_webhook_secret: str | None = None
    lease_seconds: Positive = 30.0
    drain_interval_seconds: Positive = 0.5
    outbox_poll_seconds: Positive = 0.1
    mock_failure_rate: float = Field(0.0, ge=0, le=1)
    mock_timeout_rate: float = Field(0.0, ge=0, le=1)  # charges that answer only after the timeout
    mock_min_latency_ms: int = Field(50, ge=0)
    mock_max_latency_ms: int = Field(150, ge=0)
    mock_slow_answer_seconds: Positive = 3.0
    # Tests only: die (SIGKILL) right after this many provider calls, before the outcome is committed.
    fault_crash_after_charges: int = Field(0, ge=0)

    # Per-customer API limits (docs/scaling.md): each user may submit this many payments and orders a
    # second, `customer_burst` at once; over it, 429 rate_limited. Shared by every process through the
    # database, or through Redis when redis_url is set.
    customer_rate_per_second: Positive = 5.0
    customer_burst: int = Field(10, ge=1)
    # Redis (redis://host:6379/0), shared by every process: the customer limits live there when it is set.
    redis_url: str | None = None
    # This replica's name behind a reverse proxy that routes a page's live connection back to the replica
    # that drew the page (docs/scaling.md, deploy/nginx.conf); empty: no proxy routes on it.
    replica_name: str = Field("", pattern=r"^[A-Za-z0-9_.-]{0,63}$")

    # Merchant webhooks (docs/webhooks.md).
    webhooks_allow_private: bool = False  # endpoints on private, loopback, link-local addresses: dev and tests
    # Seconds to wait after the 1st, 2nd, ... failed try, comma-separated; after the last, a delivery is dead.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    webhook_timeout_seconds: Positive = 10.0  # one POST, answer included
    webhook_lease_seconds: Positive = 60.0  # a claimed delivery is another process's after this
    webhook_max_in_flight: int = Field(8, ge=1)  # POSTs at once, per process
    webhook_max_in_flight_per_endpoint: int = Field(2, ge=1)
    webhook_poll_seconds: Positive = 1.0  # how often due retries are looked for (new events wake it at once)

    # Observability (docs/logging.md). Logs: one JSON object per line, or readable text; unset, JSON
    # in production and text in development (see `resolved_log_format`).
    log_format: LogFormat | None = None
    # OTLP/HTTP collector (http://host:4318, or its full /v1/traces URL): traces are exported there;
    # unset, nothing is traced.
    otel_endpoint: str | None = None

    # GET /metrics (docs/operations.md): when set, a scrape must send "Authorization: Bearer <token>";
    # when not, the metrics are open to anyone who reaches the port (set it in production).
    metrics_token: str | None = None

    @field_validator("env", mode="before")
    @classmethod
    def _env_names(cls, value: object) -> object:
        aliases = {"prod": "production", "dev": "development"}
        return aliases.get(str(value).strip().lower(), str(value).strip().lower())

    @field_validator("providers")
    @classmethod
    def _providers(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        known = get_args(ProviderName)
        if not names:
            raise ValueError(f"name at least one provider ({', '.join(known)})")
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"unknown provider {unknown[0]!r}; the providers are {', '.join(known)}")
        if len(set(names)) != len(names):
            raise ValueError("a provider is listed twice")
        return ",".join(names)

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _webhook_schedule(cls, value: str) -> str:
        RetrySchedule.parse(value)  # ValueError saying what is wrong
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        parse_networks(value)  # ValueError naming the entry that is not an address
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        """Refuse settings that must not reach production (ConfigError passes through pydantic)."""
        if self.mock_min_latency_ms > self.mock_max_latency_ms:
            raise ConfigError("PAYGATE_MOCK_MIN_LATENCY_MS is above PAYGATE_MOCK_MAX_LATENCY_MS.")
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ConfigError("PAYGATE_WEBHOOK_LEASE_SECONDS must be longer than PAYGATE_WEBHOOK_TIMEOUT_SECONDS, "
                              "or a delivery still in flight would be sent again by another process.")
        if "stripe" in self.provider_names and not self.stripe_api_key:
            raise ConfigError("PAYGATE_PROVIDERS lists stripe, so PAYGATE_STRIPE_API_KEY must be set "
                              "(a secret key, sk_test_… or sk_live_…).")
        if not self.production:
            return self
        if self.demo_data:
            raise ConfigError("PAYGATE_DEMO_DATA must be 0 in production: the demo accounts' passwords are public.")
        for name in ("jwt_secret", "storage_secret"):
            value = getattr(self, name)
            env_name = f"PAYGATE_{name.upper()}"
            if not value:
                raise ConfigError(f"{env_name} must be set in production (at least {MIN_SECRET_BYTES} bytes).")
            if value.lower() in PLACEHOLDERS or len(value.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"{env_name} is a placeholder or shorter than {MIN_SECRET_BYTES} bytes.")
        return self

    @property
    def provider_names(self) -> list[str]:
        """The providers in routing order (PAYGATE_PROVIDERS), the primary first."""
        return self.providers.split(",")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def resolved_log_format(self) -> LogFormat:
        """PAYGATE_LOG_FORMAT, or its default: JSON in production, text in development."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.production else "text"

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


def _env_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable of a field: its alias as given (PAYGATE_PORT, PORT) or PAYGATE_<NAME>."""
    name = "_".join(str(part) for part in loc)
    if not name:
        return "PAYGATE settings"
    return name if name.isupper() else f"PAYGATE_{name.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """The settings, or ConfigError with one line per setting at fault, named as in the environment."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        problems = [f"{_env_name(err['loc'])}: {err['msg']}" for err in e.errors()]
        raise ConfigError("; ".join(problems)) from None


def load_or_create_secret(settings: Settings, name: str) -> str:
    """The secret from settings, or one generated on first start and kept in the data folder."""
    value: str | None = getattr(settings, name)  # jwt_secret or storage_secret
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
