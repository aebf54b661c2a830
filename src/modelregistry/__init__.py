"""modelregistry: a database-backed catalog of LLMs.

>>> from modelregistry import ModelRegistry
>>> with ModelRegistry("sqlite://") as registry:
...     [m.model_id for m in registry.get_models_by_capability("vision")]
['llava-llama3:latest']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from modelregistry.errors import (
    ERROR_CODES,
    AliasNotFoundError,
    CatalogNotReadyError,
    CatalogWriteError,
    ConcurrentModificationError,
    DatabaseError,
    DatabaseReplacedError,
    DatabaseUnavailableError,
    FeedConfigurationError,
    InvalidArgumentError,
    InvalidCatalogFileError,
    InvalidModelConfigError,
    MigrationError,
    ModelNotFoundError,
    ModelRegistryError,
    ModelVersionNotFoundError,
    OverrideNotFoundError,
    PriceComponentNotFoundError,
    PriceNotFoundError,
    RevisionGoneError,
    RouteNotFoundError,
    SchemaOutdatedError,
    SchemaUnknownError,
    SyncRefusedError,
    UnauthorizedError,
    UpstreamDocumentError,
    UpstreamFetchError,
    Violation,
)

if TYPE_CHECKING:
    from modelregistry.aio import AsyncModelRegistry
    from modelregistry.cache.cache import CatalogEvent
    from modelregistry.domain.aliases import AliasState
    from modelregistry.domain.descriptors import ModelMode
    from modelregistry.domain.documents import ImportResult
    from modelregistry.domain.history import ChangeKind, FieldChange, ModelRevision
    from modelregistry.domain.models import (
        ModelCapabilities,
        ModelConfig,
        ModelStatus,
        QualityScores,
    )
    from modelregistry.domain.pricing import Price
    from modelregistry.domain.rates import ComponentCost, CostBreakdown, Rate
    from modelregistry.domain.upstream.convert import InvalidEntry
    from modelregistry.domain.upstream.plan import HeldChange, ProtectedField, SyncPlan, SyncUpdate
    from modelregistry.domain.upstream.records import Override, Provenance, SyncResult
    from modelregistry.metrics.prometheus import Health, RegistryMetrics
    from modelregistry.registry import ModelRegistry

__version__ = "0.1.0"
"""The version of modelregistry: written only here (pyproject.toml reads it from this line)."""

__all__ = [
    "ERROR_CODES",
    "AliasNotFoundError",
    "AliasState",
    "AsyncModelRegistry",
    "CatalogEvent",
    "CatalogNotReadyError",
    "CatalogWriteError",
    "ChangeKind",
    "ComponentCost",
    "ConcurrentModificationError",
    "CostBreakdown",
    "DatabaseError",
    "DatabaseReplacedError",
    "DatabaseUnavailableError",
    "FeedConfigurationError",
    "FieldChange",
    "Health",
    "HeldChange",
    "ImportResult",
    "InvalidArgumentError",
    "InvalidCatalogFileError",
    "InvalidEntry",
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
    "Override",
    "OverrideNotFoundError",
    "Price",
    "PriceComponentNotFoundError",
    "PriceNotFoundError",
    "ProtectedField",
    "Provenance",
    "QualityScores",
    "Rate",
    "RegistryMetrics",
    "RevisionGoneError",
    "RouteNotFoundError",
    "SchemaOutdatedError",
    "SchemaUnknownError",
    "SyncPlan",
    "SyncRefusedError",
    "SyncResult",
    "SyncUpdate",
    "UnauthorizedError",
    "UpstreamDocumentError",
    "UpstreamFetchError",
    "Violation",
    "__version__",
]


_LAZY: dict[str, str] = {
    "AsyncModelRegistry": "modelregistry.aio",
    "CatalogEvent": "modelregistry.cache.cache",
    "AliasState": "modelregistry.domain.aliases",
    "ImportResult": "modelregistry.domain.documents",
    "ChangeKind": "modelregistry.domain.history",
    "FieldChange": "modelregistry.domain.history",
    "ModelRevision": "modelregistry.domain.history",
    "ModelCapabilities": "modelregistry.domain.models",
    "ModelConfig": "modelregistry.domain.models",
    "ModelStatus": "modelregistry.domain.models",
    "ModelMode": "modelregistry.domain.descriptors",
    "QualityScores": "modelregistry.domain.models",
    "Price": "modelregistry.domain.pricing",
    "ComponentCost": "modelregistry.domain.rates",
    "CostBreakdown": "modelregistry.domain.rates",
    "Rate": "modelregistry.domain.rates",
    "InvalidEntry": "modelregistry.domain.upstream.convert",
    "HeldChange": "modelregistry.domain.upstream.plan",
    "ProtectedField": "modelregistry.domain.upstream.plan",
    "SyncPlan": "modelregistry.domain.upstream.plan",
    "SyncUpdate": "modelregistry.domain.upstream.plan",
    "Override": "modelregistry.domain.upstream.records",
    "Provenance": "modelregistry.domain.upstream.records",
    "SyncResult": "modelregistry.domain.upstream.records",
    "ModelRegistry": "modelregistry.registry",
    "Health": "modelregistry.metrics.prometheus",
    "RegistryMetrics": "modelregistry.metrics.prometheus",
}
"""Names imported on first use, and their modules: asyncio support is an optional extra,
``prometheus_client`` loads only when metrics are asked for, and the command line parses its
arguments before SQLAlchemy and pydantic are imported (``modelregistry --help`` stays fast)."""


def __getattr__(name: str) -> object:
    """Import a name of :data:`_LAZY` on first use."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'modelregistry' has no attribute {name!r}"
        raise AttributeError(msg)
    try:
        value: object = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        if name != "AsyncModelRegistry":
            raise
        msg = (
            f"AsyncModelRegistry needs the asyncio extra ({exc}): "
            "pip install 'modelregistry[async]'"
        )
        raise ImportError(msg, name=exc.name) from exc
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted(set(globals()) | set(__all__))
