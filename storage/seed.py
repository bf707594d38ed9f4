"""Demo data for the embedded default: created on first start only."""

from __future__ import annotations

from typing import NamedTuple

from domain.model.catalog import ProductQuery
from domain.model.errors import Conflict
from domain.services.catalog import CatalogService
from domain.services.users import UserService


class DemoUser(NamedTuple):
    email: str
    password: str
    name: str
    role: str


class DemoProduct(NamedTuple):
    id: str
    name: str
    price: str  # major units, parsed exactly
    category: str
    stock: int
    brand: str
    description: str


DEMO_USERS = (
    DemoUser("customer@example.com", "password123", "Demo Customer", "customer"),
    DemoUser("admin@example.com", "admin123", "Demo Admin", "admin"),
)


def seed_demo_users(users: UserService) -> int:
    """On a first start (no users at all), create the demo users; return how many were created.

    A later start never brings back a demo user that an admin deleted.
    """
    created = 0
    if users.list():
        return 0
    for demo in DEMO_USERS:
        try:
            users.create(email=demo.email, password=demo.password, name=demo.name, role=demo.role)
            created += 1
        except Conflict:  # another process seeded it at the same moment (the start lock makes this rare)
            pass
    return created


DEMO_PRODUCTS = (
    DemoProduct("prod_001", "Premium Headphones", "299.99", "electronics", 25, "AudioTech",
                "Over-ear wireless headphones with active noise cancelling."),
    DemoProduct("prod_002", "Smart Watch", "199.00", "electronics", 40, "Tickr",
                "Fitness tracking, heart-rate monitor and a week of battery."),
    DemoProduct("prod_003", "USB-C Charger 65W", "39.90", "electronics", 120, "VoltUp",
                "Compact gallium-nitride charger for laptops and phones."),
    DemoProduct("prod_004", "Bluetooth Speaker", "59.50", "electronics", 60, "AudioTech",
                "Waterproof portable speaker with deep bass."),
    DemoProduct("prod_005", "Organic Cotton T-Shirt", "24.00", "clothing", 200, "Loom",
                "Soft, breathable and fairly made. Unisex fit."),
    DemoProduct("prod_006", "Rain Jacket", "89.00", "clothing", 35, "Northline",
                "Light, packable and fully taped seams."),
    DemoProduct("prod_007", "Wool Socks (3 pairs)", "18.75", "clothing", 150, "Loom",
                "Merino blend for warm, dry feet."),
    DemoProduct("prod_008", "Running Shoes", "120.00", "clothing", 30, "Stride",
                "Cushioned daily trainer with a breathable upper."),
    DemoProduct("prod_009", "The Pragmatic Payments Book", "34.99", "books", 80, "Ledger Press",
                "How money moves: ledgers, idempotency and reconciliation."),
    DemoProduct("prod_010", "Cooking for Engineers", "27.50", "books", 45, "Ledger Press",
                "Recipes as algorithms, with timing diagrams."),
    DemoProduct("prod_011", "A Short History of Money", "15.99", "books", 70, "Mint House",
                "From shells to tokens in 300 readable pages."),
    DemoProduct("prod_012", "Ceramic Mug", "12.00", "home", 300, "Kiln & Co",
                "Stoneware mug, 350 ml, dishwasher safe."),
    DemoProduct("prod_013", "Desk Lamp", "45.00", "home", 50, "Lumen",
                "Dimmable LED lamp with a warm-to-cool colour range."),
    DemoProduct("prod_014", "Linen Throw Blanket", "64.00", "home", 20, "Kiln & Co",
                "Stone-washed linen, 130 × 170 cm."),
)


def seed_demo_catalog(catalog: CatalogService) -> int:
    """On a first start (no products at all), create the demo catalogue; return how many."""
    if catalog.browse(ProductQuery(include_inactive=True)):
        return 0
    created = 0
    for demo in DEMO_PRODUCTS:
        try:
            catalog.create({"name": demo.name, "description": demo.description, "unitPrice": demo.price,
                            "currency": "USD", "category": demo.category, "stock": demo.stock,
                            "imageUrl": f"/images/products/{demo.id}.svg", "metadata": {"brand": demo.brand}},
                           product_id=demo.id)
            created += 1
        except Conflict:  # another process seeded it at the same moment (the start lock makes this rare)
            pass
    return created
