"""The storefront API: catalogue, cart and orders."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api.body import ExactJSONResponse, exact_json, openapi_body
from app.api.deps import AdminUser, ContainerDep, CurrentUser
from app.api.errors import responses
from app.api.fields import IdempotencyKeyHeader, TextQuery, optional_query
from app.api.idempotency import replay_responses
from app.api.rate_limits import key_of, limited
from app.api.schemas import (
    CartPublic,
    CartQuantity,
    CategoryList,
    OrderCreate,
    OrderList,
    OrderPublic,
    ProductCreate,
    ProductList,
    ProductPublic,
    ProductUpdate,
)
from domain.model.catalog import SORTS, ProductQuery, parse_price_filter

products = APIRouter(prefix="/api/products", tags=["catalogue"])
cart = APIRouter(prefix="/api/cart", tags=["cart"], responses=responses(401))
orders = APIRouter(prefix="/api/orders", tags=["orders"], responses=responses(401))
ProductId = Annotated[str, Path(alias="productId")]
OrderId = Annotated[str, Path(alias="orderId")]


PriceFilter = Annotated[str | None, optional_query({"type": "number", "minimum": 0})]
SortBy = Annotated[Literal["price", "-price", "name", "-name", "newest"] | None,
                   optional_query({"type": "string", "enum": list(SORTS)})]


@products.get("", response_model=ProductList, responses=responses(422))
def list_products(c: ContainerDep, category: TextQuery = None, search: TextQuery = None,
                  min_price: Annotated[PriceFilter, Query(alias="minPrice", description="Major units")] = None,
                  max_price: Annotated[PriceFilter, Query(alias="maxPrice", description="Major units")] = None,
                  sort_by: Annotated[SortBy, Query(alias="sortBy")] = None) -> Response:
    """Browse active products: category, case-insensitive search, price range (major units), sort."""
    query = ProductQuery(category=category, search=search, min_price=parse_price_filter(min_price, "minPrice"),
                         max_price=parse_price_filter(max_price, "maxPrice"), sort_by=sort_by)
    return ExactJSONResponse({"data": [p.public() for p in c.catalog.browse(query)]})


@products.get("/categories", response_model=CategoryList)
def list_categories(c: ContainerDep) -> dict[str, Any]:
    """The categories that have active products."""
    return {"data": c.catalog.categories()}


@products.get("/{productId}", response_model=ProductPublic, responses=responses(404))
def get_product(product_id: ProductId, c: ContainerDep) -> Response:
    """One product (inactive ones too, so order history stays readable)."""
    return ExactJSONResponse(c.catalog.get(product_id).public())


@products.post("", status_code=201, response_model=ProductPublic, openapi_extra=openapi_body(ProductCreate),
               responses=responses(400, 401, 403, 422))
async def create_product(request: Request, _admin: AdminUser, c: ContainerDep) -> Response:
    """Create a product (admin). `unitPrice` is parsed exactly from the JSON text."""
    raw = await exact_json(request, ProductCreate)
    # async to read the body exactly; the write goes to a worker thread, off the event loop
    product = await run_in_threadpool(c.catalog.create, raw)
    return ExactJSONResponse(product.public(), status_code=201)


@products.put("/{productId}", response_model=ProductPublic, openapi_extra=openapi_body(ProductUpdate),
              responses=responses(400, 401, 403, 404, 422))
async def update_product(product_id: ProductId, request: Request, _admin: AdminUser, c: ContainerDep) -> Response:
    """Change a product's fields (admin)."""
    raw = await exact_json(request, ProductUpdate)
    raw = {k: v for k, v in raw.items() if v is not None or k == "imageUrl"}
    product = await run_in_threadpool(c.catalog.update, product_id, raw)
    return ExactJSONResponse(product.public())


@products.delete("/{productId}", status_code=204, responses=responses(401, 403, 404))
def delete_product(product_id: ProductId, _admin: AdminUser, c: ContainerDep) -> Response:
    """Delete a product (admin); one that is in an order is deactivated instead."""
    c.catalog.delete(product_id)
    return Response(status_code=204)


@cart.get("", response_model=CartPublic)
def get_cart(user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """The caller's cart; lines that cannot be bought now are flagged with the reason."""
    return c.cart.view(user).public()


@cart.put("/items/{productId}", response_model=CartPublic, responses=responses(400, 404, 409, 422))
def set_cart_item(product_id: ProductId, body: CartQuantity, user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """Set a line's quantity (0 removes it); more than 100 or than the stock is refused."""
    return c.cart.set_quantity(user, product_id, body.quantity).public()


@cart.delete("", status_code=204)
def clear_cart(user: CurrentUser, c: ContainerDep) -> Response:
    """Empty the cart."""
    c.cart.clear(user)
    return Response(status_code=204)


@orders.post("", status_code=201, response_model=OrderPublic,
             responses=replay_responses(OrderPublic, 400, 409, 422, 429))
def place_order(body: OrderCreate, user: CurrentUser, c: ContainerDep,
                idempotency_key: IdempotencyKeyHeader = None) -> Response:
    """Price the items on the server, reserve stock and create the order with its payment (201)."""
    raw = body.for_service()
    return limited(c, user, key_of(idempotency_key, body.idempotency_key),
                   lambda: c.orders.place(user, raw, idempotency_key), lambda o: o.public(), 201)


@orders.get("", response_model=OrderList)
def list_orders(user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """The caller's orders (all for an admin), newest first."""
    return {"data": [o.public() for o in c.orders.list(user)]}


@orders.get("/{orderId}", response_model=OrderPublic, responses=responses(404))
def get_order(order_id: OrderId, user: CurrentUser, c: ContainerDep) -> dict[str, Any]:
    """One order (the owner's or, for an admin, anyone's)."""
    return c.orders.get(user, order_id).public()
