"""Every page function in app/pages stays small: it wires components, which draw."""

from __future__ import annotations

import ast
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2] / "app" / "pages"
MAX_BODY_LINES = 60


def is_page_decorator(decorator: ast.expr) -> bool:
    """`@ui.page(...)` or the guarded `@page(...)` of app/pages/guard.py."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "page") or \
        (isinstance(target, ast.Attribute) and target.attr == "page")


def page_sizes(source: str) -> dict[str, int]:
    """function name → the number of lines of its body, for each function in `source` decorated as a page."""
    return {node.name: (node.body[-1].end_lineno or 0) - node.body[0].lineno + 1
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and any(is_page_decorator(d) for d in node.decorator_list)}


def page_functions() -> dict[str, int]:
    """'module.function' → the number of lines of its body, for each page function in app/pages."""
    return {f"{path.stem}.{name}": lines for path in sorted(PAGES.glob("*.py"))
            for name, lines in page_sizes(path.read_text(encoding="utf-8")).items()}


def test_the_measure_counts_the_body_of_a_decorated_page_function_only():
    source = "\n".join([
        "def register(container):",
        "    @page(container, '/x', 'X', 'icon')",
        "    async def x_page(user):",
        *["        ui.label('a line')"] * 61,
        "    @ui.page('/y')",
        "    def y_page():",
        "        return None",
        "    def helper():",
        "        pass",
    ])

    assert page_sizes(source) == {"x_page": 61, "y_page": 1}


def test_the_measure_finds_every_page_of_the_app():
    found = set(page_functions())

    assert {"login.login_page", "home.dashboard_page", "shop.shop_page", "new_payment.new_payment_page",
            "payments.history_page", "admin_metrics.metrics_page", "admin_users.users_page",
            "admin_products.products_page"} <= found


def test_no_page_function_is_longer_than_60_lines():
    sizes = page_functions()

    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_BODY_LINES}

    assert too_long == {}, f"page functions over {MAX_BODY_LINES} lines: {too_long}"
