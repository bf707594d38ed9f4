"""Every implementation of a port, storage's and the fakes', offers the port's methods with its signatures.

Without a type checker in the toolchain this is what keeps a fake from drifting away from the port it
stands in for (and so from the real storage): a method renamed, a parameter added, a return type changed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from domain import ports
from domain.model.rate_limit import InMemoryRateLimiter
from domain.services.auth import MemoryFailureStore
from storage.circuits import SharedCircuit
from storage.deliveries import SqlDeliveryRepository
from storage.ledger import SqlMockLedger
from storage.limiter import DbRateLimiter
from storage.refunds import SqlRefundRepository
from storage.repositories import (
    SqlAttemptRepository,
    SqlIdempotencyRepository,
    SqlOutboxRepository,
    SqlPaymentRepository,
    SqlProviderEventRepository,
    SqlUserRepository,
)
from storage.shop import SqlCartRepository, SqlOrderRepository, SqlProductRepository
from storage.throttle import SqlFailureStore
from storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from storage.webhooks import SqlWebhookRepository
from tests import fakes

IMPLEMENTATIONS: dict[type, list[type]] = {
    ports.UserRepository: [fakes.FakeUserRepository, SqlUserRepository],
    ports.PaymentRepository: [fakes.FakePaymentRepository, SqlPaymentRepository],
    ports.IdempotencyRepository: [fakes.FakeIdempotencyRepository, SqlIdempotencyRepository],
    ports.OutboxRepository: [fakes.FakeOutboxRepository, SqlOutboxRepository],
    ports.ProductRepository: [fakes.FakeProductRepository, SqlProductRepository],
    ports.CartRepository: [fakes.FakeCartRepository, SqlCartRepository],
    ports.OrderRepository: [fakes.FakeOrderRepository, SqlOrderRepository],
    ports.DeliveryRepository: [fakes.FakeDeliveryRepository, SqlDeliveryRepository],
    ports.AttemptRepository: [fakes.FakeAttemptRepository, SqlAttemptRepository],
    ports.ProviderEventRepository: [fakes.FakeProviderEventRepository, SqlProviderEventRepository],
    ports.RefundRepository: [fakes.FakeRefundRepository, SqlRefundRepository],
    ports.WebhookRepository: [fakes.FakeWebhookRepository, SqlWebhookRepository],
    ports.Circuit: [fakes.FakeCircuit, SharedCircuit],
    ports.UnitOfWork: [fakes.FakeUnitOfWork, SqlUnitOfWork],
    ports.UnitOfWorkFactory: [fakes.FakeUnitOfWorkFactory, SqlUnitOfWorkFactory],
    ports.PasswordHasher: [fakes.FakeHasher],
    ports.MockLedger: [fakes.FakeLedger, SqlMockLedger],
    ports.FailureStore: [MemoryFailureStore, SqlFailureStore],
    ports.RateLimiter: [InMemoryRateLimiter, DbRateLimiter],
}
# A unit of work (and its factory) may name its own class where the port names the protocol.
UNITS_OF_WORK = {"UnitOfWork", "FakeUnitOfWork", "SqlUnitOfWork"}

CASES = [pytest.param(port, impl, id=impl.__name__) for port, impls in IMPLEMENTATIONS.items() for impl in impls]


def methods(port: type) -> dict[str, Callable[..., Any]]:
    return {name: value for name, value in vars(port).items()
            if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__", "__call__"))}


def plain(annotation: Any) -> Any:
    """The annotation's text without `builtins.` (written where a method named `list` shadows the type)."""
    return annotation.replace("builtins.", "") if isinstance(annotation, str) else annotation


def shape(function: Callable[..., Any]) -> tuple[list[tuple[str, Any, bool, Any]], Any]:
    """Parameters (name, kind, has a default, annotation) and the return annotation."""
    signature = inspect.signature(function)
    parameters = [(p.name, p.kind, p.default is not p.empty, plain(p.annotation))
                  for p in signature.parameters.values()]
    returns = plain(signature.return_annotation)
    return parameters, "UnitOfWork" if returns in UNITS_OF_WORK else returns


@pytest.mark.parametrize(("port", "implementation"), CASES)
def test_an_implementation_has_every_method_of_its_port_with_the_same_signature(port: type, implementation: type):
    expected = {name: shape(method) for name, method in methods(port).items()}

    actual = {name: shape(getattr(implementation, name)) for name in expected if hasattr(implementation, name)}

    assert actual == expected


def test_the_fake_unit_of_work_declares_its_repositories_with_the_ports_types():
    declared = ports.UnitOfWork.__annotations__

    assert fakes.FakeUnitOfWork.__annotations__ == declared
    assert set(declared) == {"users", "payments", "idempotency", "outbox", "products", "carts", "orders",
                             "deliveries", "attempts", "provider_events", "refunds", "webhooks"}


def test_the_signature_check_catches_a_drifting_fake():
    class DriftingCarts(fakes.FakeCartRepository):
        def take(self, customer_id: str) -> bool:  # type: ignore[override]
            return False

    expected = shape(ports.CartRepository.take)

    assert shape(DriftingCarts.take) != expected
    assert shape(fakes.FakeCartRepository.take) == expected
