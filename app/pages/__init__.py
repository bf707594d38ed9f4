"""NiceGUI pages: one module per page area, a shared frame."""

from __future__ import annotations

from app.bootstrap import Container


def register_pages(container: Container) -> None:
    from app.pages import home, login

    login.register(container)
    home.register(container)
