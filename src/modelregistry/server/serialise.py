"""The JSON forms the server answers with: money as exact decimal text, instants in ISO 8601."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.pricing import decimal_text
from modelregistry.domain.rates import rate_json
from modelregistry.domain.rules import exact_decimal

if TYPE_CHECKING:
    from modelregistry.domain.history import FieldChange, ModelRevision
    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.pricing import Price

MONEY_FIELDS: Final = ("cost_per_1m_input_tokens", "cost_per_1m_output_tokens")


def dumps(data: object) -> bytes:
    """Compact UTF-8 JSON, the one encoding of every body."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def model_json(model: ModelConfig) -> dict[str, Any]:
    """Every field of a model and its version; prices as exact decimal text."""
    data = model.to_dict()
    for name in MONEY_FIELDS:
        data[name] = decimal_text(exact_decimal(getattr(model, name)))
    return data


def openai_model(model: ModelConfig, created: int) -> dict[str, Any]:
    """A model in the shape of OpenAI's ``GET /v1/models`` (``owned_by``: the provider)."""
    return {"id": model.model_id, "object": "model", "created": created, "owned_by": model.provider}


def price_json(price: Price) -> dict[str, Any]:
    """A price: money as decimal text, instants in ISO 8601."""
    cached = price.cached_input_per_1m
    until = price.effective_until
    return {
        "model_id": price.model_id,
        "currency": price.currency,
        "input_per_1m": decimal_text(price.input_per_1m),
        "output_per_1m": decimal_text(price.output_per_1m),
        "cached_input_per_1m": None if cached is None else decimal_text(cached),
        "effective_from": price.effective_from.isoformat(),
        "effective_until": None if until is None else until.isoformat(),
        "recorded_at": price.recorded_at.isoformat(),
        "actor": price.actor,
        "reason": price.reason,
        "rates": [rate_json(rate) for rate in price.rates],
    }


def revision_json(revision: ModelRevision, changes: list[FieldChange]) -> dict[str, Any]:
    """One version of a model's history with what changed from the version before."""
    data = revision.to_dict()
    data["config"] = model_json(revision.config.with_version(revision.version))
    data["diff"] = [change.to_dict() for change in changes]
    return data


def error_body(code: str, message: str, **extra: object) -> bytes:
    """``{"error": {"code", "message", ...}}``."""
    return dumps({"error": {"code": code, "message": message, **extra}})
