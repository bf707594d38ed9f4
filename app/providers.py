"""The registry of payment-provider adapters: settings name one, this builds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

from app.config import ProviderName, Settings
from domain.clock import Clock
from domain.ports import PaymentProvider
from domain.services.mock_provider import MockConfig, MockProvider
from storage.db import Database
from storage.ledger import SqlMockLedger


def _mock(settings: Settings, db: Database, clock: Clock) -> PaymentProvider:
    return MockProvider(SqlMockLedger(db), clock, MockConfig(settings.mock_failure_rate, settings.mock_min_latency_ms,
                                                             settings.mock_max_latency_ms,
                                                             settings.mock_slow_answer_seconds))


# name -> factory. A real adapter (Stripe, Adyen, …) implements domain.ports.PaymentProvider
# and is added here and to app.config.ProviderName.
REGISTRY: dict[str, Callable[[Settings, Database, Clock], PaymentProvider]] = {"mock": _mock}
assert set(REGISTRY) == set(get_args(ProviderName))


def build_provider(settings: Settings, db: Database, clock: Clock) -> PaymentProvider:
    return REGISTRY[settings.provider](settings, db, clock)
