"""The server-side cart: one per customer, shared by the UI and the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.catalog import Product
from domain.clock import Clock
from domain.errors import InsufficientStock, NotFound, ValidationFailed
from domain.events import Event
from domain.ports import UnitOfWork
from domain.users import User

MAX_QUANTITY = 100


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def line_total(self) -> int:
        return self.product.unit_price_minor * self.quantity

    @property
    def problem(self) -> str | None:
        """Why this line cannot be bought now, or None."""
        if not self.product.active:
            return f"{self.product.name} is no longer available"
        if self.product.stock == 0:
            return f"{self.product.name} is out of stock"
        if self.quantity > self.product.stock:
            return f"only {self.product.stock} of {self.product.name} left"
        return None

    def public(self) -> dict[str, Any]:
        return {"productId": self.product.id, "name": self.product.name, "quantity": self.quantity,
                "unitPriceMinor": self.product.unit_price_minor, "lineTotal": self.line_total,
                "currency": self.product.currency, "available": self.problem is None, "problem": self.problem}


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]

    @property
    def total(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def currency(self) -> str | None:
        return self.lines[0].product.currency if self.lines else None

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def problems(self) -> list[str]:
        return [p for p in (line.problem for line in self.lines) if p]

    def public(self) -> dict[str, Any]:
        return {"items": [line.public() for line in self.lines], "totalAmount": self.total,
                "currency": self.currency, "itemCount": self.item_count, "problems": self.problems}


def check_quantity(quantity: object, field: str = "quantity", minimum: int = 0) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not minimum <= quantity <= MAX_QUANTITY:
        raise ValidationFailed.on(field, f"must be a whole number from {minimum} to {MAX_QUANTITY}")
    return quantity


def load_cart(uow: UnitOfWork, customer_id: str) -> Cart:
    lines = []
    for product_id, quantity in uow.carts.items(customer_id):
        product = uow.products.get(product_id)
        if product is not None:
            lines.append(CartLine(product, quantity))
    return Cart(lines)


class CartService:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def view(self, user: User) -> Cart:
        with self.uow(read_only=True) as uow:
            return load_cart(uow, user.id)

    def set_quantity(self, user: User, product_id: str, quantity: object) -> Cart:
        quantity = check_quantity(quantity)
        with self.uow() as uow:
            product = uow.products.get(product_id)
            if product is None:
                raise NotFound("product not found")
            if quantity == 0:
                uow.carts.remove(user.id, product_id)
            else:
                if not product.active:
                    raise ValidationFailed.on("productId", f"{product.name} is no longer available")
                if quantity > product.stock:
                    raise InsufficientStock(f"only {product.stock} of {product.name} in stock")
                cart = load_cart(uow, user.id)
                if cart.currency and cart.currency != product.currency and any(
                        line.product.id != product_id for line in cart.lines):
                    raise ValidationFailed.on("productId", f"the cart is in {cart.currency}; "
                                                           f"{product.name} is priced in {product.currency}")
                uow.carts.set(user.id, product_id, quantity, self.clock.now())
            cart = load_cart(uow, user.id)
            uow.outbox.add(Event("cart.updated", cart_event_data(cart), self.clock.now(), customer_id=user.id))
            uow.commit()
        return cart

    def clear(self, user: User) -> None:
        with self.uow() as uow:
            uow.carts.clear(user.id)
            uow.outbox.add(Event("cart.updated", cart_event_data(Cart([])), self.clock.now(), customer_id=user.id))
            uow.commit()


def cart_event_data(cart: Cart) -> dict[str, Any]:
    return {"totalAmount": cart.total, "currency": cart.currency, "itemCount": cart.item_count}
