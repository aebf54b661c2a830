"""The JSON Schema of a catalog file, for editors (``modelregistry catalog schema``)."""

from __future__ import annotations

from typing import Any

from modelregistry.domain.documents import SCHEMA_VERSION
from modelregistry.domain.models import ModelConfig
from modelregistry.domain.rates import COMPONENTS, SERVICE_TIERS

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
    by_model = {"type": "object", "propertyNames": {"type": "string", "minLength": 1}}
    return {
        "$schema": _DIALECT,
        "title": "modelregistry catalog",
        "description": (
            f"Version {SCHEMA_VERSION} (written by export); a document of version 1 (models "
            "only: schema_version 1 or absent, and no other key) is still read."
        ),
        "type": "object",
        "properties": {
            "schema_version": {"enum": [1, SCHEMA_VERSION]},
            "exported_at": {"type": ["string", "null"], "format": "date-time"},
            "models": {"type": "array", "items": {"$ref": "#/$defs/ModelConfig"}},
            "aliases": {**by_model, "additionalProperties": {"type": "string"}},
            "prices": {
                **by_model,
                "additionalProperties": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/$defs/Price"},
                },
            },
            "sync_bases": {**by_model, "additionalProperties": {"$ref": "#/$defs/SyncBase"}},
            "sync_sources": {"type": "array", "items": {"$ref": "#/$defs/SyncSource"}},
        },
        "required": ["models"],
        "additionalProperties": False,
        "$defs": {**definitions, "ModelConfig": model, **_STATE_DEFINITIONS},
    }


_MONEY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,10})?$"}
_INSTANT = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string", "minLength": 1}
_OPTIONAL_TEXT = {"type": ["string", "null"]}


def _record(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_STATE_DEFINITIONS: dict[str, Any] = {
    "Price": _record(
        {
            "effective_from": _INSTANT,
            "input_per_1m": _MONEY,
            "output_per_1m": _MONEY,
            "cached_input_per_1m": {"anyOf": [_MONEY, {"type": "null"}]},
            "recorded_at": _INSTANT,
            "actor": _TEXT,
            "reason": _OPTIONAL_TEXT,
            "rates": {"type": "array", "items": {"$ref": "#/$defs/Rate"}},
        },
        optional=("reason", "rates"),
    ),
    "Rate": _record(
        {
            "component": {"enum": list(COMPONENTS)},
            "amount": _MONEY,
            "service_tier": {"enum": list(SERVICE_TIERS)},
            "above_tokens": {"type": "integer", "minimum": 0},
        },
        optional=("service_tier", "above_tokens"),
    ),
    "SyncBase": _record(
        {
            "kind": _TEXT,
            "location": _TEXT,
            "content_sha256": _TEXT,
            "etag": _OPTIONAL_TEXT,
            "synced_at": _INSTANT,
            "removed_by_sync": {"type": "boolean"},
            "fields": {"type": "object"},
        }
    ),
    "SyncSource": _record(
        {
            "kind": _TEXT,
            "location": _TEXT,
            "etag": _OPTIONAL_TEXT,
            "content_sha256": _TEXT,
            "synced_at": _INSTANT,
            "valid_models": {"type": "integer", "minimum": 0},
        }
    ),
}
