"""The seed's ``L04_model_gateway.services.model_registry``: re-exports the registry."""

from modelregistry import ModelRegistry

__all__ = ["ModelRegistry"]
