"""Submitting and reading payments: one-commit storage, idempotent replays, ownership, pagination."""

import random

import pytest

from domain.clock import FakeClock
from domain.model.errors import Forbidden, IdempotencyKeyReused, NotFound, ValidationFailed
from domain.services.mock_provider import MockConfig, MockProvider
from domain.services.payments import PaymentService, encode_cursor
from tests.fakes import T0, FakeLedger, FakeUnitOfWorkFactory, InstantSleep, make_user, run_sync

CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def body(**overrides: object) -> dict:
    raw = {"amount": 10000, "currency": "USD", "description": "Order payment", "paymentMethod": "credit_card"}
    raw.update(overrides)
    return raw


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture
def submitted() -> list[int]:
    return []


@pytest.fixture
def service(uow, clock, submitted) -> PaymentService:
    provider = MockProvider(FakeLedger(), clock, MockConfig(min_latency_ms=0, max_latency_ms=0),
                            rng=random.Random(1), sleep=InstantSleep(clock), run_sync=run_sync)
    return PaymentService(uow, [provider], clock, on_submitted=lambda: submitted.append(1))


@pytest.fixture
def alice(uow):
    return uow.put_user(make_user(email="alice@example.com", user_id="usr_alice"))


@pytest.fixture
def bob(uow):
    return uow.put_user(make_user(email="bob@example.com", user_id="usr_bob"))


@pytest.fixture
def admin(uow):
    return uow.put_user(make_user(role="admin", email="admin@example.com", user_id="usr_admin"))


def fields_of(error: ValidationFailed) -> list[str]:
    return [d.field for d in error.details]


# --- submit -------------------------------------------------------------------------------

def test_a_submission_stores_a_pending_payment_and_its_created_event_in_one_commit(
        service, uow, alice, submitted):
    payment, replayed = service.submit(alice, body(idempotencyKey="k1"))

    assert not replayed
    assert uow.commits == 1
    stored = uow.payment(payment.id)
    assert (stored.status, stored.amount, stored.currency, stored.customer_id) == (
        "pending", 10000, "USD", "usr_alice")
    assert [(e.type, e.aggregate_id, e.customer_id) for e in uow.events()] == [
        ("payment.created", payment.id, "usr_alice")]
    assert uow.events()[0].data["status"] == "pending"
    assert uow.state.idempotency[("usr_alice", "k1")].resource_id == payment.id
    assert submitted == [1]  # the drain job is woken after the commit


def test_a_submission_without_a_key_still_stores_the_payment(service, uow, alice):
    payment, replayed = service.submit(alice, body())

    assert not replayed
    assert uow.payment(payment.id).idempotency_key is None
    assert uow.state.idempotency == {}


def test_a_card_is_kept_only_as_brand_last4_and_token(service, uow, alice):
    payment, _ = service.submit(alice, body(card=CARD))

    stored = uow.payment(payment.id)
    assert (stored.card_brand, stored.card_last4) == ("visa", "4242")
    assert stored.card_tokens["mock"].startswith("tok_")
    everything = repr(uow.state) + repr([e.data for e in uow.events()])
    assert "4242424242424242" not in everything
    assert "'123'" not in everything


def test_the_same_key_and_body_replays_the_same_payment(service, uow, alice, submitted):
    first, _ = service.submit(alice, body(idempotencyKey="k1", card=CARD))

    again, replayed = service.submit(alice, body(idempotencyKey="k1", card=CARD))

    assert replayed
    assert again.id == first.id
    assert len(uow.payments()) == 1
    assert uow.event_types() == ["payment.created"]
    assert submitted == [1]


def test_a_replay_returns_the_payment_as_it_is_now(service, uow, alice):
    first, _ = service.submit(alice, body(idempotencyKey="k1"))
    uow.state.payments[first.id].status = "completed"

    again, replayed = service.submit(alice, body(idempotencyKey="k1"))

    assert replayed and again.status == "completed"


@pytest.mark.parametrize("change", [
    {"amount": 10001},
    {"currency": "EUR"},
    {"description": "something else"},
    {"paymentMethod": "wallet"},
    {"card": {**CARD, "number": "5555555555554444"}},
])
def test_the_same_key_with_a_different_body_is_refused(service, uow, alice, change):
    service.submit(alice, body(idempotencyKey="k1", card=CARD))

    with pytest.raises(IdempotencyKeyReused):
        service.submit(alice, body(idempotencyKey="k1", card=CARD) | change)

    assert len(uow.payments()) == 1


def test_a_key_is_scoped_to_the_calling_user(service, uow, alice, bob):
    a, _ = service.submit(alice, body(idempotencyKey="shared"))

    b, replayed = service.submit(bob, body(idempotencyKey="shared"))

    assert not replayed
    assert a.id != b.id
    assert {p.customer_id for p in uow.payments()} == {"usr_alice", "usr_bob"}


