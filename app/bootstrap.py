"""The one place that builds real objects and wires them together."""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from app.config import Settings, load_or_create_secret
from app.customer_limits import build_customer_limiter
from app.live import EventHub
from app.providers import build_routes
from app.security import Argon2Hasher, TokenService, UserCache
from app.tracing import build_tracer
from app.webhook_sender import DnsResolver, HttpWebhookSender
from domain.clock import SystemClock
from domain.model.customer_limits import CustomerLimiter
from domain.model.retry import RetryPolicy
from domain.model.webhooks import RetrySchedule
from domain.observability import NO_TRACER, Tracer
from domain.ports import PaymentProvider, RateLimiter
from domain.services.auth import AuthService, LoginThrottle
from domain.services.card_vault import CardVault
from domain.services.cart import CartService
from domain.services.catalog import CatalogService
from domain.services.deliveries import DeliveryWorker
from domain.services.orders import OrderService
from domain.services.payments import PaymentService
from domain.services.processor import PaymentProcessor, ProcessorConfig, Route
from domain.services.provider_events import ProviderEvents
from domain.services.refund_processor import RefundProcessor
from domain.services.refunds import RefundService
from domain.services.users import UserService
from domain.services.webhook_dispatcher import DispatchConfig, WebhookDispatcher
from domain.services.webhook_wake import WebhookWakeGate
from domain.services.webhooks import WebhookService
from storage.db import Database
from storage.ledger import SqlMockLedger
from storage.seed import seed_demo_catalog, seed_demo_users
from storage.throttle import SqlFailureStore
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger("paygate")


