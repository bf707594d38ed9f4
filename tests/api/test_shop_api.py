"""The storefront over HTTP: catalogue, cart and orders as API.md describes them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import install_api
from app.bootstrap import build
from tests.conftest import login

APPROVED = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
DECLINED = {"number": "4000000000000002", "expMonth": 12, "expYear": 2030, "cvc": "123"}


def new_product(client, admin_headers, **fields) -> dict:
    body = {"name": "Widget", "unitPrice": "9.99", "currency": "USD", "category": "gadgets", "stock": 10}
    body.update(fields)
    response = client.post("/api/products", headers=admin_headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def stock_of(client, product_id: str) -> int:
    return client.get(f"/api/products/{product_id}").json()["stock"]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["data"]]


def error_fields(response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


def order(client, headers, items, **extra):
    return client.post("/api/orders", headers=headers, json={"items": items, **extra})


def settle_payments(client, container) -> None:
    """Run the payment queue once, then deliver the resulting events (order settlement)."""
    client.portal.call(container.processor.drain)
    container.deliveries.run_all()


def outbox_types(container, aggregate_id: str) -> list[str]:
    with container.uow(read_only=True) as uow:
        return [e.type for e in uow.outbox.for_aggregate(aggregate_id)]


# --- exact prices --------------------------------------------------------------------------
def test_a_unit_price_of_0_1_in_the_raw_json_is_exactly_ten_cents(client, admin_headers):
    raw = '{"name": "Penny Sweet", "unitPrice": 0.1, "currency": "USD", "category": "food", "stock": 5}'

    response = client.post("/api/products", headers={**admin_headers, "Content-Type": "application/json"},
                           content=raw)

    assert response.status_code == 201, response.text
    assert response.json()["unitPriceMinor"] == 10
    assert '"unitPrice":0.10' in response.text


@pytest.mark.parametrize(("price", "currency"), [("19.999", "USD"), ("500.5", "JPY"), ("0", "USD"),
                                                 ("-5.00", "USD"), ('"ten"', "USD")])
def test_a_unit_price_that_the_currency_cannot_hold_exactly_is_refused(client, admin_headers, price, currency):
    raw = f'{{"name": "Thing", "unitPrice": {price}, "currency": "{currency}", "category": "misc"}}'

    response = client.post("/api/products", headers={**admin_headers, "Content-Type": "application/json"},
                           content=raw)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert "unitPrice" in error_fields(response)


def test_a_yen_price_without_decimals_is_accepted(client, admin_headers):
    created = new_product(client, admin_headers, unitPrice=500, currency="JPY")

    assert (created["unitPriceMinor"], created["currency"]) == (500, "JPY")


def test_a_unit_price_is_rendered_as_an_exact_json_number(client):
    response = client.get("/api/products/prod_001")

    assert response.status_code == 200
    assert '"unitPrice":299.99' in response.text
    assert json.loads(response.text, parse_float=Decimal)["unitPrice"] == Decimal("299.99")
    assert response.json()["unitPriceMinor"] == 29999


def test_an_order_total_is_the_exact_integer_sum_of_its_lines(client, admin_headers, customer_headers):
    dime = new_product(client, admin_headers, name="Dime Sweet", unitPrice="0.10", stock=100)
    twenty = new_product(client, admin_headers, name="Twenty Sweet", unitPrice="0.20", stock=100)

    response = order(client, customer_headers, [{"productId": dime["id"], "quantity": 37},
                                                {"productId": twenty["id"], "quantity": 53}])

    assert response.status_code == 201, response.text
    assert response.json()["totalAmount"] == 1430
    assert [line["lineTotal"] for line in response.json()["items"]] == [370, 1060]


# --- catalogue -----------------------------------------------------------------------------
def test_anyone_can_browse_the_catalogue_without_a_token(client):
    response = client.get("/api/products")

    assert response.status_code == 200
    assert len(response.json()["data"]) == 14


def test_the_demo_catalogue_has_twelve_products_in_four_categories_each_with_an_image(client):
    products = client.get("/api/products").json()["data"]

    assert len(products) >= 12
    assert {"electronics", "clothing", "books", "home"} <= {p["category"] for p in products}
    for product in products:
        image = client.get(product["imageUrl"])
        assert image.status_code == 200, product["imageUrl"]
        assert image.headers["content-type"].startswith("image/svg+xml")
        assert image.text.startswith("<svg")


def test_the_categories_endpoint_lists_the_categories_in_use(client, admin_headers):
    client.put("/api/products/prod_012", headers=admin_headers, json={"category": "kitchen"})

    response = client.get("/api/products/categories")

    assert response.status_code == 200
    assert response.json() == {"data": ["books", "clothing", "electronics", "home", "kitchen"]}


def test_browsing_by_category_returns_only_that_category(client):
    response = client.get("/api/products", params={"category": "books"})

    assert ids(response) == ["prod_009", "prod_010", "prod_011"]


@pytest.mark.parametrize(("search", "expected"), [
    ("HEADPHONES", ["prod_001"]),              # name
    ("noise cancelling", ["prod_001"]),        # description, other case
    ("merino", ["prod_007"]),
    ("no such thing", []),
])
def test_search_matches_name_and_description_case_insensitively(client, search, expected):
    response = client.get("/api/products", params={"search": search})

    assert ids(response) == expected


def test_the_price_range_is_in_major_units_and_inclusive(client):
    response = client.get("/api/products", params={"minPrice": "18.75", "maxPrice": "24.00"})

    assert ids(response) == ["prod_005", "prod_007"]


@pytest.mark.parametrize(("sort_by", "first", "last"), [
    ("price", "prod_012", "prod_001"),
    ("-price", "prod_001", "prod_012"),
    ("name", "prod_011", "prod_007"),      # "A Short History of Money" .. "Wool Socks (3 pairs)"
    ("-name", "prod_007", "prod_011"),
])
def test_products_are_sorted_as_asked(client, sort_by, first, last):
    data = client.get("/api/products", params={"sortBy": sort_by}).json()["data"]

    assert (data[0]["id"], data[-1]["id"]) == (first, last)


def test_sorting_by_price_compares_exact_prices(client):
    response = client.get("/api/products", params={"sortBy": "price"})

    prices = [p["unitPrice"] for p in json.loads(response.text, parse_float=Decimal)["data"]]
    assert prices == sorted(prices)
    assert prices[:3] == [Decimal("12.00"), Decimal("15.99"), Decimal("18.75")]


def test_newest_puts_the_latest_product_first(client, admin_headers):
    created = new_product(client, admin_headers, name="Brand New")

    response = client.get("/api/products", params={"sortBy": "newest"})

    assert ids(response)[0] == created["id"]


@pytest.mark.parametrize(("params", "field"), [
    ({"sortBy": "cheapest"}, "sortBy"),
    ({"minPrice": "abc"}, "minPrice"),
    ({"maxPrice": "-1"}, "maxPrice"),
])
def test_a_bad_browse_parameter_is_a_validation_error_naming_it(client, params, field):
    response = client.get("/api/products", params=params)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert error_fields(response) == {field}


def test_an_unknown_product_is_not_found(client):
    response = client.get("/api/products/prod_nope")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_admin_creates_a_product(client, admin_headers):
    response = client.post("/api/products", headers=admin_headers, json={
        "name": "Desk Plant", "description": "Green", "unitPrice": "14.50", "currency": "EUR",
        "category": "home", "stock": 8, "metadata": {"brand": "Leafy"}})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("prod_")
    assert (body["unitPriceMinor"], body["currency"], body["stock"], body["active"]) == (1450, "EUR", 8, True)
    assert client.get(f"/api/products/{body['id']}").json()["name"] == "Desk Plant"


def test_an_admin_updates_a_product(client, admin_headers):
    response = client.put("/api/products/prod_002", headers=admin_headers,
                          json={"unitPrice": "149.95", "stock": 3})

    assert response.status_code == 200, response.text
    assert '"unitPrice":149.95' in response.text
    stored = client.get("/api/products/prod_002").json()
    assert (stored["unitPriceMinor"], stored["stock"], stored["name"]) == (14995, 3, "Smart Watch")


def test_updating_an_unknown_product_is_not_found(client, admin_headers):
    response = client.put("/api/products/prod_nope", headers=admin_headers, json={"stock": 3})

    assert response.status_code == 404


def test_an_admin_deletes_a_product_that_was_never_ordered(client, admin_headers):
    response = client.delete("/api/products/prod_010", headers=admin_headers)

    assert response.status_code == 204
    assert client.get("/api/products/prod_010").status_code == 404


def test_a_product_that_is_in_an_order_is_deactivated_instead_of_deleted(client, admin_headers,
                                                                           customer_headers):
    assert order(client, customer_headers, [{"productId": "prod_013", "quantity": 1}]).status_code == 201

    response = client.delete("/api/products/prod_013", headers=admin_headers)

    assert response.status_code == 204
    kept = client.get("/api/products/prod_013")
    assert kept.status_code == 200
    assert kept.json()["active"] is False
    assert "prod_013" not in ids(client.get("/api/products"))
    assert "prod_013" not in ids(client.get("/api/products", params={"search": "desk lamp"}))


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/products"), ("put", "/api/products/prod_001"), ("delete", "/api/products/prod_001")])
def test_a_customer_may_not_change_the_catalogue(client, customer_headers, method, path):
    response = client.request(method.upper(), path, headers=customer_headers,
                              json=None if method == "delete" else {"name": "Hacked", "unitPrice": "1.00",
                                                                    "category": "misc"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get("/api/products/prod_001").json()["name"] == "Premium Headphones"


def test_an_anonymous_caller_may_not_create_a_product(client):
    response = client.post("/api/products", json={"name": "X", "unitPrice": "1.00", "category": "misc"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("method", ["post", "put"])
def test_unknown_product_fields_are_refused(client, admin_headers, method):
    body = {"name": "X", "unitPrice": "1.00", "category": "misc", "colour": "red"}
    path = "/api/products" if method == "post" else "/api/products/prod_001"

    response = client.request(method.upper(), path, headers=admin_headers, json=body)

    assert response.status_code == 422
    assert "colour" in error_fields(response)


def test_malformed_json_is_a_bad_request(client, admin_headers):
    response = client.post("/api/products", headers={**admin_headers, "Content-Type": "application/json"},
                           content='{"name": ')

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


# --- cart ----------------------------------------------------------------------------------
def put_item(client, headers, product_id: str, quantity):
    return client.put(f"/api/cart/items/{product_id}", headers=headers, json={"quantity": quantity})


def test_the_cart_requires_a_token(client):
    assert client.get("/api/cart").status_code == 401


def test_a_new_cart_is_empty(client, customer_headers):
    response = client.get("/api/cart", headers=customer_headers)

    assert response.status_code == 200
    assert (response.json()["items"], response.json()["totalAmount"]) == ([], 0)


def test_putting_items_in_the_cart_prices_them_exactly(client, customer_headers):
    put_item(client, customer_headers, "prod_001", 2)

    response = put_item(client, customer_headers, "prod_003", 3)

    assert response.status_code == 200, response.text
    cart = response.json()
    assert [(i["productId"], i["name"], i["quantity"], i["unitPriceMinor"], i["lineTotal"]) for i in cart["items"]] \
        == [("prod_001", "Premium Headphones", 2, 29999, 59998), ("prod_003", "USB-C Charger 65W", 3, 3990, 11970)]
    assert (cart["totalAmount"], cart["currency"]) == (71968, "USD")
    assert client.get("/api/cart", headers=customer_headers).json() == cart


def test_the_cart_survives_a_restart_of_the_server(client, customer_headers, settings):
    put_item(client, customer_headers, "prod_004", 2)

    restarted = build(settings)
    restarted.init_storage()
    app = FastAPI()
    install_api(app, restarted)
    with TestClient(app) as fresh:
        headers = login(fresh, "customer@example.com", "password123")
        cart = fresh.get("/api/cart", headers=headers).json()
    restarted.db.dispose()

    assert [(i["productId"], i["quantity"]) for i in cart["items"]] == [("prod_004", 2)]


def test_a_quantity_of_zero_removes_the_line(client, customer_headers):
    put_item(client, customer_headers, "prod_001", 2)
    put_item(client, customer_headers, "prod_002", 1)

    response = put_item(client, customer_headers, "prod_001", 0)

    assert response.status_code == 200
    assert [i["productId"] for i in response.json()["items"]] == ["prod_002"]


@pytest.mark.parametrize("quantity", [101, -1, "2", 1.5])
def test_a_quantity_outside_0_to_100_is_refused(client, customer_headers, quantity):
    response = put_item(client, customer_headers, "prod_005", quantity)

    assert response.status_code == 422
    assert "quantity" in error_fields(response)
    assert client.get("/api/cart", headers=customer_headers).json()["items"] == []


def test_more_than_the_stock_is_a_conflict(client, customer_headers):
    response = put_item(client, customer_headers, "prod_014", 21)  # 20 in stock

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert client.get("/api/cart", headers=customer_headers).json()["items"] == []


def test_an_unknown_product_cannot_go_into_the_cart(client, customer_headers):
    response = put_item(client, customer_headers, "prod_nope", 1)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_deleting_the_cart_empties_it(client, customer_headers):
    put_item(client, customer_headers, "prod_001", 1)

    response = client.delete("/api/cart", headers=customer_headers)

    assert response.status_code == 204
    assert client.get("/api/cart", headers=customer_headers).json()["items"] == []


def test_each_customer_has_their_own_cart(client, customer_headers, new_customer):
    other = new_customer("other@example.com")
    put_item(client, customer_headers, "prod_001", 1)

    put_item(client, other, "prod_002", 4)
    client.delete("/api/cart", headers=other)

    assert [i["productId"] for i in client.get("/api/cart", headers=customer_headers).json()["items"]] \
        == ["prod_001"]
    assert client.get("/api/cart", headers=other).json()["items"] == []


@pytest.mark.parametrize(("change", "name", "expected_status"), [
    ({"active": False}, "Rain Jacket", 422),
    ({"stock": 0}, "Rain Jacket", 409),
])
def test_a_line_that_became_unbuyable_stays_flagged_and_blocks_checkout(client, admin_headers, customer_headers,
                                                                        change, name, expected_status):
    put_item(client, customer_headers, "prod_006", 1)
    put_item(client, customer_headers, "prod_012", 2)
    client.put("/api/products/prod_006", headers=admin_headers, json=change)

    cart = client.get("/api/cart", headers=customer_headers).json()
    checkout = client.post("/api/orders", headers=customer_headers, json={"card": APPROVED})

    line = next(i for i in cart["items"] if i["productId"] == "prod_006")
    assert line["available"] is False
    assert name in line["problem"]
    assert checkout.status_code == expected_status, checkout.text
    assert name in checkout.json()["error"]["message"]
    assert len(client.get("/api/cart", headers=customer_headers).json()["items"]) == 2
    assert stock_of(client, "prod_012") == 300


# --- orders --------------------------------------------------------------------------------
def test_an_order_is_created_with_the_shape_of_the_contract(client, customer_headers):
    response = order(client, customer_headers, [{"productId": "prod_001", "quantity": 2},
                                                {"productId": "prod_002", "quantity": 1}],
                     description="Customer order", paymentMethod="credit_card", card=APPROVED)

    assert response.status_code == 201, response.text
    body = response.json()
    assert {"id", "status", "items", "totalAmount", "currency", "paymentId", "description", "createdAt",
            "updatedAt"} <= body.keys()
    assert body["id"].startswith("ord_") and body["paymentId"].startswith("pay_")
    assert (body["status"], body["currency"], body["description"]) == ("pending_payment", "USD", "Customer order")
    assert body["items"] == [
        {"productId": "prod_001", "name": "Premium Headphones", "quantity": 2, "unitPriceMinor": 29999,
         "lineTotal": 59998},
        {"productId": "prod_002", "name": "Smart Watch", "quantity": 1, "unitPriceMinor": 19900, "lineTotal": 19900}]
    assert body["totalAmount"] == 79898
    assert body["createdAt"].endswith("Z")


def test_an_amount_sent_by_the_client_is_ignored(client, customer_headers):
    response = order(client, customer_headers, [{"productId": "prod_001", "quantity": 1}], amount=1)

    assert response.status_code == 201, response.text
    assert response.json()["totalAmount"] == 29999


def test_the_orders_payment_is_for_the_total_and_names_the_order(client, customer_headers):
    placed = order(client, customer_headers, [{"productId": "prod_003", "quantity": 2}], card=APPROVED).json()

    payment = client.get(f"/api/payments/{placed['paymentId']}", headers=customer_headers).json()

    assert (payment["amount"], payment["currency"], payment["orderId"]) == (7980, "USD", placed["id"])
    assert payment["card"] == {"brand": "visa", "last4": "4242"}


def test_stock_is_reserved_when_the_order_is_created(client, customer_headers):
    order(client, customer_headers, [{"productId": "prod_014", "quantity": 5}])

    assert stock_of(client, "prod_014") == 15


@pytest.mark.parametrize(("items", "field"), [
    ([{"productId": "prod_nope", "quantity": 1}], "items[0].productId"),
    ([{"productId": "prod_001", "quantity": 0}], "items[0].quantity"),
    ([{"productId": "prod_001", "quantity": 101}], "items[0].quantity"),
    ([], "items"),
])
def test_an_order_with_a_bad_item_is_a_validation_error(client, customer_headers, items, field):
    response = order(client, customer_headers, items)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert field in error_fields(response)
    assert stock_of(client, "prod_001") == 25


def test_an_inactive_product_cannot_be_ordered(client, admin_headers, customer_headers):
    client.put("/api/products/prod_005", headers=admin_headers, json={"active": False})

    response = order(client, customer_headers, [{"productId": "prod_005", "quantity": 1}])

    assert response.status_code == 422
    assert "Organic Cotton T-Shirt" in response.json()["error"]["message"]


def test_products_in_different_currencies_cannot_share_an_order(client, admin_headers, customer_headers):
    pound = new_product(client, admin_headers, name="Tea Tin", unitPrice="6.50", currency="GBP")

    response = order(client, customer_headers, [{"productId": "prod_001", "quantity": 1},
                                                {"productId": pound["id"], "quantity": 1}])

    assert response.status_code == 422
    assert stock_of(client, "prod_001") == 25


def test_not_enough_stock_is_a_conflict_and_reserves_nothing(client, customer_headers):
    response = order(client, customer_headers, [{"productId": "prod_001", "quantity": 2},
                                                {"productId": "prod_014", "quantity": 21}])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert (stock_of(client, "prod_001"), stock_of(client, "prod_014")) == (25, 20)
    assert client.get("/api/orders", headers=customer_headers).json()["data"] == []


def test_an_order_paid_with_an_approved_card_becomes_paid(client, container, customer_headers):
    placed = order(client, customer_headers, [{"productId": "prod_008", "quantity": 2}], card=APPROVED).json()

    settle_payments(client, container)

    assert client.get(f"/api/orders/{placed['id']}", headers=customer_headers).json()["status"] == "paid"
    assert client.get(f"/api/payments/{placed['paymentId']}", headers=customer_headers).json()["status"] \
        == "completed"
    assert stock_of(client, "prod_008") == 28
    assert outbox_types(container, placed["id"]) == ["order.created", "order.paid"]


def test_an_order_whose_card_is_declined_fails_and_gives_the_stock_back(client, container, customer_headers):
    placed = order(client, customer_headers, [{"productId": "prod_008", "quantity": 2}], card=DECLINED).json()
    assert stock_of(client, "prod_008") == 28

    settle_payments(client, container)

    assert client.get(f"/api/orders/{placed['id']}", headers=customer_headers).json()["status"] == "payment_failed"
    assert stock_of(client, "prod_008") == 30
    assert outbox_types(container, placed["id"]) == ["order.created", "order.payment_failed"]


def test_a_redelivered_payment_event_changes_nothing_the_second_time(client, container, customer_headers):
    placed = order(client, customer_headers, [{"productId": "prod_008", "quantity": 2}], card=DECLINED).json()
    client.portal.call(container.processor.drain)
    customer = next(u for u in container.users.list() if u.role == "customer")
    failed = next(e for e in container.payments.events(customer, placed["paymentId"]) if e.type == "payment.failed")

    first = container.orders.handle(failed)
    second = container.orders.handle(failed)
    container.deliveries.run_all()  # the regular delivery of the same event comes on top

    assert (first, second) == (True, False)
    assert stock_of(client, "prod_008") == 30
    assert client.get(f"/api/orders/{placed['id']}", headers=customer_headers).json()["status"] == "payment_failed"
    assert outbox_types(container, placed["id"]) == ["order.created", "order.payment_failed"]


def test_the_same_idempotency_key_and_body_replays_the_order(client, customer_headers):
    body = {"items": [{"productId": "prod_009", "quantity": 1}], "card": APPROVED, "idempotencyKey": "ord-key-1"}
    first = client.post("/api/orders", headers=customer_headers, json=body)

    again = client.post("/api/orders", headers=customer_headers, json=body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert stock_of(client, "prod_009") == 79
    assert len(client.get("/api/orders", headers=customer_headers).json()["data"]) == 1


def test_the_idempotency_key_may_come_in_the_header(client, customer_headers):
    headers = {**customer_headers, "Idempotency-Key": "ord-key-header"}
    first = order(client, headers, [{"productId": "prod_009", "quantity": 1}])

    again = order(client, headers, [{"productId": "prod_009", "quantity": 1}])

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_the_same_idempotency_key_with_another_body_is_refused(client, customer_headers):
    order(client, customer_headers, [{"productId": "prod_009", "quantity": 1}], idempotencyKey="ord-key-2")

    response = order(client, customer_headers, [{"productId": "prod_009", "quantity": 2}],
                     idempotencyKey="ord-key-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert stock_of(client, "prod_009") == 79


def test_ordering_the_cart_orders_its_lines_and_empties_it(client, customer_headers):
    put_item(client, customer_headers, "prod_005", 2)
    put_item(client, customer_headers, "prod_011", 1)

    response = client.post("/api/orders", headers=customer_headers, json={"card": APPROVED})

    assert response.status_code == 201, response.text
    assert [(i["productId"], i["quantity"]) for i in response.json()["items"]] == [("prod_005", 2), ("prod_011", 1)]
    assert response.json()["totalAmount"] == 2 * 2400 + 1599
    assert client.get("/api/cart", headers=customer_headers).json()["items"] == []


def test_retrying_a_cart_checkout_with_its_idempotency_key_replays_the_order(client, customer_headers):
    put_item(client, customer_headers, "prod_005", 2)
    body = {"card": APPROVED, "idempotencyKey": "cart-checkout-1"}
    first = client.post("/api/orders", headers=customer_headers, json=body)

    again = client.post("/api/orders", headers=customer_headers, json=body)

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert stock_of(client, "prod_005") == 198


def test_an_explicit_empty_item_list_does_not_order_the_cart(client, customer_headers):
    put_item(client, customer_headers, "prod_005", 2)

    response = client.post("/api/orders", headers=customer_headers, json={"items": [], "card": APPROVED})

    assert response.status_code == 422
    assert "items" in error_fields(response)
    assert len(client.get("/api/cart", headers=customer_headers).json()["items"]) == 1
    assert stock_of(client, "prod_005") == 200


def test_ordering_an_empty_cart_is_refused_as_a_conflict_with_the_carts_state(client, customer_headers):
    response = client.post("/api/orders", headers=customer_headers, json={})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cart_changed"


def test_another_customers_order_is_not_found_but_an_admin_sees_all(client, customer_headers, admin_headers,
                                                                     new_customer):
    other = new_customer("other@example.com")
    placed = order(client, customer_headers, [{"productId": "prod_001", "quantity": 1}]).json()
    theirs = order(client, other, [{"productId": "prod_002", "quantity": 1}]).json()

    as_other = client.get(f"/api/orders/{placed['id']}", headers=other)
    as_admin = client.get(f"/api/orders/{placed['id']}", headers=admin_headers)

    assert as_other.status_code == 404
    assert as_other.json()["error"]["code"] == "not_found"
    assert as_admin.status_code == 200
    assert [o["id"] for o in client.get("/api/orders", headers=other).json()["data"]] == [theirs["id"]]
    assert {o["id"] for o in client.get("/api/orders", headers=admin_headers).json()["data"]} \
        == {placed["id"], theirs["id"]}


def test_orders_require_a_token(client):
    assert client.post("/api/orders", json={"items": [{"productId": "prod_001", "quantity": 1}]}).status_code == 401
    assert client.get("/api/orders").status_code == 401
