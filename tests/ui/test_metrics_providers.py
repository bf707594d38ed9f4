"""The figures behind the System Metrics page's providers, with fakes: no database, no app, no waiting."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from app.metrics import ProviderStatus, Role, Sampler, latencies, provider_statuses
from app.pages.admin_metrics import latency_series
from domain.clock import FakeClock
from domain.model.providers import Attempt, CallKind, CallResult, CircuitState, Outcome
from domain.model.rate_limit import BucketConfig, InMemoryRateLimiter
from domain.services.processor import Route
from tests.fakes import T0, FakeCircuit, FakeUnitOfWorkFactory, make_payment

OUTAGE = CallResult.error("provider_unavailable", "no answer")


class Named:
    """All the metrics read of a provider: its name."""

    def __init__(self, name: str) -> None:
        self.name = name


def route(name: str, clock: FakeClock, capacity: int = 2) -> Route:
    limiter = InMemoryRateLimiter(BucketConfig(capacity, refill_per_second=1.0), clock)
    return Route(Named(name), limiter, FakeCircuit(clock, fail_max=2))


def attempt(payment_id: str, provider: str, seconds_after_t0: float, latency_ms: int | None,
            outcome: Outcome | None = Outcome.APPROVED, kind: CallKind = CallKind.CHARGE) -> Attempt:
    return Attempt(payment_id, 1, kind, provider, T0 + timedelta(seconds=seconds_after_t0), latency_ms, outcome)


def stored(*attempts: Attempt) -> FakeUnitOfWorkFactory:
    uow = FakeUnitOfWorkFactory()
    with uow() as u:
        for a in attempts:
            u.attempts.add(a)
        u.commit()
    return uow


def test_each_provider_shows_its_role_circuit_own_bucket_and_last_error_in_routing_order():
    clock = FakeClock(T0)
    primary, fallback = route("mock", clock), route("backup", clock, capacity=5)
    primary.limiter.try_acquire()
    for _ in range(2):
        fallback.circuit.end(object(), OUTAGE)

    statuses = provider_statuses([primary, fallback])

    assert statuses == [
        ProviderStatus("mock", Role.PRIMARY, CircuitState.CLOSED, 1.0, 2, None, refill_rate=1.0),
        ProviderStatus("backup", Role.FALLBACK, CircuitState.OPEN, 5.0, 5, ("provider_unavailable", "no answer", T0),
                       refill_rate=1.0),
    ]


def test_an_open_circuit_reads_half_open_once_its_timeout_has_passed():
    clock = FakeClock(T0)
    primary = route("mock", clock)
    for _ in range(2):
        primary.circuit.end(object(), OUTAGE)

    clock.advance(30)

    assert provider_statuses([primary])[0].circuit is CircuitState.HALF_OPEN


def test_latencies_are_the_finished_calls_of_the_window_by_provider_oldest_first():
    uow = stored(attempt("pay_1", "mock", 10, 120),
                 attempt("pay_2", "backup", 20, 400, Outcome.ERROR),
                 attempt("pay_3", "mock", 30, 80, Outcome.DECLINED, CallKind.LOOKUP),
                 attempt("pay_4", "mock", 40, None, outcome=None),  # in flight
                 attempt("pay_5", "mock", -60, 999))  # before the window

    calls = latencies(uow, since=T0, limit=10)

    assert {name: [a.latency_ms for a in found] for name, found in calls.items()} == {"mock": [120, 80],
                                                                                     "backup": [400]}


def test_latencies_keep_only_the_newest_calls_of_all_providers_together():
    uow = stored(*(attempt(f"pay_{i}", "mock", i, 100 + i) for i in range(5)))

    calls = latencies(uow, since=T0, limit=2)

    assert [a.latency_ms for a in calls["mock"]] == [103, 104]


def test_the_latency_chart_has_a_line_per_configured_provider_then_the_others_that_made_calls():
    calls = {"stripe": [attempt("pay_1", "stripe", 0, 300)],
             "mock": [attempt("pay_2", "mock", 1, 120), attempt("pay_3", "mock", 2, 80)]}

    series = latency_series(["backup", "mock"], calls)

    epoch_ms = int(T0.timestamp() * 1000)
    assert [(s["name"], s["data"]) for s in series] == [
        ("backup", []),
        ("mock", [[epoch_ms + 1000, 120], [epoch_ms + 2000, 80]]),
        ("stripe", [[epoch_ms, 300]]),
    ]
    assert [s["showSymbol"] for s in series] == [True, False, True]  # a lone point has no line to show it


def test_a_sample_holds_every_providers_bucket_and_the_primarys_as_its_tokens():
    clock = FakeClock(T0)
    primary, fallback = route("mock", clock), route("backup", clock)
    fallback.limiter.try_acquire()
    uow = FakeUnitOfWorkFactory()
    uow.put_payment(make_payment(status="pending"))
    container = SimpleNamespace(uow=uow, clock=clock, routes=[primary, fallback], limiter=primary.limiter)
    sampler = Sampler(container)

    sample = sampler.sample()

    assert (sample.at, sample.queue, sample.tokens, sample.buckets) == (T0, 1, 2.0, {"mock": 2.0, "backup": 1.0})
    assert list(sampler.samples) == [sample]
