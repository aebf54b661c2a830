"""modelregistry: a database-backed catalog of LLMs.

>>> from modelregistry import ModelRegistry
>>> with ModelRegistry("sqlite://") as registry:
...     [m.model_id for m in registry.get_models_by_capability("vision")]
['llava-llama3:latest']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.cache.cache import CatalogEvent
from modelregistry.domain.aliases import AliasState
from modelregistry.domain.history import ChangeKind, FieldChange, ModelRevision
from modelregistry.domain.models import ModelCapabilities, ModelConfig, ModelStatus, QualityScores
from modelregistry.domain.pricing import Price
from modelregistry.errors import (
    ERROR_CODES,
    ConcurrentModificationError,
    DatabaseError,
    DatabaseUnavailableError,
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

__version__ = "0.1.0"
"""The version of modelregistry: written only here (pyproject.toml reads it from this line)."""

__all__ = [
    "ERROR_CODES",
    "AliasState",
    "AsyncModelRegistry",
    "CatalogEvent",
    "ChangeKind",
    "ConcurrentModificationError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "FieldChange",
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
    "SchemaOutdatedError",
    "SchemaUnknownError",
    "Violation",
    "__version__",
]


def __getattr__(name: str) -> object:
    """Import AsyncModelRegistry on first use: asyncio support is an optional extra."""
    if name == "AsyncModelRegistry":
        try:
            from modelregistry.aio import AsyncModelRegistry  # noqa: PLC0415 - on first use
        except ImportError as exc:
            msg = (
                f"AsyncModelRegistry needs the asyncio extra ({exc}): "
                "pip install 'modelregistry[async]'"
            )
            raise ImportError(msg, name=exc.name) from exc
        return AsyncModelRegistry
    msg = f"module 'modelregistry' has no attribute {name!r}"
    raise AttributeError(msg)
