"""Sign-in: credentials that do not reveal accounts, and a sliding-window brute-force throttle."""

from datetime import timedelta

import pytest

from domain.clock import FakeClock
from domain.model.errors import InvalidCredentials, RateLimited
from domain.services.auth import AuthService, LoginThrottle
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, make_user

EMAIL = "alice@example.com"
PASSWORD = "correct-horse"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    factory = FakeUnitOfWorkFactory()
    factory.put_user(make_user(email=EMAIL, user_id="usr_alice", password=PASSWORD))
    return factory


@pytest.fixture
def auth(uow, hasher, clock) -> AuthService:
    return AuthService(uow, hasher, LoginThrottle(clock))


def fail_times(auth: AuthService, n: int, email: str = EMAIL, client: str = "10.0.0.1") -> None:
    for _ in range(n):
        with pytest.raises(InvalidCredentials):
            auth.authenticate(email, "wrong-password", client)


def test_the_right_password_returns_the_user(auth):
    user = auth.authenticate(EMAIL, PASSWORD, "10.0.0.1")

    assert user.id == "usr_alice"


def test_the_email_is_matched_regardless_of_case_and_spaces(auth):
    user = auth.authenticate("  ALICE@example.com ", PASSWORD, "10.0.0.1")

    assert user.id == "usr_alice"


def test_a_wrong_password_is_invalid_credentials(auth, hasher):
    with pytest.raises(InvalidCredentials):
        auth.authenticate(EMAIL, "wrong-password", "10.0.0.1")

    assert hasher.verify_calls == 1


def test_an_unknown_email_spends_one_dummy_verify_and_fails_like_a_wrong_password(auth, hasher):
    with pytest.raises(InvalidCredentials) as unknown:
        auth.authenticate("nobody@example.com", PASSWORD, "10.0.0.1")
    with pytest.raises(InvalidCredentials) as wrong:
        auth.authenticate(EMAIL, "wrong-password", "10.0.0.1")

    assert hasher.dummy_verify_calls == 1
    assert hasher.verify_calls == 1  # one check of each kind: the same hashing cost
    assert unknown.value.message == wrong.value.message


def test_an_inactive_user_cannot_sign_in_even_with_the_right_password(uow, hasher, clock):
    uow.put_user(make_user(email="gone@example.com", user_id="usr_gone", password=PASSWORD, active=False))
    auth = AuthService(uow, hasher, LoginThrottle(clock))

    with pytest.raises(InvalidCredentials):
        auth.authenticate("gone@example.com", PASSWORD, "10.0.0.1")


def test_ten_failures_within_fifteen_minutes_throttle_that_client_for_that_email(auth, clock):
    for _ in range(10):
        fail_times(auth, 1)
        clock.advance(60)

    with pytest.raises(RateLimited) as raised:
        auth.authenticate(EMAIL, PASSWORD, "10.0.0.1")

    # The oldest failure was 10 minutes ago; it leaves the window in 5 minutes.
    assert raised.value.retry_after_seconds == 5 * 60
    assert raised.value.code == "rate_limited"


def test_a_strangers_wrong_guesses_do_not_lock_the_owner_out(auth):
    fail_times(auth, 10, client="203.0.113.66")
    with pytest.raises(RateLimited):
        auth.authenticate(EMAIL, "another-guess", "203.0.113.66")

    user = auth.authenticate(EMAIL, PASSWORD, "198.51.100.1")

    assert user.id == "usr_alice"


def test_nine_failures_still_allow_a_tenth_try(auth):
    fail_times(auth, 9)

    assert auth.authenticate(EMAIL, PASSWORD, "10.0.0.1").id == "usr_alice"


def test_a_throttled_attempt_does_not_even_check_the_password(auth, hasher):
    fail_times(auth, 10)
    checks_before = hasher.verify_calls

    with pytest.raises(RateLimited):
        auth.authenticate(EMAIL, PASSWORD, "10.0.0.1")

    assert hasher.verify_calls == checks_before


def test_the_window_slides_so_the_oldest_failures_expire(auth, clock):
    fail_times(auth, 5)
    clock.advance(10 * 60)
    fail_times(auth, 5)
    with pytest.raises(RateLimited) as raised:
        auth.authenticate(EMAIL, PASSWORD, "10.0.0.1")
    assert raised.value.retry_after_seconds == 5 * 60

    clock.advance(5 * 60)

    assert auth.authenticate(EMAIL, PASSWORD, "10.0.0.1").id == "usr_alice"


def test_after_fifteen_minutes_a_throttled_email_is_allowed_again(auth, clock):
    fail_times(auth, 10)
    clock.advance(15 * 60 - 1)
    with pytest.raises(RateLimited) as raised:
        auth.authenticate(EMAIL, PASSWORD, "10.0.0.1")
    assert raised.value.retry_after_seconds == 1

    clock.advance(1)

    assert auth.authenticate(EMAIL, PASSWORD, "10.0.0.1").id == "usr_alice"


def test_a_client_address_trying_many_emails_is_throttled_too(auth):
    for i in range(10):
        fail_times(auth, 1, email=f"victim{i}@example.com", client="203.0.113.7")

    with pytest.raises(RateLimited):
        auth.authenticate(EMAIL, PASSWORD, "203.0.113.7")

    assert auth.authenticate(EMAIL, PASSWORD, "198.51.100.1").id == "usr_alice"  # other clients are fine


def test_a_success_resets_the_failures_of_the_email(auth):
    fail_times(auth, 9)
    auth.authenticate(EMAIL, PASSWORD, "10.0.0.1")

    fail_times(auth, 9, client="10.0.0.2")

    assert auth.authenticate(EMAIL, PASSWORD, "10.0.0.3").id == "usr_alice"


def test_the_throttle_counts_each_key_separately(clock):
    throttle = LoginThrottle(clock, max_failures=2, window=timedelta(seconds=10))
    throttle.record_failure("email:a", "client:x")
    throttle.record_failure("email:a")

    throttle.check("email:b", "client:x")

    with pytest.raises(RateLimited):
        throttle.check("email:b", "email:a")


def test_the_throttle_forgets_keys_whose_failures_have_left_the_window():
    clock = FakeClock()
    throttle = LoginThrottle(clock, max_failures=10, window=timedelta(minutes=15))
    throttle.record_failure("email:a@example.com", "client:1.2.3.4")

    clock.advance(15 * 60 + 1)
    throttle.record_failure("email:b@example.com")

    assert len(throttle.store) == 1  # only b is remembered: memory does not grow with old keys
    throttle.check("email:a@example.com", "client:1.2.3.4")


def test_attempts_count_before_their_password_is_checked_so_parallel_guesses_cannot_slip_past(clock):
    throttle = LoginThrottle(clock, max_failures=10)

    begun = [throttle.begin("pair:a|x") for _ in range(10)]  # ten guesses in flight, none answered yet
    with pytest.raises(RateLimited):
        throttle.begin("pair:a|x")  # the eleventh is refused before any of the ten is answered

    throttle.cancel("pair:a|x", begun[0])  # one of them turned out right
    assert throttle.begin("pair:a|x")


def test_a_successful_sign_in_does_not_count_against_its_client(auth):
    for _ in range(40):
        auth.authenticate(EMAIL, PASSWORD, "10.0.0.1")

    fail_times(auth, 1)  # a client that signs in often is not throttled for it
