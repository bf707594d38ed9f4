"""The domain imports only the standard library and itself (ARCHITECTURE.md's dependency rule)."""

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED = set(sys.stdlib_module_names) | {"__future__", "domain"}


def foreign_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] not in ALLOWED]
        elif (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
              and node.module.split(".")[0] not in ALLOWED):
            found.append(node.module)
    return found


def test_the_checker_catches_a_third_party_import():
    assert foreign_imports("import sqlmodel\nfrom fastapi import FastAPI\nimport json") == ["sqlmodel", "fastapi"]


def test_the_domain_imports_only_the_standard_library():
    offenders = {str(p.relative_to(DOMAIN.parent)): foreign_imports(p.read_text())
                 for p in sorted(DOMAIN.rglob("*.py"))}

    assert {path: names for path, names in offenders.items() if names} == {}
    assert len(offenders) >= 5  # the checker really read the package
