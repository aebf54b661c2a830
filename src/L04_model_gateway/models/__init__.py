"""The seed's ``L04_model_gateway.models``: re-exports the domain objects and error classes."""

from modelregistry import (
    InvalidModelConfigError,
    ModelCapabilities,
    ModelConfig,
    ModelNotFoundError,
    ModelRegistryError,
    ModelStatus,
    QualityScores,
)

__all__ = [
    "InvalidModelConfigError",
    "ModelCapabilities",
    "ModelConfig",
    "ModelNotFoundError",
    "ModelRegistryError",
    "ModelStatus",
    "QualityScores",
]