def test_the_key_may_come_in_the_header_and_then_matches_the_same_key_in_the_body(service, alice):
    first, _ = service.submit(alice, body(), header_key="k1")

    again, replayed = service.submit(alice, body(idempotencyKey="k1"))

    assert replayed and again.id == first.id


def test_a_header_key_that_differs_from_the_body_key_is_a_validation_error(service, uow, alice):
    with pytest.raises(ValidationFailed) as raised:
        service.submit(alice, body(idempotencyKey="k1"), header_key="k2")

    assert fields_of(raised.value) == ["idempotencyKey"]
    assert uow.payments() == []


@pytest.mark.parametrize("key", ["x" * 256, "tab\there", 42])
def test_an_unusable_idempotency_key_is_a_validation_error(service, alice, key):
    with pytest.raises(ValidationFailed) as raised:
        service.submit(alice, body(idempotencyKey=key))

    assert fields_of(raised.value) == ["idempotencyKey"]


def test_a_concurrent_request_with_the_same_key_that_commits_first_is_replayed(service, uow, alice):
    winner = []
    uow.before_commit = lambda: winner.append(service.submit(alice, body(idempotencyKey="k1"))[0])

    payment, replayed = service.submit(alice, body(idempotencyKey="k1"))

    assert replayed
    assert payment.id == winner[0].id
    assert [p.id for p in uow.payments()] == [winner[0].id]
    assert uow.event_types() == ["payment.created"]


def test_a_concurrent_request_with_the_same_key_and_another_body_makes_this_one_a_reused_key(
        service, uow, alice):
    uow.before_commit = lambda: service.submit(alice, body(idempotencyKey="k1", amount=5))

    with pytest.raises(IdempotencyKeyReused):
        service.submit(alice, body(idempotencyKey="k1"))

    assert [p.amount for p in uow.payments()] == [5]


def test_a_customer_cannot_pay_as_another_customer(service, uow, alice):
    with pytest.raises(Forbidden):
        service.submit(alice, body(customerId="usr_bob"))

    assert uow.payments() == []


def test_a_customer_may_name_themself_as_the_customer(service, alice):
    payment, _ = service.submit(alice, body(customerId="usr_alice"))

    assert payment.customer_id == "usr_alice"


def test_an_admin_may_pay_for_any_customer(service, uow, admin):
    uow.put_user(make_user(user_id="customer_123"))

    payment, _ = service.submit(admin, body(customerId="customer_123"))

    assert uow.payment(payment.id).customer_id == "customer_123"
    assert uow.events()[0].customer_id == "customer_123"  # the customer sees it on their stream


def test_an_admin_paying_for_someone_who_does_not_exist_is_refused_and_stores_nothing(service, uow, admin):
    with pytest.raises(ValidationFailed) as refused:
        service.submit(admin, body(customerId="usr_ghost"))

    assert refused.value.details[0].field == "customerId"
    assert uow.events() == []


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": 0}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": 100_000_000}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": "100"}, "amount"),
    ({"amount": 10.5}, "amount"),
    ({"currency": "XXX"}, "currency"),
    ({"currency": None}, "currency"),
    ({"description": "x" * 501}, "description"),
    ({"description": 42}, "description"),
    ({"paymentMethod": "cash"}, "paymentMethod"),
    ({"card": "4242424242424242"}, "card"),
    ({"card": {**CARD, "number": "4242424242424241"}}, "card.number"),
    ({"card": {**CARD, "expYear": 2025}}, "card.expYear"),
    ({"customerId": 7}, "customerId"),
])
def test_each_invalid_field_is_named_in_the_validation_error(service, uow, admin, change, field):
    with pytest.raises(ValidationFailed) as raised:
        service.submit(admin, body(**change))

    assert fields_of(raised.value) == [field]
    assert uow.payments() == []


def test_the_edges_of_the_valid_ranges_are_accepted(service, alice):
    low, _ = service.submit(alice, body(amount=1, description=""))
    high, _ = service.submit(alice, body(amount=99_999_999, description="x" * 500, currency="jpy"))

    assert (low.amount, high.amount, high.currency) == (1, 99_999_999, "JPY")


def test_every_invalid_field_is_reported_at_once(service, alice):
    with pytest.raises(ValidationFailed) as raised:
        service.submit(alice, body(amount=0, currency="XXX", description="x" * 501, paymentMethod="cash"))

    assert fields_of(raised.value) == ["amount", "currency", "description", "paymentMethod"]


# --- read ---------------------------------------------------------------------------------

