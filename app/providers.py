"""The registry of payment-provider adapters, and the routes the processor takes to them.

Settings name the providers in routing order (PAYGATE_PROVIDERS); this builds each adapter with its
own token bucket (a database row keyed by the provider's name, so the limit is the provider's and
holds across processes) and its own circuit breaker (also a database row, shared likewise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

from app.config import ProviderName, Settings
from domain.clock import Clock
from domain.model.rate_limit import BucketConfig, InMemoryRateLimiter
from domain.ports import PaymentProvider, RateLimiter
from domain.services.mock_provider import MockConfig, MockProvider
from domain.services.processor import Route
from storage.circuits import SharedCircuit
from storage.db import Database
from storage.ledger import SqlMockLedger
from storage.limiter import DbRateLimiter


def _mock(settings: Settings, db: Database, clock: Clock) -> PaymentProvider:
    return MockProvider(SqlMockLedger(db), clock, MockConfig(settings.mock_failure_rate, settings.mock_timeout_rate,
                                                             settings.mock_min_latency_ms,
                                                             settings.mock_max_latency_ms,
                                                             settings.mock_slow_answer_seconds))


def _stripe(settings: Settings, db: Database, clock: Clock) -> PaymentProvider:
    from app.stripe_provider import StripeProvider  # the SDK is loaded only when Stripe is configured

    assert settings.stripe_api_key, "Settings refuses stripe without a key"
    return StripeProvider(settings.stripe_api_key, settings.stripe_api_base, settings.provider_timeout_seconds)


# name -> factory. A new adapter implements domain.ports.PaymentProvider and is added here and to
# app.config.ProviderName.
REGISTRY: dict[str, Callable[[Settings, Database, Clock], PaymentProvider]] = {"mock": _mock, "stripe": _stripe}
assert set(REGISTRY) == set(get_args(ProviderName))


def bucket_config(settings: Settings) -> BucketConfig:
    return BucketConfig(settings.rate_limit_capacity, settings.rate_limit_per_second, settings.rate_limit_safety_margin)


def build_routes(settings: Settings, db: Database, clock: Clock) -> list[Route]:
    """One route per configured provider, in routing order."""
    routes = []
    for name in settings.provider_names:
        limiter: RateLimiter
        if settings.rate_limit_strategy == "memory":
            limiter = InMemoryRateLimiter(bucket_config(settings), clock)
        else:
            limiter = DbRateLimiter(db, bucket_config(settings), clock, name=name)
        circuit = SharedCircuit(db, name, settings.circuit_fail_max, settings.circuit_reset_seconds)
        routes.append(Route(REGISTRY[name](settings, db, clock), limiter, circuit))
    return routes
