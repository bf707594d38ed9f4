"""The server-side cart: one per customer, shared by the UI and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.model.catalog import Product
from domain.model.errors import ValidationFailed

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


def cart_event_data(cart: Cart) -> dict[str, Any]:
    return {"totalAmount": cart.total, "currency": cart.currency, "itemCount": cart.item_count}