def test_a_customer_reads_their_own_payment(service, alice):
    payment, _ = service.submit(alice, body())

    assert service.get(alice, payment.id).id == payment.id


def test_another_customers_payment_does_not_exist_for_you(service, alice, bob):
    payment, _ = service.submit(alice, body())

    with pytest.raises(NotFound):
        service.get(bob, payment.id)
    with pytest.raises(NotFound):
        service.events(bob, payment.id)


def test_an_admin_reads_any_payment_and_its_audit_trail(service, alice, admin):
    payment, _ = service.submit(alice, body())

    assert service.get(admin, payment.id).id == payment.id
    assert [e.type for e in service.events(admin, payment.id)] == ["payment.created"]


def test_an_unknown_payment_is_not_found(service, admin):
    with pytest.raises(NotFound):
        service.get(admin, "pay_missing")


def submit_many(service, clock, actor, n, same_instant=0):
    """n payments a second apart, then `same_instant` more all created at one moment."""
    ids = []
    for _ in range(n):
        clock.advance(1)
        ids.append(service.submit(actor, body())[0].id)
    clock.advance(1)
    for _ in range(same_instant):
        ids.append(service.submit(actor, body())[0].id)
    return ids


def all_pages(service, actor, limit, **filters):
    ids, cursor, pages = [], None, 0
    while True:
        page, cursor = service.list(actor, limit=limit, cursor=cursor, **filters)
        ids += [p.id for p in page]
        pages += 1
        if cursor is None:
            return ids, pages


def test_the_list_is_newest_first(service, clock, alice):
    ids = submit_many(service, clock, alice, 4)

    page, cursor = service.list(alice)

    assert [p.id for p in page] == ids[::-1]
    assert cursor is None


def test_paging_with_the_cursor_visits_every_payment_once_even_with_equal_timestamps(
        service, clock, alice, uow):
    ids = submit_many(service, clock, alice, 5, same_instant=4)
    newest_first = sorted(uow.payments(), key=lambda p: (p.created_at, p.id), reverse=True)

    seen, pages = all_pages(service, alice, limit=2)

    assert seen == [p.id for p in newest_first]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 9
    assert pages == 5


def test_a_full_last_page_has_no_next_cursor(service, clock, alice):
    submit_many(service, clock, alice, 4)

    first, cursor = service.list(alice, limit=2)
    second, end = service.list(alice, limit=2, cursor=cursor)

    assert len(first) == len(second) == 2
    assert end is None


def test_a_payment_added_while_paging_does_not_shift_the_pages(service, clock, alice):
    ids = submit_many(service, clock, alice, 4)
    first, cursor = service.list(alice, limit=2)

    submit_many(service, clock, alice, 1)
    second, _ = service.list(alice, limit=2, cursor=cursor)

    assert [p.id for p in first + second] == ids[::-1]


def test_a_customer_lists_only_their_own_payments_and_an_admin_lists_all(service, clock, alice, bob, admin):
    mine = submit_many(service, clock, alice, 2)
    theirs = submit_many(service, clock, bob, 3)

    assert set(all_pages(service, alice, limit=1)[0]) == set(mine)
    assert set(all_pages(service, admin, limit=50)[0]) == set(mine + theirs)


def test_the_status_filter_returns_only_that_status(service, clock, alice, uow):
    ids = submit_many(service, clock, alice, 5)
    for pid in ids[1::2]:
        uow.state.payments[pid].status = "failed"

    failed, _ = all_pages(service, alice, limit=1, status="failed")
    pending, _ = all_pages(service, alice, limit=1, status="pending")

    assert failed == [ids[3], ids[1]]
    assert pending == [ids[4], ids[2], ids[0]]


@pytest.mark.parametrize("cursor", ["garbage!", "bm90LWEtY3Vyc29y", "é", "MjAyNi0xMy0wMXxwYXlfMQ"])
def test_a_cursor_the_api_did_not_return_is_a_validation_error(service, alice, cursor):
    with pytest.raises(ValidationFailed) as raised:
        service.list(alice, cursor=cursor)

    assert fields_of(raised.value) == ["cursor"]


def test_a_cursor_round_trips_through_its_encoding(service, alice):
    payment, _ = service.submit(alice, body())

    page, _ = service.list(alice, cursor=encode_cursor(payment))

    assert page == []  # nothing is older than the only payment


@pytest.mark.parametrize(("status", "limit", "field"), [("unknown", 50, "status"), (None, 0, "limit"),
                                                       (None, 201, "limit")])
def test_an_unknown_status_or_a_limit_out_of_range_is_a_validation_error(
        service, alice, status, limit, field):
    with pytest.raises(ValidationFailed) as raised:
        service.list(alice, status=status, limit=limit)

    assert fields_of(raised.value) == [field]
