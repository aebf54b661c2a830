"""modelregistry: a database-backed catalog of LLMs.

>>> from modelregistry import ModelRegistry
>>> with ModelRegistry("sqlite://") as registry:
...     [m.model_id for m in registry.get_models_by_capability("vision")]
['llava-llama3:latest']
"""

from __future__ import annotations

from modelregistry.cache import CatalogEvent
from modelregistry.domain import ModelCapabilities, ModelConfig, ModelStatus, QualityScores
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
    SchemaOutdatedError,
    SchemaUnknownError,
    Violation,
)
from modelregistry.history import ChangeKind, FieldChange, ModelRevision
from modelregistry.registry import ModelRegistry

__version__ = "0.1.0"

__all__ = [
    "ERROR_CODES",
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
    "QualityScores",
    "SchemaOutdatedError",
    "SchemaUnknownError",
    "Violation",
    "__version__",
]
