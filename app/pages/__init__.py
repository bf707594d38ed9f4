"""NiceGUI pages: one module per page area, a shared frame."""

from __future__ import annotations

from app.bootstrap import Container


def register_pages(container: Container) -> None:
    from app.pages import admin_users, home, login, payments

    login.register(container)
    home.register(container)
    payments.register(container)
    admin_users.register(container)
