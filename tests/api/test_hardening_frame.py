"""The hardened HTTP frame (API.md, Conventions): body limits, a 500 that stays inside the app,
honest methods, JSON 404s under /api/, an OpenAPI schema that declares the enforced limits, and
orders that ignore a client's totals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from app.api import install_api
from app.api.body import dumps_exact
from app.api.limits import MAX_BODY_BYTES, too_deep
from app.bootstrap import Container
from tests.api.test_api_frame import assert_error_body, assert_security_headers

Headers = dict[str, str]
CARD = {"number": "4242424242424242", "expMonth": 12, "expYear": 2030, "cvc": "123"}
CONTROL_FREE_MESSAGE = "must not contain control characters (tab and newline aside)"


def nested(levels: int) -> str:
    """JSON text of `levels` nested arrays: nested(1) == "[]"."""
    return "[" * levels + "]" * levels


def post_raw(client: TestClient, url: str, text: str | bytes, headers: Headers | None = None,
             method: str = "POST") -> httpx.Response:
    return client.request(method, url, content=text, headers={**(headers or {}), "Content-Type": "application/json"})


def product_body(**changes: object) -> dict:
    return {"name": "Widget", "unitPrice": "9.99", "currency": "USD", "category": "gadgets", "stock": 5, **changes}


def product_count(client: TestClient) -> int:
    response = client.get("/api/products")
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def fields(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


# --- depth ---------------------------------------------------------------------------------
def test_a_product_with_metadata_350_levels_deep_is_422_and_the_catalogue_still_reads(
        client: TestClient, admin_headers: Headers) -> None:
    before = product_count(client)
    body = json.dumps(product_body())[:-1] + ', "metadata": {"a": ' + nested(350) + "}}"

    response = post_raw(client, "/api/products", body, admin_headers)

    assert_error_body(response, 422, "validation_error")
    assert fields(response) == {"body"}
    assert product_count(client) == before


@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/api/products"), ("PUT", "/api/products/prod_001"),  # read by exact_json
    ("POST", "/api/auth/login"), ("POST", "/api/payments"), ("POST", "/api/orders"),  # pydantic bodies
    ("PUT", "/api/cart/items/prod_001"), ("POST", "/api/users"), ("PUT", "/api/users/usr_x"),
])
def test_a_body_nested_100000_levels_deep_is_422_on_every_json_route(
        client: TestClient, admin_headers: Headers, method: str, url: str) -> None:
    response = post_raw(client, url, nested(100_000), admin_headers, method)

    error = assert_error_body(response, 422, "validation_error")
    assert "32" in error["message"]


def test_32_levels_are_accepted_and_33_are_not(client: TestClient, admin_headers: Headers) -> None:
    # The body object is the first level, so metadata may hold 31 more.
    deepest = {"name": "Deep", "unitPrice": "1.00", "currency": "USD", "category": "books",
               "metadata": {"k": json.loads(nested(30))}}
    too_deep_body = {**deepest, "metadata": {"k": json.loads(nested(31))}}

    accepted = client.post("/api/products", headers=admin_headers, json=deepest)
    refused = client.post("/api/products", headers=admin_headers, json=too_deep_body)

    assert accepted.status_code == 201, accepted.text
    assert_error_body(refused, 422, "validation_error")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"description": "[" * 100 + '\\"{{{' + "{" * 100})

    assert not too_deep(text.encode())
    assert too_deep(nested(33).encode())
    assert not too_deep(nested(32).encode())


def test_a_product_saved_with_deep_metadata_by_another_path_never_breaks_a_read(
        client: TestClient, container: Container) -> None:
    # Data saved before these limits (straight to storage here) may be deeper than they allow.
    with container.uow() as uow:
        product = uow.products.get("prod_001")
        uow.products.update(replace(product, metadata={"a": json.loads(nested(350))}))
        uow.commit()

    listing = client.get("/api/products")
    one = client.get("/api/products/prod_001")

    assert listing.status_code == 200, listing.text
    assert one.status_code == 200, one.text
    assert one.json()["metadata"] == {"a": json.loads(nested(350))}


def test_exact_json_text_is_written_without_recursion() -> None:
    deep: list = []
    for _ in range(5000):
        deep = [deep]

    assert dumps_exact(deep) == nested(5001)


# --- size ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "url"), [("POST", "/api/products"), ("POST", "/api/payments"),
                                             ("POST", "/api/auth/login")])
def test_a_body_over_1_mib_is_413_with_the_error_body(client: TestClient, admin_headers: Headers,
                                                      method: str, url: str) -> None:
    body = json.dumps({"description": "x" * MAX_BODY_BYTES})

    response = post_raw(client, url, body, admin_headers, method)

    assert_error_body(response, 413, "payload_too_large")
    assert_security_headers(response)


def test_a_chunked_body_over_1_mib_is_413_too(client: TestClient, customer_headers: Headers) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"description": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = client.post("/api/payments", content=chunks(),
                           headers={**customer_headers, "Content-Type": "application/json"})

    assert_error_body(response, 413, "payload_too_large")


def test_a_body_of_exactly_1_mib_is_not_refused_for_its_size(client: TestClient,
                                                              customer_headers: Headers) -> None:
    prefix, suffix = '{"amount": 100, "currency": "USD", "description": "', '"}'
    body = prefix + "x" * (MAX_BODY_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body.encode()) == MAX_BODY_BYTES

    response = post_raw(client, "/api/payments", body, customer_headers)

    assert_error_body(response, 422, "validation_error")  # the description is too long, not the body
    assert fields(response) == {"description"}


# --- control characters --------------------------------------------------------------------
def test_a_nul_in_a_product_name_is_422_naming_it_and_nothing_is_saved(client: TestClient,
                                                                      admin_headers: Headers) -> None:
    before = product_count(client)

    response = client.post("/api/products", headers=admin_headers, json=product_body(name="N\u0000ul"))

    error = assert_error_body(response, 422, "validation_error")
    assert error["details"] == [{"field": "name", "message": CONTROL_FREE_MESSAGE}]
    assert "\u0000" not in response.text
    assert product_count(client) == before


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("POST", "/api/payments", {"amount": 100, "currency": "USD", "description": "a\u0001b"}, "description"),
    ("POST", "/api/payments", {"amount": 100, "currency": "USD", "card": {**CARD, "cvc": "12\u001b"}},
     "card.cvc"),
    ("POST", "/api/orders", {"items": [{"productId": "prod_001\u0000", "quantity": 1}]}, "items[0].productId"),
    ("POST", "/api/auth/login", {"email": "customer@example.com\r", "password": "password123"}, "email"),
    ("POST", "/api/users", {"email": "x@example.com", "password": "pass\u007fword", "name": "X"}, "password"),
    ("PUT", "/api/users/usr_x", {"name": "B\u0085ob"}, "name"),
    ("PUT", "/api/products/prod_001", {"metadata": {"note": "a\u0000"}}, "metadata.note"),
    ("PUT", "/api/products/prod_001", {"metadata": {"k\u0000": "v"}}, "metadata"),
    ("PUT", "/api/cart/items/prod_001", {"quantity": 1, "x\u0002": 1}, "body"),
    ("POST", "/api/payments", {"amount": 100, "currency": "USD", "description": "\ud800"}, "description"),
])
def test_control_characters_in_any_text_of_any_body_are_422_naming_the_field(
        client: TestClient, admin_headers: Headers, method: str, url: str, body: dict, field: str) -> None:
    response = post_raw(client, url, json.dumps(body), admin_headers, method)

    error = assert_error_body(response, 422, "validation_error")
    assert error["details"] == [{"field": field, "message": CONTROL_FREE_MESSAGE}]


def test_tab_and_newline_are_text_like_any_other(client: TestClient, customer_headers: Headers) -> None:
    response = client.post("/api/payments", headers=customer_headers,
                           json={"amount": 100, "currency": "USD", "description": "line 1\n\tline 2"})

    assert response.status_code == 202, response.text
    assert response.json()["description"] == "line 1\n\tline 2"


@pytest.mark.parametrize("query", ["search=a%00b", "category=%1b", "sortBy=name&x%07=1"])
def test_control_characters_in_a_query_string_are_422(client: TestClient, query: str) -> None:
    response = client.get(f"/api/products?{query}")

    assert_error_body(response, 422, "validation_error")


# --- orders: client totals are ignored -----------------------------------------------------
@pytest.mark.parametrize("totals", [{"amount": 1}, {"totalAmount": 1}, {"amount": "5.00", "totalAmount": 0.5},
                                    {"amount": None, "totalAmount": {"x": 1}}])
def test_an_order_accepts_and_ignores_a_client_sent_amount_or_total(client: TestClient, customer_headers: Headers,
                                                                   totals: dict) -> None:
    response = client.post("/api/orders", headers=customer_headers,
                           json={"items": [{"productId": "prod_001", "quantity": 2}], **totals})

    assert response.status_code == 201, response.text
    assert response.json()["totalAmount"] == 2 * client.get("/api/products/prod_001").json()["unitPriceMinor"]


def test_any_other_unknown_order_field_is_422_naming_it(client: TestClient, customer_headers: Headers) -> None:
    response = client.post("/api/orders", headers=customer_headers,
                           json={"items": [{"productId": "prod_001", "quantity": 1}], "totalAmount": 1,
                                 "discount": 50})

    error = assert_error_body(response, 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["discount"]


# --- a 500 stays inside the app ------------------------------------------------------------
@pytest.fixture
def strict_client(container: Container) -> Iterator[TestClient]:
    """Re-raises whatever escapes the app, as a server would see it (and then drop the connection)."""
    app = FastAPI()
    install_api(app, container)

    @app.get("/api/boom")
    def boom() -> dict:
        raise RuntimeError("SELECT password_hash FROM users")

    with TestClient(app, raise_server_exceptions=True) as c:
        yield c


def test_an_unexpected_error_is_answered_inside_the_app_and_never_reaches_the_server(
        strict_client: TestClient) -> None:
    response = strict_client.get("/api/boom")

    assert_error_body(response, 500, "internal_error")
    assert_security_headers(response)
    assert "password_hash" not in response.text


# --- methods -------------------------------------------------------------------------------
def allow(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


@pytest.mark.parametrize(("url", "methods"), [
    ("/api/payments", {"GET", "HEAD", "POST", "OPTIONS"}),
    ("/api/products/prod_001", {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
    ("/api/cart", {"GET", "HEAD", "DELETE", "OPTIONS"}),
    ("/health", {"GET", "HEAD", "OPTIONS"}),
])
def test_options_lists_every_method_of_the_path(client: TestClient, url: str, methods: set[str]) -> None:
    response = client.options(url)

    assert response.status_code in (200, 204)
    assert allow(response) == methods


def test_a_405_lists_every_method_of_the_path_not_only_the_first_routes(client: TestClient) -> None:
    response = client.delete("/api/payments")

    assert_error_body(response, 405, "method_not_allowed")
    assert allow(response) == {"GET", "HEAD", "POST", "OPTIONS"}


@pytest.mark.parametrize("url", ["/api/products", "/api/products/prod_001", "/health", "/openapi.json"])
def test_head_answers_wherever_get_does_with_the_headers_and_no_body(client: TestClient, url: str) -> None:
    get = client.get(url)

    head = client.head(url)

    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_on_a_protected_route_needs_the_token_like_get(client: TestClient, customer_headers: Headers) -> None:
    assert client.head("/api/payments").status_code == 401
    assert client.head("/api/payments", headers=customer_headers).status_code == 200


# --- 404 under /api/ when the pages have their own 404 (as NiceGUI's app has) ---------------
@pytest.fixture
def app_with_a_page_404(container: Container) -> Iterator[TestClient]:
    app = FastAPI()

    @app.exception_handler(404)
    async def page_not_found(_request: Request, _exc: Exception) -> HTMLResponse:
        return HTMLResponse("<html>page not found</html>", status_code=404)

    install_api(app, container)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("url", ["/api/nope", "/api", "/api/payments/x/nope"])
def test_unknown_api_paths_get_the_json_404_even_where_pages_have_an_html_one(
        app_with_a_page_404: TestClient, url: str) -> None:
    assert_error_body(app_with_a_page_404.get(url), 404, "not_found")


def test_unknown_page_paths_keep_the_pages_404(app_with_a_page_404: TestClient) -> None:
    response = app_with_a_page_404.get("/no-such-page")

    assert response.status_code == 404
    assert "page not found" in response.text


# --- the schema says what the server does --------------------------------------------------
@pytest.fixture
def schema(client: TestClient) -> dict:
    return client.get("/openapi.json").json()


def component(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]


def parameter(schema: dict, path: str, name: str) -> dict:
    return next(p["schema"] for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_the_schema_says_unit_price_is_a_number(schema: dict) -> None:
    assert component(schema, "ProductPublic")["properties"]["unitPrice"]["type"] == "number"


def test_the_schema_declares_the_enforced_limits_of_a_payment(schema: dict) -> None:
    payment = component(schema, "PaymentCreate")["properties"]
    card = component(schema, "CardIn")["properties"]

    assert (payment["amount"]["minimum"], payment["amount"]["maximum"]) == (1, 99_999_999)
    assert set(payment["currency"]["enum"]) == {"USD", "EUR", "GBP", "JPY"}
    assert set(payment["paymentMethod"]["enum"]) == {"credit_card", "debit_card", "bank_transfer", "wallet"}
    assert payment["description"]["maxLength"] == 500
    assert (card["expMonth"]["minimum"], card["expMonth"]["maximum"]) == (1, 12)
    assert card["cvc"]["pattern"] == "^[0-9]{3,4}$"


def test_the_schema_declares_the_enums_and_ranges_of_the_filters(schema: dict) -> None:
    assert set(parameter(schema, "/api/products", "sortBy")["enum"]) == {"price", "-price", "name", "-name",
                                                                         "newest"}
    assert parameter(schema, "/api/products", "minPrice") == {"type": "number", "minimum": 0,
                                                              "title": "Minprice"}
    assert set(parameter(schema, "/api/payments", "status")["enum"]) == {"pending", "processing", "retrying",
                                                                         "completed", "failed"}
    limit = parameter(schema, "/api/payments", "limit")
    assert (limit["minimum"], limit["maximum"]) == (1, 200)


def test_the_schema_lets_an_order_carry_the_ignored_totals(schema: dict) -> None:
    order = component(schema, "OrderCreate")

    assert {"amount", "totalAmount"} <= set(order["properties"])
    assert order["additionalProperties"] is False


# --- what the fuzzer found -----------------------------------------------------------------
def test_a_literal_path_is_not_also_a_template(client: TestClient, admin_headers: Headers) -> None:
    response = client.put("/api/products/categories", headers=admin_headers, json={"stock": 1})

    assert_error_body(response, 405, "method_not_allowed")
    assert allow(response) == {"GET", "HEAD", "OPTIONS"}
    assert allow(client.options("/api/products/categories")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize(("url", "body"), [
    ("/api/payments", {"amount": 100.0, "currency": "USD", "card": {**CARD, "expMonth": 12.0}}),
    ("/api/orders", {"items": [{"productId": "prod_001", "quantity": 1.0}]}),
])
def test_a_number_without_a_fraction_is_an_integer_as_json_schema_says(client: TestClient,
                                                                       customer_headers: Headers, url: str,
                                                                       body: dict) -> None:
    response = client.post(url, headers=customer_headers, json=body)

    assert response.status_code in (201, 202), response.text


def test_an_integer_with_a_fraction_is_still_refused(client: TestClient, customer_headers: Headers) -> None:
    response = client.post("/api/payments", headers=customer_headers, json={"amount": 100.5, "currency": "USD"})

    error = assert_error_body(response, 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["amount"]


def test_metadata_numbers_with_a_fraction_are_stored_and_read_back(client: TestClient,
                                                                   admin_headers: Headers) -> None:
    response = post_raw(client, "/api/products/prod_001", '{"metadata": {"w": 1.5, "n": 2.0}, "stock": 7.0}',
                        admin_headers, "PUT")

    assert response.status_code == 200, response.text
    assert client.get("/api/products/prod_001").json()["metadata"] == {"w": 1.5, "n": 2}
    assert client.get("/api/products/prod_001").json()["stock"] == 7


@pytest.mark.parametrize("key", ["caf\u00e9", "x" * 256])
def test_an_idempotency_key_header_outside_printable_ascii_or_over_255_is_422(
        client: TestClient, customer_headers: dict, key: str) -> None:
    response = client.post("/api/payments", json={"amount": 100, "currency": "USD"},
                           headers={**customer_headers, "Idempotency-Key": key.encode()})

    error = assert_error_body(response, 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["Idempotency-Key"]


def test_the_schema_names_the_formats_a_json_schema_cannot_check(schema: dict) -> None:
    assert component(schema, "CardIn")["properties"]["number"]["format"] == "payment-card"
    assert parameter(schema, "/api/payments", "cursor")["format"] == "payment-cursor"
    assert parameter(schema, "/api/providers/mock/charges", "paymentId")["anyOf"][0]["pattern"].startswith("^[^")


def test_authenticated_responses_are_not_to_be_cached(client: TestClient, customer_headers) -> None:
    signed_in = client.get("/api/payments", headers=customer_headers)
    bad_token = client.get("/api/payments", headers={"Authorization": "Bearer not-a-token"})
    public = client.get("/api/products")

    assert signed_in.headers["cache-control"] == "no-store"
    assert bad_token.status_code == 401 and bad_token.headers["cache-control"] == "no-store"
    assert "no-store" not in public.headers.get("cache-control", "")
