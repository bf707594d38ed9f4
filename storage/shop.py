"""Repositories of the storefront: products, carts and orders."""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, update
from sqlmodel import Session, col, select

from domain.model.catalog import Product
from domain.model.orders import Order, OrderItem
from domain.model.payments import PageCursor
from domain.model.statuses import OrderStatus
from domain.ports import NewEvents
from storage.db import to_db
from storage.repositories import flush
from storage.tables import CartItemRow, OrderItemRow, OrderRow, ProductRow


def _product(row: ProductRow) -> Product:
    return Product(row.id, row.name, row.description, row.unit_price_minor, row.currency, row.category,
                   row.image_url, row.stock, row.active, row.created_at, row.updated_at,
                   json.loads(row.metadata_json or "{}"))


def _product_values(p: Product) -> dict[str, Any]:
    return {"name": p.name, "description": p.description, "unit_price_minor": p.unit_price_minor,
            "currency": p.currency, "category": p.category, "image_url": p.image_url,
            "metadata_json": json.dumps(p.metadata), "stock": p.stock, "active": p.active,
            "created_at": p.created_at, "updated_at": p.updated_at}


class SqlProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, product_id: str, for_update: bool = False) -> Product | None:
        row = self.session.get(ProductRow, product_id, populate_existing=True, with_for_update=for_update or None)
        return _product(row) if row else None

    def list(self) -> list[Product]:
        return [_product(r) for r in self.session.exec(select(ProductRow).order_by(col(ProductRow.id)))]

    def add(self, product: Product) -> None:
        self.session.add(ProductRow(id=product.id, **_product_values(product)))
        flush(self.session)

    def update(self, product: Product) -> None:
        values = _product_values(product)
        values.pop("created_at")
        self.session.exec(update(ProductRow).where(col(ProductRow.id) == product.id).values(**values))

    def delete(self, product_id: str) -> None:
        self.session.exec(delete(ProductRow).where(col(ProductRow.id) == product_id))

    def reserve(self, product_id: str, quantity: int) -> bool:
        # One conditional UPDATE: atomic on SQLite and PostgreSQL alike, never below zero.
        result = self.session.exec(update(ProductRow).where(
            col(ProductRow.id) == product_id, col(ProductRow.stock) >= quantity, col(ProductRow.active).is_(True))
            .values(stock=col(ProductRow.stock) - quantity))
        return result.rowcount == 1

    def release(self, product_id: str, quantity: int) -> None:
        self.session.exec(update(ProductRow).where(col(ProductRow.id) == product_id)
                          .values(stock=col(ProductRow.stock) + quantity))


class SqlCartRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def items(self, customer_id: str) -> list[tuple[str, int]]:
        rows = self.session.exec(select(CartItemRow).where(col(CartItemRow.customer_id) == customer_id)
                                 .order_by(col(CartItemRow.added_at), col(CartItemRow.product_id)))
        return [(r.product_id, r.quantity) for r in rows]

    def set(self, customer_id: str, product_id: str, quantity: int, now: datetime) -> None:
        row = self.session.get(CartItemRow, (customer_id, product_id))
        if row is None:
            self.session.add(CartItemRow(customer_id=customer_id, product_id=product_id, quantity=quantity,
                                         added_at=now))
        else:
            row.quantity = quantity
            self.session.add(row)
        flush(self.session)

    def remove(self, customer_id: str, product_id: str) -> None:
        self.session.exec(delete(CartItemRow).where(col(CartItemRow.customer_id) == customer_id,
                                                    col(CartItemRow.product_id) == product_id))

    def clear(self, customer_id: str) -> None:
        self.session.exec(delete(CartItemRow).where(col(CartItemRow.customer_id) == customer_id))

    def take(self, customer_id: str, lines: list[tuple[str, int]]) -> bool:
        # Row by row, each DELETE conditional on the quantity that was read: on PostgreSQL a
        # concurrent take waits for our row locks, then finds the rows gone (rowcount 0).
        taken = 0
        for product_id, quantity in lines:
            taken += self.session.exec(delete(CartItemRow).where(
                col(CartItemRow.customer_id) == customer_id, col(CartItemRow.product_id) == product_id,
                col(CartItemRow.quantity) == quantity)).rowcount
        if taken != len(lines):
            return False
        left = self.session.exec(select(func.count()).select_from(CartItemRow)
                                 .where(col(CartItemRow.customer_id) == customer_id)).one()
        return left == 0

    def remove_product_everywhere(self, product_id: str) -> None:
        self.session.exec(delete(CartItemRow).where(col(CartItemRow.product_id) == product_id))


class SqlOrderRepository:
    def __init__(self, session: Session, events: NewEvents) -> None:
        self.session = session
        self._events = events  # an order added or updated here has its new events written at commit

    def _order(self, row: OrderRow) -> Order:
        items = self.session.exec(select(OrderItemRow).where(col(OrderItemRow.order_id) == row.id)
                                  .order_by(col(OrderItemRow.position)))
        return Order(row.id, row.customer_id, OrderStatus(row.status),
                     [OrderItem(i.product_id, i.name, i.quantity, i.unit_price_minor) for i in items],
                     row.total_amount, row.currency, row.payment_id, row.description, row.created_at,
                     row.updated_at)

    def get(self, order_id: str, for_update: bool = False) -> Order | None:
        stmt = select(OrderRow).where(col(OrderRow.id) == order_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return self._order(row) if row else None

    def add(self, order: Order) -> None:
        self.session.add(OrderRow(id=order.id, customer_id=order.customer_id, status=order.status,
                                  total_amount=order.total_amount, currency=order.currency,
                                  payment_id=order.payment_id, description=order.description,
                                  created_at=order.created_at, updated_at=order.updated_at))
        for position, item in enumerate(order.items):
            self.session.add(OrderItemRow(order_id=order.id, position=position, product_id=item.product_id,
                                          name=item.name, quantity=item.quantity,
                                          unit_price_minor=item.unit_price_minor))
        flush(self.session)
        self._events.saw(order)

    def update(self, order: Order) -> None:
        self.session.exec(update(OrderRow).where(col(OrderRow.id) == order.id).values(
            status=order.status, updated_at=order.updated_at, payment_id=order.payment_id))
        self._events.saw(order)

    def list(self, *, customer_id: str | None, limit: int, status: str | None = None,
             after: PageCursor | None = None, created_from: datetime | None = None,
             created_before: datetime | None = None) -> builtins.list[Order]:
        stmt = select(OrderRow)
        if customer_id is not None:
            stmt = stmt.where(col(OrderRow.customer_id) == customer_id)
        if status is not None:
            stmt = stmt.where(col(OrderRow.status) == status)
        if created_from is not None:
            stmt = stmt.where(col(OrderRow.created_at) >= to_db(created_from))
        if created_before is not None:
            stmt = stmt.where(col(OrderRow.created_at) < to_db(created_before))
        if after is not None:
            at = to_db(after.created_at)
            stmt = stmt.where(or_(col(OrderRow.created_at) < at,
                                  and_(col(OrderRow.created_at) == at, col(OrderRow.id) < after.id)))
        stmt = stmt.order_by(col(OrderRow.created_at).desc(), col(OrderRow.id).desc()).limit(limit)
        return [self._order(r) for r in self.session.exec(stmt).all()]

    def product_is_ordered(self, product_id: str) -> bool:
        return bool(self.session.exec(select(exists().where(col(OrderItemRow.product_id) == product_id))).first())
