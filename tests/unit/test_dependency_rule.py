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


def domain_imports() -> dict[str, set[str]]:
    """Each domain module and the domain modules it imports (TYPE_CHECKING imports included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(DOMAIN.rglob("*.py")):
        module = ".".join(path.relative_to(DOMAIN.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("domain"):
                graph[module].add(node.module)
            elif isinstance(node, ast.Import):
                graph[module] |= {a.name for a in node.names if a.name.startswith("domain")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle found by a depth-first walk, each as the modules along it."""
    found, state, path = [], {}, []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_the_domain_has_no_import_cycle():
    assert cycles(domain_imports()) == []


def test_the_model_imports_neither_ports_nor_services():
    offenders = {module: sorted(t for t in targets if t.startswith(("domain.ports", "domain.services")))
                 for module, targets in domain_imports().items() if module.startswith("domain.model")}

    assert {m: t for m, t in offenders.items() if t} == {}
