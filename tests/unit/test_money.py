"""Money: major units parsed exactly into integer minor units, and shown back."""

from decimal import Decimal

import pytest

from domain.model.errors import ValidationFailed
from domain.model.money import MAX_AMOUNT_MINOR, check_currency, format_money, parse_major, to_major


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("0.10", "USD", 10),
    ("299.99", "USD", 29999),
    ("0.01", "EUR", 1),
    ("12", "GBP", 1200),
    ("1.5", "USD", 150),
    ("500", "JPY", 500),
    ("999999.99", "USD", MAX_AMOUNT_MINOR),
])
def test_a_major_amount_is_parsed_exactly_into_minor_units(text, currency, minor):
    result = parse_major(text, currency)

    assert result == minor
    assert type(result) is int


def test_values_that_are_inexact_in_binary_float_are_still_exact():
    total = sum(parse_major("0.10", "USD") for _ in range(3))

    assert total == 30  # 0.1 + 0.1 + 0.1 != 0.3 in float; here it is


def test_a_decimal_and_an_int_are_accepted_as_well_as_text():
    assert parse_major(Decimal("19.95"), "USD") == 1995
    assert parse_major(7, "USD") == 700


@pytest.mark.parametrize(("text", "currency"), [
    ("1.005", "USD"),
    ("0.001", "EUR"),
    ("100.5", "JPY"),
    ("1.01", "JPY"),
])
def test_more_decimals_than_the_currency_has_are_refused(text, currency):
    with pytest.raises(ValidationFailed) as raised:
        parse_major(text, currency, field_name="unitPrice")

    assert raised.value.details[0].field == "unitPrice"
    assert "decimals" in raised.value.details[0].message


@pytest.mark.parametrize("text", [
    "1.00000000000000000000000000001",  # more digits than the default decimal precision
    "1e-999999999",  # so small that scaling it would underflow to zero
])
def test_a_tiny_fraction_of_a_cent_is_refused_rather_than_rounded_away(text):
    with pytest.raises(ValidationFailed) as raised:
        parse_major(text, "USD")

    assert raised.value.details[0].field == "unitPrice"


@pytest.mark.parametrize("value", [0.1, 10.0, 299.99])
def test_a_float_is_refused_because_it_cannot_carry_an_exact_decimal(value):
    with pytest.raises(ValidationFailed) as raised:
        parse_major(value, "USD")

    assert raised.value.details[0].field == "unitPrice"


def test_a_bool_is_not_taken_for_a_number():
    with pytest.raises(ValidationFailed):
        parse_major(True, "USD")


@pytest.mark.parametrize("text", ["-1", "-0.01"])
def test_a_negative_amount_is_refused(text):
    with pytest.raises(ValidationFailed) as raised:
        parse_major(text, "USD", field_name="minPrice")

    assert raised.value.details[0].field == "minPrice"
    assert "negative" in raised.value.details[0].message


@pytest.mark.parametrize("text", ["abc", "", "1,5", "NaN", "Infinity", "-Infinity"])
def test_text_that_is_not_a_finite_number_is_refused(text):
    with pytest.raises(ValidationFailed):
        parse_major(text, "USD")


@pytest.mark.parametrize("text", ["1000000.00", "1e30", "1e999999999"])
def test_an_amount_above_the_maximum_is_refused_without_crashing(text):
    with pytest.raises(ValidationFailed) as raised:
        parse_major(text, "USD")

    assert "too large" in raised.value.details[0].message


@pytest.mark.parametrize(("minor", "currency", "major"), [
    (29999, "USD", Decimal("299.99")),
    (10, "USD", Decimal("0.10")),
    (0, "EUR", Decimal("0.00")),
    (500, "JPY", Decimal("500")),
])
def test_minor_units_convert_back_to_major_units_with_the_currencys_decimals(minor, currency, major):
    result = to_major(minor, currency)

    assert result == major
    assert str(result) == str(major)  # the scale too: "0.10", not "0.1"


def test_parsing_and_converting_back_round_trips():
    for text in ("0.01", "0.10", "1.00", "299.99", "123456.78"):
        assert str(to_major(parse_major(text, "USD"), "USD")) == text


@pytest.mark.parametrize(("minor", "currency", "shown"), [
    (29999, "USD", "$299.99"),
    (123456789, "USD", "$1,234,567.89"),
    (5, "EUR", "€0.05"),
    (1000, "GBP", "£10.00"),
    (1500, "JPY", "¥1,500"),
])
def test_money_is_formatted_with_symbol_grouping_and_fixed_decimals(minor, currency, shown):
    assert format_money(minor, currency) == shown


@pytest.mark.parametrize(("code", "normalized"), [("USD", "USD"), ("eur", "EUR"), ("Jpy", "JPY")])
def test_a_known_currency_code_is_accepted_in_any_case(code, normalized):
    assert check_currency(code) == normalized


@pytest.mark.parametrize("code", ["XXX", "", None, 840, "US"])
def test_an_unknown_currency_is_refused_naming_the_field(code):
    with pytest.raises(ValidationFailed) as raised:
        check_currency(code, field_name="currency")

    assert [d.field for d in raised.value.details] == ["currency"]
