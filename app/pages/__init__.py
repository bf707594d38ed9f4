"""NiceGUI pages: one module per page area, a shared frame."""

from __future__ import annotations

from app.bootstrap import Container
from app.metrics import Sampler


def register_pages(container: Container, sampler: Sampler) -> None:
    """Register every page; the order here is the order of the navigation."""
    from app.pages import (
        admin_metrics,
        admin_products,
        admin_users,
        admin_webhooks,
        home,
        login,
        new_payment,
        order_detail,
        orders,
        payment_detail,
        payments,
        shop,
    )

    login.register(container)
    home.register(container)
    shop.register(container)
    new_payment.register(container)
    payments.register(container)
    orders.register(container)
    order_detail.register(container)  # after /orders
    payment_detail.register(container)  # after /payments/new, which its /payments/{id} would match
    admin_metrics.register(container, sampler)
    admin_users.register(container)
    admin_products.register(container)
    admin_webhooks.register(container)
