"""Half-open probes are provider calls like any other: once a circuit's open timeout has passed, the
probe waits for and takes a token from that provider's own bucket (and no other's) before it goes
out, whether it then succeeds or fails. Fakes, a fake clock, no real waiting."""

from __future__ import annotations

from datetime import timedelta

from domain.model.providers import CallResult, CircuitState
from tests.unit.fleet import Fleet

RESET = 30.0


def tokens(fleet: Fleet) -> list[str]:
    """The buckets that granted a token, in order."""
    return [entry[1] for entry in fleet.log if entry[0] == "token"]


async def test_a_half_open_probe_takes_a_token_from_its_own_providers_bucket():
    fleet = Fleet("mock", "stripe", reset_seconds=RESET)
    stripe, mock = fleet.route("stripe"), fleet.route("mock")
    stripe.circuit.opened_at = fleet.clock.now()
    pid = fleet.submit(card=None, paymentMethodToken="pm_card_visa")  # only Stripe can charge it
    await fleet.processor.drain()
    assert tokens(fleet) == [] and fleet.calls() == []  # open: no call, no token

    fleet.clock.set(stripe.circuit.opened_at + timedelta(seconds=RESET))
    assert stripe.circuit.state() is CircuitState.HALF_OPEN
    full = stripe.limiter.available()
    await fleet.processor.drain()

    assert fleet.log == [("token", "stripe", None), ("charge", "stripe", pid)]  # the token, then the probe
    assert stripe.limiter.available() == full - 1
    assert mock.limiter.available() == mock.limiter.config.capacity  # the other bucket is untouched
    assert stripe.circuit.state() is CircuitState.CLOSED
    assert fleet.uow.payment(pid).status == "completed"


async def test_a_failed_probe_took_its_token_too():
    fleet = Fleet("mock", reset_seconds=RESET)
    mock = fleet.route("mock")
    mock.circuit.opened_at = fleet.clock.now()
    mock.provider.script = [CallResult.error("provider_unavailable", "still down")]
    pid = fleet.submit()
    fleet.clock.advance(RESET)
    full = mock.limiter.available()

    await fleet.processor.drain()

    assert fleet.log == [("token", "mock", None), ("charge", "mock", pid)]
    assert mock.limiter.available() == full - 1
    assert mock.circuit.state() is CircuitState.OPEN  # the probe failed: open again
    assert fleet.uow.payment(pid).status == "retrying"
