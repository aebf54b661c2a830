"""The JSON Schema of a catalog file, for editors (``modelregistry catalog schema``)."""

from __future__ import annotations

from typing import Any

from modelregistry.domain.documents import SCHEMA_VERSION
from modelregistry.domain.models import ModelConfig

__all__ = ["catalog_json_schema"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def catalog_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a catalog document, generated from ModelConfig.

    ``version`` is left out: the registry assigns it and a catalog file cannot give it. The
    schema states the fields, their types and bounds; rules across fields (retirement after
    deprecation, p99 latency not below p50) are checked on import.
    """
    model = ModelConfig.model_json_schema(mode="validation")
    definitions = model.pop("$defs", {})
    model["properties"].pop("version", None)
    return {
        "$schema": _DIALECT,
        "title": "modelregistry catalog",
        "type": "object",
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "models": {"type": "array", "items": {"$ref": "#/$defs/ModelConfig"}},
        },
        "required": ["models"],
        "additionalProperties": False,
        "$defs": {**definitions, "ModelConfig": model},
    }
