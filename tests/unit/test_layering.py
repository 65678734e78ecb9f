"""The house's layering, read from the import graph of functions/assistec (every import statement,
deferred and type-only ones included): dependencies point downwards only.

    handlers → api, wiring → services → integrations, db → domain
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "assistec"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import in the file."""
    package = _module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [alias.name for alias in node.names], node.lineno


def _graph() -> dict[str, list[tuple[str, list[str], int]]]:
    return {
        _module_name(path): list(_imports(path))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
    }


GRAPH = _graph()


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _ours(imported: str, names: list[str]) -> list[str]:
    """The assistec modules an import statement reaches (``from assistec.db import orders`` reaches
    ``assistec.db.orders``)."""
    if imported != "assistec" and not imported.startswith("assistec."):
        return []
    reached = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in GRAPH]
    return reached or [imported]


def _violations(source_layer: str, allowed: set[str]) -> list[str]:
    found = []
    for module, imports in GRAPH.items():
        if _layer(module) != source_layer:
            continue
        for imported, names, line in imports:
            for target in _ours(imported, names):
                layer = _layer(target)
                if layer and layer not in allowed:
                    found.append(f"{module}:{line} imports {target}")
    return found


def test_the_graph_was_read() -> None:
    # Guard against a layering test that passes because it read nothing
    assert {"assistec.domain.orders", "assistec.db.connection", "assistec.handlers.api"} <= set(GRAPH)
    assert any(_ours(i, n) for imports in GRAPH.values() for i, n, _ in imports)


@pytest.mark.parametrize(
    ("layer", "allowed"),
    [
        # Pure rules: nothing of ours but themselves.
        ("domain", {"domain"}),
        # SQL: the rules' types and the settings, nothing above.
        ("db", {"db", "domain", "settings"}),
        # Providers' clients: never the use cases, the SQL or the web layer.
        ("integrations", {"integrations", "domain", "settings", "errors", "observability", "__init__"}),
        # Use cases: never the web layer, the entry points or the composition roots.
        ("services", {"services", "db", "domain", "integrations", "settings", "errors", "observability"}),
        # Routers: use cases come from the composition root, handed over per request.
        (
            "api",
            {"api", "services", "domain", "errors", "observability", "settings", "db", "wiring", "__init__"},
        ),
        # Composition roots build everything below them, never an entry point.
        ("wiring", {"wiring", "services", "db", "integrations", "settings", "domain"}),
    ],
)
def test_dependencies_point_downwards(layer: str, allowed: set[str]) -> None:
    assert _violations(layer, allowed) == []


def test_nothing_imports_an_entry_point() -> None:
    # Each handler is a Lambda entry point: what two of them share lives in wiring/ or below
    importers = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        for imported, names, line in imports
        for target in _ours(imported, names)
        if _layer(target) == "handlers"
    ]
    assert importers == []


def test_provider_sdks_live_in_integrations() -> None:
    # boto3 and httpx clients are built in integrations/ only (services get them through Protocols)
    offenders = [
        f"{module}:{line}"
        for module, imports in GRAPH.items()
        for imported, _, line in imports
        if imported.split(".")[0] in {"boto3", "botocore", "httpx"} and _layer(module) != "integrations"
    ]
    assert offenders == []


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = [
        f"{module}:{line} takes {name} from {imported}"
        for module, imports in GRAPH.items()
        for imported, names, line in imports
        if imported.startswith("assistec")
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert offenders == []


def test_the_handlers_hold_no_sql() -> None:
    # Handlers parse, call one service and shape the answer: no SQL and no repository calls
    offenders = [
        f"{module}:{line}"
        for module, imports in GRAPH.items()
        if _layer(module) == "handlers"
        for imported, names, line in imports
        if any(_layer(t) == "db" for t in _ours(imported, names))
    ]
    assert offenders == []