@dataclass
class Container:
    settings: Settings
    db: Database
    uow: SqlUnitOfWorkFactory
    clock: SystemClock
    hasher: Argon2Hasher
    tokens: TokenService
    storage_secret: str
    users: UserService
    auth: AuthService
    limiter: RateLimiter  # the primary provider's bucket
    ledger: SqlMockLedger
    provider: PaymentProvider  # the primary
    payments: PaymentService
    processor: PaymentProcessor
    hub: EventHub
    catalog: CatalogService
    cart: CartService
    orders: OrderService
    deliveries: DeliveryWorker
    user_cache: UserCache
    provider_events: ProviderEvents
    refunds: RefundService
    refund_processor: RefundProcessor
    webhooks: WebhookService  # merchant endpoints and their delivery log
    webhook_dispatcher: WebhookDispatcher  # sends the deliveries (a scheduler job pumps it)
    webhook_gate: WebhookWakeGate  # whether a new event may owe a delivery (the scheduler loads it)
    routes: list[Route] = field(default_factory=list)  # every provider in routing order
    customer_limits: CustomerLimiter | None = None  # per-user submission buckets (app/customer_limits.py)
    owner: str = ""  # this process's name in leases and heartbeats
    started_at: float = field(default_factory=time.time)
    wake_drain: list[Callable[[], None]] = field(default_factory=list)  # the scheduler adds its wake-up
    wake_webhooks: list[Callable[[], None]] = field(default_factory=list)  # the scheduler adds its wake-up
    tracer: Tracer = NO_TRACER  # OpenTelemetry when PAYGATE_OTEL_ENDPOINT is set (app/tracing.py)

    def init_storage(self) -> None:
        """Create the schema and, on a first start, the demo data."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db.create_all(then=self._seed if self.settings.demo_data else None)

    def _seed(self) -> None:
        users, products = seed_demo_users(self.users), seed_demo_catalog(self.catalog)
        if users or products:
            log.info("created %d demo users and %d demo products", users, products)


def _crash_after(settings: Settings) -> Callable[[object], None]:
    """Fault injection for the crash tests: SIGKILL this process after N provider calls."""
    remaining = settings.fault_crash_after_charges

    def after_charge(_work: object) -> None:  # a payment or a refund: any provider call counts
        nonlocal remaining
        if remaining <= 0:
            return
        remaining -= 1
        if remaining == 0:
            log.warning("fault injection: killing this process after a provider call")
            os.kill(os.getpid(), signal.SIGKILL)

    return after_charge


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    clock = SystemClock()
    db = Database(settings.resolved_database_url)
    uow = SqlUnitOfWorkFactory(db)
    hasher = Argon2Hasher()
    tokens = TokenService(load_or_create_secret(settings, "jwt_secret"), clock, settings.jwt_ttl_seconds)
    storage_secret = load_or_create_secret(settings, "storage_secret")
    window = timedelta(seconds=settings.login_window_seconds)
    throttle = LoginThrottle(clock, settings.login_max_failures, window, SqlFailureStore(db))
    client_throttle = LoginThrottle(clock, settings.login_max_client_failures, window, SqlFailureStore(db))
    routes = build_routes(settings, db, clock)
    ledger = SqlMockLedger(db)
    vault = CardVault(clock)
    user_cache = UserCache()
    wake_drain: list[Callable[[], None]] = []

    def work_queued() -> None:
        for wake in wake_drain:
            wake()

    owner = f"{socket.gethostname()}:{os.getpid()}:{int(time.time() * 1000) % 100000}"
    payments = PaymentService(uow, [route.provider for route in routes], clock, on_submitted=work_queued,
                              vault=vault, holder=owner, hold_seconds=settings.lease_seconds)
    hub = EventHub(uow)
    crash_after = _crash_after(settings)
    tracer = build_tracer(settings.otel_endpoint)
    processor = PaymentProcessor(
        uow, routes,
        RetryPolicy(settings.retry_base_seconds, 2.0, settings.retry_cap_seconds, settings.retry_max),
        clock,
        ProcessorConfig(owner=owner, lease_seconds=settings.lease_seconds,
                        call_timeout_seconds=settings.provider_timeout_seconds,
                        circuit_wait_seconds=min(5.0, settings.circuit_reset_seconds)),
        vault=vault,
        after_charge=crash_after,
        tracer=tracer,
    )
    refund_processor = RefundProcessor(processor, after_call=crash_after)
    orders = OrderService(uow, payments, clock, on_placed=work_queued)
    deliveries = DeliveryWorker(uow, {"orders": orders.on_payment_event}, clock, owner)
    wake_webhooks: list[Callable[[], None]] = []

    def webhooks_due() -> None:
        for wake in wake_webhooks:
            wake()

    webhooks = WebhookService(uow, clock, DnsResolver(), allow_private=settings.webhooks_allow_private,
                              on_due=webhooks_due)
    webhook_dispatcher = WebhookDispatcher(
        uow, HttpWebhookSender(allow_private=settings.webhooks_allow_private,
                               timeout_seconds=settings.webhook_timeout_seconds, clock=clock),
        clock, DispatchConfig(owner=owner, lease_seconds=settings.webhook_lease_seconds,
                              max_in_flight=settings.webhook_max_in_flight,
                              per_endpoint=settings.webhook_max_in_flight_per_endpoint),
        RetrySchedule.parse(settings.webhook_retry_schedule), on_slot_free=webhooks_due)
    webhook_gate = WebhookWakeGate(uow)
    container = Container(settings, db, uow, clock, hasher, tokens, storage_secret,
                          UserService(uow, hasher, clock, on_changed=user_cache.forget),
                          AuthService(uow, hasher, throttle, client_throttle),
                          routes[0].limiter, ledger, routes[0].provider, payments, processor, hub,
                          CatalogService(uow, clock), CartService(uow, clock), orders, deliveries, user_cache,
                          ProviderEvents(uow, clock), RefundService(uow, clock, on_submitted=work_queued),
                          refund_processor, routes=routes, owner=owner,
                          wake_drain=wake_drain, webhooks=webhooks, webhook_dispatcher=webhook_dispatcher,
                          webhook_gate=webhook_gate, wake_webhooks=wake_webhooks, tracer=tracer)
    container.customer_limits = build_customer_limiter(settings, db, clock)
    hub.subscribe(user_cache.on_event)  # other processes' changes to users
    # A public event (from any process) may have made deliveries: send them now, not at the next poll;
    # but only when some enabled endpoint wants its type (the gate follows endpoint events from every
    # process; the dispatcher's interval poll finds due deliveries whatever the gate says).
    hub.subscribe(lambda event: webhooks_due() if webhook_gate.wants(event) else None)
    return container
