"""Inbound provider events about refunds, on fakes: a `charge.refunded` that lists its refunds settles
them directly; one that does not (Stripe's Charge stopped listing them in API version 2022-11-15) makes
the payment's refunds whose outcome is unknown due for their lookup now, so the refund drain asks the
provider at once instead of after the lookup's backoff; `refund.updated` settles the refund it carries.
(Events about charges are tested in tests/unit/test_routing.py.)"""

from __future__ import annotations

from datetime import timedelta

from domain.model.providers import CallResult
from domain.services.provider_events import ProviderEvent, ProviderEvents, Settled
from domain.services.refund_processor import RefundProcessor
from domain.services.refunds import RefundService
from tests.fakes import make_user
from tests.unit.fleet import CARD, Fleet

LOST = TimeoutError("the refund's answer was lost")


class Rig:
    def __init__(self) -> None:
        self.fleet = Fleet("mock")
        self.admin = self.fleet.uow.put_user(make_user(role="admin", email="root@example.com", user_id="usr_admin"))
        self.refunds = RefundService(self.fleet.uow, self.fleet.clock)
        self.drain = RefundProcessor(self.fleet.processor)
        self.events = ProviderEvents(self.fleet.uow, self.fleet.clock)

    async def paid(self) -> str:
        pid = self.fleet.submit(card=CARD)
        await self.fleet.settle()
        assert self.fleet.uow.payment(pid).status == "completed"
        return pid

    async def unknown_refund(self, pid: str, amount: int, answer: CallResult | Exception | None = None) -> str:
        """A refund whose call went out and whose answer was lost: pending, needs_lookup, a lookup later.
        By default the mock made the refund before the answer was lost; `answer` replaces the call."""
        provider = self.fleet.route("mock").provider
        if answer is not None:
            provider.refund_script = [answer]
        else:
            mock, made = provider.inner, provider.inner.refund

            async def refunded_then_lost(request):
                mock.refund = made  # once
                await made(request)
                raise LOST

            mock.refund = refunded_then_lost
        refund, _ = self.refunds.create(self.admin, pid, {"amount": amount})
        await self.drain.drain()
        stored = self.stored(refund.id)
        assert (stored.status, stored.needs_lookup) == ("pending", True)
        assert stored.next_attempt_at is not None and stored.next_attempt_at > self.fleet.clock.now()
        return refund.id

    def stored(self, refund_id: str):
        return self.fleet.uow.state.refunds[refund_id]

    def refund_calls(self) -> list[str]:
        return [c[0] for c in self.fleet.calls() if c[0] in ("refund", "lookup_refund")]


async def test_a_charge_refunded_event_without_its_refunds_makes_the_unknown_refunds_lookups_due_now():
    rig = Rig()
    pid = await rig.paid()
    rid = await rig.unknown_refund(pid, 700)  # the refund went through at the mock; its answer was lost
    now = rig.fleet.clock.now()

    outcome = rig.events.receive(ProviderEvent("mock", "evt_c1", "charge.refunded", pid, "tx_1", None))

    assert outcome is Settled.REFUND_LOOKUP_DUE
    stored = rig.stored(rid)
    assert (stored.status, stored.needs_lookup, stored.next_attempt_at) == ("pending", True, now)
    await rig.drain.drain()  # at the same moment: no backoff waited out
    assert rig.refund_calls() == ["refund", "lookup_refund"]
    assert (rig.stored(rid).status, rig.stored(rid).needs_lookup) == ("succeeded", False)
    assert len(rig.fleet.mock_ledger.refunds(None, 10)) == 1  # asked, not refunded again
    assert rig.fleet.uow.payment(pid).refunded_amount == 700


async def test_without_the_event_the_unknown_refund_waits_for_its_lookups_backoff():
    rig = Rig()
    pid = await rig.paid()
    rid = await rig.unknown_refund(pid, 700)

    await rig.drain.drain()

    assert rig.refund_calls() == ["refund"]
    assert rig.stored(rid).status == "pending"


