"""Demo data for the embedded default: created on first start only."""

from __future__ import annotations

from domain.model.catalog import ProductQuery
from domain.model.errors import Conflict
from domain.services.catalog import CatalogService
from domain.services.users import UserService

DEMO_USERS = (
    ("customer@example.com", "password123", "Demo Customer", "customer"),
    ("admin@example.com", "admin123", "Demo Admin", "admin"),
)


def seed_demo_users(users: UserService) -> int:
    """On a first start (no users at all), create the demo users; return how many were created.

    A later start never brings back a demo user that an admin deleted.
    """
    created = 0
    if users.list():
        return 0
    for email, password, name, role in DEMO_USERS:
        try:
            users.create(email=email, password=password, name=name, role=role)
            created += 1
        except Conflict:  # another process seeded it at the same moment (the start lock makes this rare)
            pass
    return created


# (id, name, description, price, category, stock, brand)
DEMO_PRODUCTS = (
    ("prod_001", "Premium Headphones", "Over-ear wireless headphones with active noise cancelling.", "299.99",
     "electronics", 25, "AudioTech"),
    ("prod_002", "Smart Watch", "Fitness tracking, heart-rate monitor and a week of battery.", "199.00",
     "electronics", 40, "Tickr"),
    ("prod_003", "USB-C Charger 65W", "Compact gallium-nitride charger for laptops and phones.", "39.90",
     "electronics", 120, "VoltUp"),
    ("prod_004", "Bluetooth Speaker", "Waterproof portable speaker with deep bass.", "59.50", "electronics", 60,
     "AudioTech"),
    ("prod_005", "Organic Cotton T-Shirt", "Soft, breathable and fairly made. Unisex fit.", "24.00", "clothing", 200,
     "Loom"),
    ("prod_006", "Rain Jacket", "Light, packable and fully taped seams.", "89.00", "clothing", 35, "Northline"),
    ("prod_007", "Wool Socks (3 pairs)", "Merino blend for warm, dry feet.", "18.75", "clothing", 150, "Loom"),
    ("prod_008", "Running Shoes", "Cushioned daily trainer with a breathable upper.", "120.00", "clothing", 30,
     "Stride"),
    ("prod_009", "The Pragmatic Payments Book", "How money moves: ledgers, idempotency and reconciliation.",
     "34.99", "books", 80, "Ledger Press"),
    ("prod_010", "Cooking for Engineers", "Recipes as algorithms, with timing diagrams.", "27.50", "books", 45,
     "Ledger Press"),
    ("prod_011", "A Short History of Money", "From shells to tokens in 300 readable pages.", "15.99", "books", 70,
     "Mint House"),
    ("prod_012", "Ceramic Mug", "Stoneware mug, 350 ml, dishwasher safe.", "12.00", "home", 300, "Kiln & Co"),
    ("prod_013", "Desk Lamp", "Dimmable LED lamp with a warm-to-cool colour range.", "45.00", "home", 50, "Lumen"),
    ("prod_014", "Linen Throw Blanket", "Stone-washed linen, 130 × 170 cm.", "64.00", "home", 20, "Kiln & Co"),
)


def seed_demo_catalog(catalog: CatalogService) -> int:
    """On a first start (no products at all), create the demo catalogue; return how many."""
    if catalog.browse(ProductQuery(include_inactive=True)):
        return 0
    created = 0
    for pid, name, description, price, category, stock, brand in DEMO_PRODUCTS:
        try:
            catalog.create({"name": name, "description": description, "unitPrice": price, "currency": "USD",
                            "category": category, "stock": stock, "imageUrl": f"/images/products/{pid}.svg",
                            "metadata": {"brand": brand}}, product_id=pid)
            created += 1
        except Conflict:  # another process seeded it at the same moment (the start lock makes this rare)
            pass
    return created
