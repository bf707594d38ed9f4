"""The catalogue: exact prices, product validation, browsing filters and admin changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.model.catalog import Product, ProductQuery, filter_products, parse_price_filter, parse_product_fields
from domain.model.errors import NotFound, ValidationFailed
from tests.fakes import FakeShop, make_shop

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def product(pid: str, name: str, price_minor: int, category: str = "books", *, description: str = "",
            currency: str = "USD", stock: int = 5, active: bool = True, age_days: int = 0) -> Product:
    created = T0 - timedelta(days=age_days)
    return Product(pid, name, description, price_minor, currency, category, None, stock, active, created, created)


def valid_fields(**overrides: object) -> dict:
    fields = {"name": "Mug", "description": "Stoneware", "unitPrice": Decimal("12.50"), "currency": "USD",
              "category": "home", "stock": 3}
    fields.update(overrides)
    return fields


def fields_of(error: ValidationFailed) -> set[str]:
    return {d.field for d in error.details}


CATALOGUE = [
    product("prod_a", "Zebra Notebook", 550, "books", description="Lined paper", age_days=3),
    product("prod_b", "Alpha Headphones", 29999, "electronics", description="Noise CANCELLING", age_days=1),
    product("prod_c", "mid Lamp", 4500, "home", description="Warm light for a desk", age_days=2),
    product("prod_d", "Retired Kettle", 3000, "home", active=False),
    product("prod_e", "Cheap Pen", 10, "books", description="Blue ink", age_days=5),
]


# --- Product ---------------------------------------------------------------------------------
def test_a_products_major_unit_price_is_an_exact_decimal():
    headphones = product("prod_1", "Headphones", 29999)

    price = headphones.unit_price

    assert price == Decimal("299.99")
    assert isinstance(price, Decimal)


def test_a_yen_product_has_no_decimals_in_its_major_price():
    teapot = product("prod_1", "Teapot", 500, currency="JPY")

    assert str(teapot.unit_price) == "500"


def test_the_public_form_carries_both_the_exact_price_and_the_minor_units():
    headphones = product("prod_1", "Headphones", 29999)

    public = headphones.public()

    assert public["unitPrice"] == Decimal("299.99")
    assert public["unitPriceMinor"] == 29999
    assert public["active"] is True


def test_a_product_is_purchasable_only_while_active_and_in_stock():
    in_stock = product("prod_1", "A", 100)

    assert in_stock.purchasable
    assert not replace(in_stock, stock=0).purchasable
    assert not replace(in_stock, active=False).purchasable


# --- parse_product_fields ------------------------------------------------------------------
@pytest.mark.parametrize(("price", "currency", "minor"), [
    (Decimal("0.1"), "USD", 10),
    (Decimal("299.99"), "USD", 29999),
    ("19.95", "EUR", 1995),
    (7, "GBP", 700),
    (Decimal("500"), "JPY", 500),
])
def test_a_unit_price_is_parsed_exactly_into_minor_units(price, currency, minor):
    raw = valid_fields(unitPrice=price, currency=currency)

    values = parse_product_fields(raw, partial=False)

    assert values["unit_price_minor"] == minor
    assert values["currency"] == currency


@pytest.mark.parametrize(("price", "currency"), [
    (Decimal("19.999"), "USD"),
    (Decimal("500.5"), "JPY"),
    (0.1, "USD"),
    (True, "USD"),
    ("abc", "USD"),
    (Decimal("0"), "USD"),
    (Decimal("-1.00"), "USD"),
    (None, "USD"),
])
def test_a_unit_price_that_is_not_an_exact_positive_amount_of_the_currency_is_refused(price, currency):
    raw = valid_fields(unitPrice=price, currency=currency)

    with pytest.raises(ValidationFailed) as raised:
        parse_product_fields(raw, partial=False)

    assert fields_of(raised.value) == {"unitPrice"}


def test_every_invalid_field_is_named_at_once():
    raw = {"name": "", "unitPrice": "1.00", "category": "Not A Slug!", "stock": -1, "currency": "XYZ",
           "imageUrl": "javascript:alert(1)", "active": "yes", "metadata": ["not", "an", "object"]}

    with pytest.raises(ValidationFailed) as raised:
        parse_product_fields(raw, partial=False)

    assert fields_of(raised.value) >= {"name", "category", "stock", "currency", "imageUrl", "active", "metadata"}


def test_a_category_is_normalised_to_lower_case():
    values = parse_product_fields(valid_fields(category=" Books "), partial=False)

    assert values["category"] == "books"


def test_a_partial_update_returns_only_the_fields_it_was_given():
    current = product("prod_1", "Mug", 1250, "home")

    values = parse_product_fields({"stock": 9}, partial=True, current=current)

    assert values == {"stock": 9}


def test_a_partial_price_change_is_checked_against_the_products_currency():
    current = product("prod_1", "Teapot", 500, "home", currency="JPY")

    with pytest.raises(ValidationFailed) as raised:
        parse_product_fields({"unitPrice": Decimal("5.25")}, partial=True, current=current)

    assert fields_of(raised.value) == {"unitPrice"}


def test_changing_only_the_currency_rechecks_the_current_price():
    current = product("prod_1", "Mug", 1250, "home")  # 12.50 USD cannot be a yen price

    with pytest.raises(ValidationFailed) as raised:
        parse_product_fields({"currency": "JPY"}, partial=True, current=current)

    assert fields_of(raised.value) == {"unitPrice"}


# --- browsing ------------------------------------------------------------------------------
def ids(products: list[Product]) -> list[str]:
    return [p.id for p in products]


def test_browsing_hides_inactive_products_unless_asked():
    assert "prod_d" not in ids(filter_products(CATALOGUE, ProductQuery()))
    assert "prod_d" in ids(filter_products(CATALOGUE, ProductQuery(include_inactive=True)))


def test_the_category_filter_keeps_only_that_category():
    result = filter_products(CATALOGUE, ProductQuery(category="books"))

    assert ids(result) == ["prod_a", "prod_e"]


@pytest.mark.parametrize(("search", "expected"), [
    ("zebra", ["prod_a"]),          # name, different case
    ("cancelling", ["prod_b"]),     # description, different case
    ("LAMP", ["prod_c"]),
    ("kettle", []),                 # inactive products are not found
    ("nothing like it", []),
])
def test_search_matches_name_and_description_case_insensitively(search, expected):
    result = filter_products(CATALOGUE, ProductQuery(search=search))

    assert ids(result) == expected


def test_the_price_range_is_inclusive_and_in_major_units():
    query = ProductQuery(min_price=Decimal("5.50"), max_price=Decimal("45"))

    result = filter_products(CATALOGUE, query)

    assert ids(result) == ["prod_a", "prod_c"]


def test_a_price_filter_of_ten_cents_is_exact():
    result = filter_products(CATALOGUE, ProductQuery(max_price=Decimal("0.1")))

    assert ids(result) == ["prod_e"]


@pytest.mark.parametrize(("sort_by", "expected"), [
    ("price", ["prod_e", "prod_a", "prod_c", "prod_b"]),
    ("-price", ["prod_b", "prod_c", "prod_a", "prod_e"]),
    ("name", ["prod_b", "prod_e", "prod_c", "prod_a"]),     # case-insensitive: "mid Lamp" after "Cheap Pen"
    ("-name", ["prod_a", "prod_c", "prod_e", "prod_b"]),
    ("newest", ["prod_b", "prod_c", "prod_a", "prod_e"]),
])
def test_products_are_sorted_as_asked(sort_by, expected):
    result = filter_products(CATALOGUE, ProductQuery(sort_by=sort_by))

    assert ids(result) == expected


def test_an_unknown_sort_is_refused_naming_sort_by():
    with pytest.raises(ValidationFailed) as raised:
        filter_products(CATALOGUE, ProductQuery(sort_by="cheapest"))

    assert fields_of(raised.value) == {"sortBy"}


@pytest.mark.parametrize("text", ["abc", "-1", "NaN", "Infinity"])
def test_a_price_filter_that_is_not_a_non_negative_number_is_refused(text):
    with pytest.raises(ValidationFailed) as raised:
        parse_price_filter(text, "minPrice")

    assert fields_of(raised.value) == {"minPrice"}


def test_an_empty_price_filter_means_no_filter():
    assert parse_price_filter("", "maxPrice") is None
    assert parse_price_filter(None, "maxPrice") is None
    assert parse_price_filter("0.10", "maxPrice") == Decimal("0.10")


# --- CatalogService, on fakes holding the demo catalogue -------------------------------------
@pytest.fixture
def shop() -> FakeShop:
    return make_shop(demo=True)


def test_the_demo_catalogue_has_at_least_twelve_products_in_four_categories(shop):
    products = shop.catalog.browse(ProductQuery())

    assert len(products) >= 12
    assert {"electronics", "clothing", "books", "home"} <= set(shop.catalog.categories())
    assert all(p.image_url for p in products)


def test_a_created_product_is_stored_with_its_exact_price(shop):
    created = shop.catalog.create(valid_fields(unitPrice=Decimal("0.1"), name="Penny Sweet"))

    stored = shop.catalog.get(created.id)

    assert stored.unit_price_minor == 10
    assert stored.unit_price == Decimal("0.10")
    assert stored.name == "Penny Sweet"


def test_an_update_changes_only_the_given_fields(shop):
    before = shop.catalog.get("prod_001")

    after = shop.catalog.update("prod_001", {"stock": 7, "unitPrice": "249.50"})

    assert (after.stock, after.unit_price_minor) == (7, 24950)
    assert (after.name, after.category, after.created_at) == (before.name, before.category, before.created_at)
    assert shop.catalog.get("prod_001").stock == 7


def test_a_product_in_no_order_is_really_deleted(shop):
    deleted = shop.catalog.delete("prod_012")

    assert deleted is True
    with pytest.raises(NotFound):
        shop.catalog.get("prod_012")


def test_deleting_an_unknown_product_is_not_found(shop):
    with pytest.raises(NotFound):
        shop.catalog.delete("prod_nope")


def test_a_product_that_is_in_an_order_is_deactivated_instead_of_deleted(shop):
    customer = next(u for u in shop.users.list() if u.role == "customer")
    shop.orders.place(customer, {"items": [{"productId": "prod_013", "quantity": 1}]})

    deleted = shop.catalog.delete("prod_013")

    assert deleted is False
    assert shop.catalog.get("prod_013").active is False
    assert "prod_013" not in ids(shop.catalog.browse(ProductQuery()))
    with pytest.raises(NotFound):
        shop.catalog.get("prod_013", include_inactive=False)


@pytest.mark.parametrize("url", ["http://example.com/a.png", "//evil.example/a.png", "javascript:alert(1)",
                                 "data:image/svg+xml,<svg/>"])
def test_an_image_url_must_be_https_or_a_path_on_this_site(url):
    with pytest.raises(ValidationFailed) as refused:
        parse_product_fields(valid_fields(imageUrl=url), partial=False)

    assert fields_of(refused.value) == {"imageUrl"}


@pytest.mark.parametrize("url", ["https://cdn.example.com/a.png", "/images/products/prod_001.svg"])
def test_an_https_image_url_or_a_path_on_this_site_is_kept(url):
    assert parse_product_fields(valid_fields(imageUrl=url), partial=False)["image_url"] == url


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_metadata_nested_deeper_than_the_body_limit_is_refused_without_recursing():
    with pytest.raises(ValidationFailed) as refused:
        parse_product_fields(valid_fields(metadata=nested(5000)), partial=False)

    assert fields_of(refused.value) == {"metadata"}
    assert "deeper" in refused.value.details[0].message


def test_metadata_31_levels_deep_is_kept():
    assert parse_product_fields(valid_fields(metadata=nested(31)), partial=False)["metadata"] == nested(31)