async def test_a_charge_refunded_event_without_refunds_leaves_settled_refunds_and_other_payments_alone():
    rig = Rig()
    pid = await rig.paid()
    other = await rig.paid()
    done, _ = rig.refunds.create(rig.admin, pid, {"amount": 300})
    await rig.drain.drain()
    assert rig.stored(done.id).status == "succeeded"
    elsewhere = await rig.unknown_refund(other, 500)
    later = rig.stored(elsewhere).next_attempt_at

    outcome = rig.events.receive(ProviderEvent("mock", "evt_c2", "charge.refunded", pid, "tx_1", None))
    foreign = rig.events.receive(ProviderEvent("stripe", "evt_c3", "charge.refunded", other, "pi_1", None))

    assert (outcome, foreign) == (Settled.IGNORED, Settled.IGNORED)  # nothing in doubt; not that provider's
    assert rig.stored(done.id).status == "succeeded"
    assert rig.stored(elsewhere).next_attempt_at == later


async def test_a_charge_refunded_event_that_lists_its_refunds_settles_them_directly_once():
    rig = Rig()
    pid = await rig.paid()
    rid = await rig.unknown_refund(pid, 700)
    event = ProviderEvent("mock", "evt_c4", "charge.refunded", pid, "tx_1", None,
                          refunds=(("rf_listed", rid, "succeeded"),))

    assert rig.events.receive(event) is Settled.REFUNDED
    assert rig.events.receive(event) is Settled.DUPLICATE

    assert (rig.stored(rid).status, rig.stored(rid).transaction_id) == ("succeeded", "rf_listed")
    assert rig.refund_calls() == ["refund"]  # no lookup was needed
    assert rig.fleet.uow.event_types(pid).count("refund.succeeded") == 1


async def test_a_charge_refunded_event_whose_listed_refunds_are_all_pending_still_makes_their_lookups_due():
    rig = Rig()
    pid = await rig.paid()
    rid = await rig.unknown_refund(pid, 700)
    event = ProviderEvent("mock", "evt_c5", "charge.refunded", pid, "tx_1", None,
                          refunds=(("rf_listed", rid, "pending"),))

    assert rig.events.receive(event) is Settled.REFUND_LOOKUP_DUE
    assert rig.stored(rid).next_attempt_at == rig.fleet.clock.now()
    assert rig.stored(rid).status == "pending"


async def test_a_refund_updated_event_settles_the_refund_it_carries_and_a_late_one_changes_nothing():
    rig = Rig()
    pid = await rig.paid()
    failed = await rig.unknown_refund(pid, 400)
    updated = ProviderEvent("mock", "evt_r1", "refund.updated", pid, "tx_1", None,
                            refunds=(("rf_2", failed, "failed"),))

    assert rig.events.receive(updated) is Settled.REFUND_FAILED
    late = rig.events.receive(ProviderEvent("mock", "evt_r2", "refund.updated", pid, "tx_1", None,
                                            refunds=(("rf_2", failed, "succeeded"),)))
    unlisted_late = rig.events.receive(ProviderEvent("mock", "evt_r3", "charge.refunded", pid, "tx_1", None))

    assert (late, unlisted_late) == (Settled.IGNORED, Settled.IGNORED)
    assert (rig.stored(failed).status, rig.stored(failed).failure_code) == ("failed", "refund_failed")
    assert rig.fleet.uow.payment(pid).refunded_amount == 0


async def test_the_lookup_made_due_by_the_event_finds_no_refund_and_the_refund_is_then_made_once():
    rig = Rig()
    pid = await rig.paid()
    # The call failed before it reached the provider, but its answer was lost: nothing stands there.
    rid = await rig.unknown_refund(pid, 700, answer=ConnectionResetError("lost before sending"))
    assert rig.fleet.mock_ledger.refunds(None, 10) == []

    assert rig.events.receive(ProviderEvent("mock", "evt_c5", "charge.refunded", pid, "tx_1", None)) is \
        Settled.REFUND_LOOKUP_DUE
    for _ in range(10):
        await rig.drain.drain()
        if rig.stored(rid).status != "pending":
            break
        rig.fleet.clock.advance(timedelta(seconds=5).total_seconds())

    assert rig.refund_calls()[:2] == ["refund", "lookup_refund"]
    assert rig.stored(rid).status == "succeeded"
    assert len(rig.fleet.mock_ledger.refunds(None, 10)) == 1
