"""Use cases of the catalogue: browse, read, and the admin's create, update and delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.clock import Clock, new_id
from domain.model.catalog import Product, ProductQuery, filter_products, parse_product_fields
from domain.model.errors import NotFound
from domain.model.events import Event
from domain.ports import UnitOfWorkFactory


class CatalogService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def browse(self, query: ProductQuery) -> list[Product]:
        with self.uow(read_only=True) as uow:
            return filter_products(uow.products.list(), query)

    def categories(self) -> list[str]:
        with self.uow(read_only=True) as uow:
            return sorted({p.category for p in uow.products.list() if p.active})

    def get(self, product_id: str, include_inactive: bool = True) -> Product:
        with self.uow(read_only=True) as uow:
            product = uow.products.get(product_id)
        if product is None or (not include_inactive and not product.active):
            raise NotFound("product not found")
        return product

    def create(self, raw: dict[str, Any], product_id: str | None = None) -> Product:
        values = parse_product_fields(raw, partial=False)
        now = self.clock.now()
        product = Product(id=product_id or new_id("prod"), name=values["name"],
                          description=values.get("description", ""), unit_price_minor=values["unit_price_minor"],
                          currency=values.get("currency", "USD"), category=values["category"],
                          image_url=values.get("image_url"), stock=values.get("stock", 0),
                          active=values.get("active", True), created_at=now, updated_at=now,
                          metadata=values.get("metadata", {}))
        with self.uow() as uow:
            uow.products.add(product)
            uow.publish(Event("product.created", _event_data(product), now, aggregate_id=product.id))
            uow.commit()
        return product

    def update(self, product_id: str, raw: dict[str, Any]) -> Product:
        with self.uow() as uow:
            # Locked: a reservation committed meanwhile must not be overwritten by the stock read here.
            current = uow.products.get(product_id, for_update=True)
            if current is None:
                raise NotFound("product not found")
            values = parse_product_fields(raw, partial=True, current=current)
            product = replace(current, **values, updated_at=self.clock.now())
            uow.products.update(product)
            uow.publish(Event("product.updated", _event_data(product), product.updated_at, aggregate_id=product.id))
            uow.commit()
        return product

    def delete(self, product_id: str) -> bool:
        """Delete; a product that is in an order is deactivated instead. Returns True if deleted."""
        with self.uow() as uow:
            product = uow.products.get(product_id)
            if product is None:
                raise NotFound("product not found")
            now = self.clock.now()
            if uow.orders.product_is_ordered(product_id):
                product = replace(product, active=False, updated_at=now)
                uow.products.update(product)
                uow.publish(Event("product.deactivated", _event_data(product), now, aggregate_id=product_id))
                deleted = False
            else:
                uow.carts.remove_product_everywhere(product_id)
                uow.products.delete(product_id)
                uow.publish(Event("product.deleted", {"id": product_id}, now, aggregate_id=product_id))
                deleted = True
            uow.commit()
        return deleted


def _event_data(product: Product) -> dict[str, Any]:
    data = product.public()
    data["unitPrice"] = str(product.unit_price)  # events are stored as JSON: keep the price exact text
    return data
