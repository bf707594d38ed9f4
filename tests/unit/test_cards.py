"""Card checks at submission: Luhn, brand, expiry against the clock, CVC, and no leaks in repr."""

from datetime import UTC, datetime

import pytest

from domain.clock import FakeClock
from domain.model.cards import CardInput, brand_of, luhn_ok
from domain.model.errors import ValidationFailed

API_TEST_CARDS = [
    "4242424242424242", "5555555555554444", "4000000000000002", "4000000000009995",
    "4000000000000069", "4000000000000119", "4000000000000341", "4000000000000259",
]
CLOCK = FakeClock(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))


def card(**overrides: object) -> dict:
    raw = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
    raw.update(overrides)
    return raw


def fields_of(error: ValidationFailed) -> list[str]:
    return [d.field for d in error.details]


@pytest.mark.parametrize("number", API_TEST_CARDS)
def test_every_test_card_of_the_api_passes_the_luhn_check(number):
    assert luhn_ok(number)


@pytest.mark.parametrize("number", API_TEST_CARDS)
def test_changing_the_last_digit_by_one_breaks_the_luhn_check(number):
    off_by_one = number[:-1] + str((int(number[-1]) + 1) % 10)

    assert not luhn_ok(off_by_one)


def test_swapping_a_middle_digit_breaks_the_luhn_check():
    assert luhn_ok("4242424242424242")

    assert not luhn_ok("4242424242524242")


@pytest.mark.parametrize("number", ["", "42424242424", "4" * 20, "4242-4242-4242-4242", "42424242424242a2"])
def test_numbers_of_the_wrong_length_or_with_non_digits_fail_the_luhn_check(number):
    assert not luhn_ok(number)


@pytest.mark.parametrize(("number", "brand"), [
    ("4242424242424242", "visa"),
    ("5555555555554444", "mastercard"),
    ("2223003122003222", "mastercard"),
    ("378282246310005", "amex"),
    ("341111111111111", "amex"),
    ("6011111111111117", "discover"),
    ("6500000000000002", "discover"),
    ("3056930009020004", "unknown"),
])
def test_the_brand_is_detected_from_the_number_prefix(number, brand):
    assert brand_of(number) == brand


def test_a_valid_card_parses_with_brand_and_last4():
    parsed = CardInput.parse(card(number="5555 5555 5555 4444"), CLOCK.now())

    assert parsed.number == "5555555555554444"
    assert (parsed.brand, parsed.last4) == ("mastercard", "4444")
    assert (parsed.exp_month, parsed.exp_year, parsed.cvc) == (12, 2030, "123")


def test_a_card_with_a_bad_luhn_digit_names_the_number_field():
    with pytest.raises(ValidationFailed) as raised:
        CardInput.parse(card(number="4242424242424241"), CLOCK.now())

    assert fields_of(raised.value) == ["card.number"]


def test_a_card_that_expired_last_month_is_refused():
    with pytest.raises(ValidationFailed) as raised:
        CardInput.parse(card(expMonth=5, expYear=2026), CLOCK.now())

    assert fields_of(raised.value) == ["card.expYear"]
    assert "expired" in raised.value.details[0].message


def test_a_card_expiring_this_month_is_still_valid():
    parsed = CardInput.parse(card(expMonth=6, expYear=2026), CLOCK.now())

    assert (parsed.exp_month, parsed.exp_year) == (6, 2026)


def test_expiry_is_judged_against_the_injected_clock_not_the_real_one():
    clock = FakeClock(datetime(2026, 6, 30, tzinfo=UTC))
    CardInput.parse(card(expMonth=6, expYear=2026), clock.now())

    clock.set(datetime(2026, 7, 1, tzinfo=UTC))

    with pytest.raises(ValidationFailed):
        CardInput.parse(card(expMonth=6, expYear=2026), clock.now())


@pytest.mark.parametrize("month", [0, 13, "12", None, True, 1.0])
def test_an_invalid_expiry_month_names_its_field(month):
    with pytest.raises(ValidationFailed) as raised:
        CardInput.parse(card(expMonth=month), CLOCK.now())

    assert fields_of(raised.value) == ["card.expMonth"]


@pytest.mark.parametrize("year", [30, 1999, 2101, "2030", None, False])
def test_an_invalid_expiry_year_names_its_field(year):
    with pytest.raises(ValidationFailed) as raised:
        CardInput.parse(card(expYear=year), CLOCK.now())

    assert fields_of(raised.value) == ["card.expYear"]


@pytest.mark.parametrize("cvc", ["123", "1234", "000"])
def test_a_cvc_of_three_or_four_digits_is_accepted(cvc):
    assert CardInput.parse(card(cvc=cvc), CLOCK.now()).cvc == cvc


@pytest.mark.parametrize("cvc", ["12", "12345", "12a", "", None, 123])
def test_any_other_cvc_is_refused_naming_its_field(cvc):
    with pytest.raises(ValidationFailed) as raised:
        CardInput.parse(card(cvc=cvc), CLOCK.now())

    assert fields_of(raised.value) == ["card.cvc"]


def test_every_problem_of_a_card_is_reported_at_once_each_with_its_field():
    raw = {"number": "1234", "expMonth": 13, "expYear": 1990, "cvc": "x"}

    with pytest.raises(ValidationFailed) as raised:
        CardInput.parse(raw, CLOCK.now())

    assert fields_of(raised.value) == ["card.number", "card.expMonth", "card.expYear", "card.cvc"]


def test_the_repr_of_a_card_never_shows_the_number_or_the_cvc():
    parsed = CardInput.parse(card(number="4000000000000341", cvc="9876"), CLOCK.now())

    shown = repr(parsed) + str(parsed)

    assert "4000000000000341" not in shown
    assert "9876" not in shown
    assert "2030" in shown  # the repr still says something useful


def test_a_validation_error_message_never_echoes_the_card_number():
    with pytest.raises(ValidationFailed) as raised:
        CardInput.parse(card(number="4242424242424241", cvc="12"), CLOCK.now())

    text = str(raised.value) + repr(raised.value.details)

    assert "4242424242424241" not in text
