"""modelregistry: a database-backed catalog of LLMs.

>>> from modelregistry import ModelRegistry
>>> with ModelRegistry("sqlite://") as registry:
...     [m.model_id for m in registry.get_models_by_capability("vision")]
['llava-llama3:latest']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from modelregistry.cache.cache import CatalogEvent
from modelregistry.domain.aliases import AliasState
from modelregistry.domain.documents import ImportResult
from modelregistry.domain.history import ChangeKind, FieldChange, ModelRevision
from modelregistry.domain.models import ModelCapabilities, ModelConfig, ModelStatus, QualityScores
from modelregistry.domain.pricing import Price
from modelregistry.errors import (
    ERROR_CODES,
    AliasNotFoundError,
    ConcurrentModificationError,
    DatabaseError,
    DatabaseUnavailableError,
    FeedConfigurationError,
    InvalidArgumentError,
    InvalidCatalogFileError,
    InvalidModelConfigError,
    MigrationError,
    ModelNotFoundError,
    ModelRegistryError,
    ModelVersionNotFoundError,
    PriceNotFoundError,
    SchemaOutdatedError,
    SchemaUnknownError,
    Violation,
)
from modelregistry.registry import ModelRegistry

if TYPE_CHECKING:
    from modelregistry.aio import AsyncModelRegistry
    from modelregistry.metrics.prometheus import Health, RegistryMetrics

__version__ = "0.1.0"
"""The version of modelregistry: written only here (pyproject.toml reads it from this line)."""

__all__ = [
    "ERROR_CODES",
    "AliasNotFoundError",
    "AliasState",
    "AsyncModelRegistry",
    "CatalogEvent",
    "ChangeKind",
    "ConcurrentModificationError",
    "DatabaseError",
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
    "SchemaOutdatedError",
    "SchemaUnknownError",
    "Violation",
    "__version__",
]


_LAZY: dict[str, str] = {
    "AsyncModelRegistry": "modelregistry.aio",
    "Health": "modelregistry.metrics.prometheus",
    "RegistryMetrics": "modelregistry.metrics.prometheus",
}
"""Names imported on first use, and their modules: asyncio support is an optional extra, and
``prometheus_client`` loads only when metrics are asked for."""


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
