"""The OpenAPI 3.1 document of ``modelregistry serve`` (``GET /openapi.json``)."""

from __future__ import annotations

from typing import Any

from modelregistry import __version__
from modelregistry.domain.descriptors import MODALITIES, ModelMode
from modelregistry.domain.models import ModelStatus
from modelregistry.domain.query import ORDER_FIELDS
from modelregistry.domain.rates import CACHE_TTLS, SERVICE_TIERS

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_STRING = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_MONEY = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}
_MODEL = {
    "type": "object",
    "required": [
        "model_id",
        "provider",
        "context_window",
        "max_output_tokens",
        "status",
        "version",
    ],
    "properties": {
        "model_id": _STRING,
        "provider": _STRING,
        "display_name": _STRING,
        "capabilities": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "context_window": _INT,
        "max_output_tokens": _INT,
        "cost_per_1m_input_tokens": _MONEY,
        "cost_per_1m_output_tokens": _MONEY,
        "status": _STRING,
        "quality_scores": {"type": "object", "additionalProperties": {"type": "number"}},
        "version": _INT,
    },
}
_OPENAI_MODEL = {
    "type": "object",
    "required": ["id", "object", "created", "owned_by"],
    "properties": {
        "id": _STRING,
        "object": {"const": "model"},
        "created": _INT,
        "owned_by": _STRING,
    },
}
_CHANGE = {
    "type": "object",
    "required": ["revision", "model_id", "change", "version"],
    "properties": {"revision": _INT, "model_id": _STRING, "change": _STRING, "version": _INT},
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(_ERROR, "error") for status in statuses}


def _query(
    name: str, schema: dict[str, Any], *, required: bool = False, many: bool = False
) -> dict[str, Any]:
    shape = {"type": "array", "items": schema} if many else schema
    return {"name": name, "in": "query", "required": required, "schema": shape, "explode": True}


_ID = {
    "name": "model_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
}
_CACHED = {"304": {"description": "Not modified (If-None-Match holds the ETag)"}}


def _get(
    summary: str,
    ok: dict[str, Any],
    *,
    parameters: list[Any] | None = None,
    errors: tuple[int, ...] = (401, 503),
    cached: bool = True,
) -> dict[str, Any]:
    responses = {"200": ok, **(_CACHED if cached else {}), **_errors(*errors)}
    return {"get": {"summary": summary, "parameters": parameters or [], "responses": responses}}


def document() -> dict[str, Any]:
    """The document: every route, its parameters and its answers."""
    listing = {
        "type": "object",
        "required": ["object", "data"],
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": _OPENAI_MODEL},
        },
    }
    page = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "array", "items": _MODEL},
            "next_cursor": _STRING,
            "revision": _INT,
        },
    }
    model_filters = [
        _query("capabilities", _STRING, many=True),
        _query("any_capabilities", _STRING, many=True),
        _query("providers", _STRING, many=True),
        _query(
            "statuses",
            {"type": "string", "enum": [status.value for status in ModelStatus]},
            many=True,
        ),
        _query("min_context_window", _INT),
        _query("min_max_output_tokens", _INT),
        _query("max_cost_per_1m_input", {"type": "number", "minimum": 0}),
        _query("max_cost_per_1m_output", {"type": "number", "minimum": 0}),
        _query("max_latency_p50_ms", _INT),
        _query("input_modalities", {"enum": list(MODALITIES)}, many=True),
        _query("output_modalities", {"enum": list(MODALITIES)}, many=True),
        _query("mode", {"enum": [mode.value for mode in ModelMode]}, many=True),
        _query("open_weights", {"type": "boolean"}),
        _query("order_by", {"enum": [*ORDER_FIELDS, *(f"-{name}" for name in ORDER_FIELDS)]}),
        _query("q", _STRING),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
        _query("cursor", _STRING),
    ]
    paths = {
        "/v1/models": _get("Models in OpenAI's list shape", _json(listing)),
        "/v1/models/{model_id}": _get(
            "One model in OpenAI's shape",
            _json(_OPENAI_MODEL),
            parameters=[_ID],
            errors=(401, 404, 503),
        ),
        "/api/models": _get(
            "Full records, filtered, ordered and paged",
            _json(page),
            parameters=model_filters,
            errors=(400, 401, 503),
        ),
        "/api/models/{model_id}": _get(
            "One full record (also /history, /prices, /prices.svg)",
            _json(_MODEL),
            parameters=[_ID],
            errors=(401, 404, 503),
        ),
        "/api/cost": _get(
            "The exact cost of a request",
            _json({"type": "object", "required": ["cost"], "properties": {"cost": _MONEY}}),
            parameters=[
                _query("model", {"type": "string", "minLength": 1}, required=True),
                _query("input_tokens", _INT),
                _query("output_tokens", _INT),
                _query("cached_input_tokens", _INT),
                _query("cache_write_tokens", _INT),
                _query("cache_write_ttl", {"enum": list(CACHE_TTLS)}),
                _query("reasoning_tokens", _INT),
                _query("service_tier", {"enum": list(SERVICE_TIERS)}),
                _query("at", {"type": "string", "format": "date-time"}),
            ],
            errors=(400, 401, 404, 503),
        ),
        "/api/providers": _get("Providers and their model counts", _json({"type": "object"})),
        "/api/capabilities": _get("Capabilities in use", _json({"type": "object"})),
        "/api/stats": _get("Counts of the catalog", _json({"type": "object"})),
        "/api/changes": _get(
            "Changes after a revision (long-poll)",
            _json(
                {
                    "type": "object",
                    "required": ["revision", "changes"],
                    "properties": {
                        "revision": _INT,
                        "changes": {"type": "array", "items": _CHANGE},
                    },
                }
            ),
            parameters=[
                _query("since", _INT),
                _query("wait", {"type": "integer", "minimum": 0, "maximum": 60}),
            ],
            errors=(400, 401, 410, 503),
            cached=False,
        ),
        "/healthz": _get(
            "Health: the database answers",
            {"description": "healthy", "content": {"text/plain": {"schema": _STRING}}},
            errors=(503,),
            cached=False,
        ),
        "/readyz": _get(
            "Ready: the catalog is loaded",
            _json({"type": "object"}),
            errors=(401, 503),
            cached=False,
        ),
        "/metrics": _get(
            "Prometheus metrics",
            {"description": "metrics", "content": {"text/plain": {"schema": _STRING}}},
            cached=False,
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "modelregistry", "version": __version__},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
