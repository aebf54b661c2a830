"""The public surface of ``modelregistry``: exactly these names, each documented, loaded lazily
where it would pull in an optional or heavy dependency, and every type a user receives among
them."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import subprocess
import sys
from functools import cache
from typing import TYPE_CHECKING

import pytest

import modelregistry

if TYPE_CHECKING:
    from types import ModuleType

EXPECTED = {
    "AliasNotFoundError",
    "ERROR_CODES",
    "AliasState",
    "AsyncModelRegistry",
    "CatalogEvent",
    "CatalogNotReadyError",
    "ChangeKind",
    "CatalogWriteError",
    "ConcurrentModificationError",
    "DatabaseError",
    "DatabaseReplacedError",
    "DatabaseUnavailableError",
    "FeedConfigurationError",
    "FieldChange",
    "Health",
    "ImportResult",
    "InvalidArgumentError",
    "InvalidCatalogFileError",
    "InvalidModelConfigError",
    "MigrationError",
    "ModelCapabilities",
    "ModelConfig",
    "ModelMode",
    "ModelNotFoundError",
    "ModelRegistry",
    "ModelRegistryError",
    "ModelRevision",
    "ModelStatus",
    "ModelVersionNotFoundError",
    "Price",
    "PriceNotFoundError",
    "QualityScores",
    "RegistryMetrics",
    "RevisionGoneError",
    "RouteNotFoundError",
    "SchemaOutdatedError",
    "SchemaUnknownError",
    "UnauthorizedError",
    "Violation",
    "__version__",
    "OverrideNotFoundError",
    "SyncRefusedError",
    "HeldChange",
    "InvalidEntry",
    "Override",
    "ProtectedField",
    "Provenance",
    "SyncPlan",
    "SyncResult",
    "SyncUpdate",
    "UpstreamDocumentError",
    "UpstreamFetchError",
    # Issue 17's price components.
    "ComponentCost",
    "CostBreakdown",
    "PriceComponentNotFoundError",
    "Rate",
}
"""Adding or removing a public name is a decision: make it here too."""

LAZY = {
    "AsyncModelRegistry",
    "Health",
    "RegistryMetrics",
    "CatalogEvent",
    "AliasState",
    "ImportResult",
    "ChangeKind",
    "FieldChange",
    "ModelRevision",
    "ModelCapabilities",
    "ModelConfig",
    "ModelStatus",
    "ModelMode",
    "QualityScores",
    "Price",
    "ModelRegistry",
    # Issue 16's sync records.
    "InvalidEntry",
    "HeldChange",
    "ProtectedField",
    "SyncPlan",
    "SyncUpdate",
    "Override",
    "Provenance",
    "SyncResult",
    # Issue 17's price components.
    "ComponentCost",
    "CostBreakdown",
    "Rate",
}
"""Loaded on first use: the asyncio extra, prometheus_client, and everything that imports
SQLAlchemy or pydantic (the command line parses its arguments before loading them)."""

NOT_LOADED_BY_IMPORT = ("prometheus_client", "sqlalchemy.ext.asyncio", "aiosqlite")


def test_all_is_exactly_the_expected_surface() -> None:
    assert set(modelregistry.__all__) == EXPECTED
    assert len(modelregistry.__all__) == len(EXPECTED), "a name is listed twice"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_public_name_imports_and_has_a_docstring(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from modelregistry import {name}", namespace)  # noqa: S102 - the import users write
    value = namespace[name]
    assert value is getattr(modelregistry, name)
    assert _docstring(name, value), f"{name} has no docstring"


def test_lazy_names_are_declared_for_type_checkers() -> None:
    tree = ast.parse(inspect.getsource(modelregistry))
    guarded = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for statement in node.body
        if isinstance(statement, ast.ImportFrom)
        for alias in statement.names
    }
    assert guarded == LAZY


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'ModelRegistri'"):
        _ = modelregistry.ModelRegistri


def test_import_loads_neither_prometheus_client_nor_asyncio_support() -> None:
    script = (
        "import json, sys\n"
        "def loaded():\n"
        f"    return sorted(p for p in {NOT_LOADED_BY_IMPORT!r} if p in sys.modules)\n"
        "import modelregistry\n"
        "steps = [loaded()]\n"
        "modelregistry.RegistryMetrics, modelregistry.Health, modelregistry.AsyncModelRegistry\n"
        "steps.append(loaded())\n"
        "import sqlalchemy.ext.asyncio, aiosqlite\n"
        "steps.append(loaded())\n"
        "print(json.dumps(steps))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    imported, lazy_names_used, all_imported = json.loads(run.stdout)
    assert imported == []
    # The lazy names load prometheus_client; asyncio support waits for an async engine.
    assert lazy_names_used == ["prometheus_client"]
    assert all_imported == sorted(NOT_LOADED_BY_IMPORT), "the check would not see them"


def test_every_type_a_public_method_returns_is_exported() -> None:
    seen: set[str] = set()
    pending = [modelregistry.ModelRegistry, modelregistry.AsyncModelRegistry]
    while pending:
        for name, module in _received_types(pending.pop()):
            if name not in seen:
                seen.add(name)
                pending.append(getattr(importlib.import_module(module), name))
    assert seen - set(modelregistry.__all__) == set()
    assert {"ImportResult", "RegistryMetrics", "Health", "Price", "CatalogEvent"} <= seen


# -- helpers -------------------------------------------------------------------------------


def _docstring(name: str, value: object) -> str | None:
    """The docstring of ``name`` where it is defined (an attribute docstring for data)."""
    if isinstance(value, type) or inspect.isfunction(value):
        module = sys.modules[value.__module__]
    else:
        module = importlib.import_module(_origins(modelregistry).get(name, "modelregistry"))
    body = ast.parse(inspect.getsource(module)).body
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
            return ast.get_docstring(node)
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            documented = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
            return str(after.value.value) if documented else None  # type: ignore[union-attr]
    return None


@cache
def _origins(module: ModuleType) -> dict[str, str]:
    """Each class a module defines or imports (under TYPE_CHECKING too) -> its module."""
    tree = ast.parse(inspect.getsource(module))
    origins = {node.name: module.__name__ for node in tree.body if isinstance(node, ast.ClassDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            origins.update({alias.asname or alias.name: node.module for alias in node.names})
    return origins


def _received_types(cls: type) -> set[tuple[str, str]]:
    """(name, module) of the modelregistry classes ``cls`` hands out: returned by its public
    methods and properties, passed to callbacks, or held in its public fields."""
    found: set[tuple[str, str]] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("modelregistry"):
            continue
        origins = _origins(sys.modules[klass.__module__])
        annotations = [
            text for field, text in vars(klass).get("__annotations__", {}).items()
            if not field.startswith("_")
        ]  # fmt: skip
        for attribute, member in vars(klass).items():
            function = member.fget if isinstance(member, property) else member
            function = getattr(function, "__func__", function)
            if attribute.startswith("_") or not inspect.isfunction(function):
                continue
            hints = inspect.get_annotations(function)
            annotations.append(str(hints.get("return", "")))
            annotations += re.findall(r"Callable\[\[([^\]]*)\]", " ".join(map(str, hints.values())))
        for word in re.findall(r"[A-Za-z_]\w*", " ".join(map(str, annotations))):
            origin = origins.get(word, "")
            if origin.startswith("modelregistry") and isinstance(
                getattr(importlib.import_module(origin), word, None), type
            ):
                found.add((word, origin))
    return found
