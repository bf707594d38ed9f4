"""The product catalogue: products, their validation, browsing and admin changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.clock import iso
from domain.model.errors import FieldError, ValidationFailed
from domain.model.money import check_currency, parse_major, to_major

CATEGORY = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
SORTS = ("price", "-price", "name", "-name", "newest")
MAX_STOCK = 1_000_000
MAX_NAME_CHARS = 120
MAX_DESCRIPTION_CHARS = 2000
MAX_IMAGE_URL_CHARS = 500


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    description: str
    unit_price_minor: int
    currency: str
    category: str
    image_url: str | None
    stock: int
    active: bool
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def unit_price(self) -> Decimal:
        return to_major(self.unit_price_minor, self.currency)

    @property
    def purchasable(self) -> bool:
        return self.active and self.stock > 0

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "description": self.description,
            "unitPrice": self.unit_price,  # a Decimal: the API renders it as an exact JSON number
            "unitPriceMinor": self.unit_price_minor, "currency": self.currency, "category": self.category,
            "imageUrl": self.image_url, "metadata": self.metadata, "stock": self.stock, "active": self.active,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
        }


def _text(raw: dict[str, Any], name: str, errors: list[FieldError], *, low: int, high: int) -> str | None:
    value = raw.get(name)
    if not isinstance(value, str) or not low <= len(value.strip()) <= high:
        errors.append(FieldError(name, f"must be text of {low} to {high} characters"))
        return None
    return value.strip()


def is_image_url(url: str) -> bool:
    """An https URL, or a path on this site, of at most MAX_IMAGE_URL_CHARS.

    https only: the pages' Content-Security-Policy refuses plain http images as mixed content;
    "//host" is another site's URL in disguise.
    """
    return len(url) <= MAX_IMAGE_URL_CHARS and (
        url.startswith("https://") or (url.startswith("/") and not url.startswith("//")))


MAX_METADATA_DEPTH = 31  # the object itself is one level of the body's 32


def depth(value: object) -> int:
    """How deeply lists and dicts nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_product_fields(raw: dict[str, Any], *, partial: bool, current: Product | None = None) -> dict[str, Any]:
    """Validate product fields (camelCase as on the wire); return domain field values.

    `unitPrice` must arrive as a Decimal or a string (the API parses JSON numbers as Decimal).
    """
    errors: list[FieldError] = []
    out: dict[str, Any] = {}

    def given(name: str) -> bool:
        return name in raw or not partial

    if given("name"):
        out["name"] = _text(raw, "name", errors, low=1, high=MAX_NAME_CHARS)
    if given("description") and (raw.get("description") is not None or not partial):
        value = raw.get("description", "") or ""
        if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_CHARS:
            errors.append(FieldError("description", f"must be text of at most {MAX_DESCRIPTION_CHARS} characters"))
        out["description"] = value
    currency = current.currency if current else "USD"
    if given("currency"):
        try:
            currency = out["currency"] = check_currency(raw.get("currency", "USD"))
        except ValidationFailed as e:
            errors.extend(e.details)
    if given("unitPrice") or ("currency" in raw and current is not None):
        price = raw.get("unitPrice", current.unit_price if current else None)
        if isinstance(price, (int, Decimal, str)) and not isinstance(price, bool):
            try:
                minor = parse_major(price if not isinstance(price, int) else Decimal(price), currency, "unitPrice")
                if minor < 1:
                    raise ValidationFailed.on("unitPrice", "must be greater than zero")
                out["unit_price_minor"] = minor
            except (ValidationFailed, InvalidOperation) as e:
                errors.extend(getattr(e, "details", [FieldError("unitPrice", "must be a decimal number")]))
        else:
            errors.append(FieldError("unitPrice", "must be a decimal number such as 19.99"))
    if given("category"):
        category = raw.get("category")
        if not isinstance(category, str) or not CATEGORY.match(category.strip().lower()):
            errors.append(FieldError("category", "must be a lowercase word such as 'books'"))
        else:
            out["category"] = category.strip().lower()
    if "imageUrl" in raw:
        url = raw.get("imageUrl")
        if url is not None and (not isinstance(url, str) or not is_image_url(url)):
            errors.append(FieldError("imageUrl", "must be an https URL or a path on this site"))
        out["image_url"] = url or None
    if given("stock"):
        stock = raw.get("stock", 0)
        if not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= MAX_STOCK:
            errors.append(FieldError("stock", f"must be a whole number from 0 to {MAX_STOCK:,}"))
        out["stock"] = stock
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            errors.append(FieldError("active", "must be true or false"))
        out["active"] = raw["active"]
    if "metadata" in raw:
        meta = raw.get("metadata") or {}
        if isinstance(meta, dict) and depth(meta) > MAX_METADATA_DEPTH:
            errors.append(FieldError("metadata", f"is nested deeper than {MAX_METADATA_DEPTH} levels"))
        elif not isinstance(meta, dict) or len(str(meta)) > 2000:
            errors.append(FieldError("metadata", "must be an object (at most 2000 characters)"))
        out["metadata"] = meta
    if errors:
        raise ValidationFailed.of(errors)
    return out


@dataclass(frozen=True)
class ProductQuery:
    category: str | None = None
    search: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    sort_by: str | None = None
    include_inactive: bool = False


def parse_price_filter(value: str | None, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise ValidationFailed.on(name, "must be a decimal number") from None
    if not price.is_finite() or price < 0:
        raise ValidationFailed.on(name, "must be a non-negative number")
    return price


def filter_products(products: list[Product], q: ProductQuery) -> list[Product]:
    """Browse: filters and sorting (prices compared in major units, exactly)."""
    if q.sort_by is not None and q.sort_by not in SORTS:
        raise ValidationFailed.on("sortBy", f"must be one of {', '.join(SORTS)}")
    result = [p for p in products if q.include_inactive or p.active]
    if q.category:
        result = [p for p in result if p.category == q.category.lower()]
    if q.search:
        needle = q.search.casefold()
        result = [p for p in result if needle in p.name.casefold() or needle in p.description.casefold()]
    if q.min_price is not None:
        result = [p for p in result if p.unit_price >= q.min_price]
    if q.max_price is not None:
        result = [p for p in result if p.unit_price <= q.max_price]
    keys: dict[str | None, tuple[Callable[[Product], Any], bool]] = {
        "price": (lambda p: (p.unit_price, p.name), False), "-price": (lambda p: (p.unit_price, p.name), True),
        "name": (lambda p: p.name.casefold(), False), "-name": (lambda p: p.name.casefold(), True),
        "newest": (lambda p: (p.created_at, p.id), True), None: (lambda p: p.id, False),
    }
    key, reverse = keys[q.sort_by]
    return sorted(result, key=key, reverse=reverse)
